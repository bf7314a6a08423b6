import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createActivityLog } from "../../src/observe/activity.ts";
import { createMetrics, type ModelGauge } from "../../src/observe/metrics.ts";
import { relabelUpstreamMetrics } from "../../src/observe/upstream-metrics.ts";
import { concrete, dashboardQueries, exposes, metricNames, readDashboard } from "../fixtures/grafana-dashboard.ts";

/** /metrics after one of every observation the metrics count, plus an upstream scrape. */
function exposition(): string {
  let t = 1_000_000;
  const now = () => t;
  const models: ModelGauge[] = [{ model: "a", state: "ready", inFlight: 1, queued: 2 }];
  const m = createMetrics({ models: () => models, rssBytes: () => 1, system: () => ({ memTotalBytes: 10, memFreeBytes: 4, load: [1, 1, 1] }), now });
  m.observe({ type: "request", id: 1, model: "a", phase: "admitted", at: now() });
  t += 10;
  m.observe({ type: "request", id: 1, model: "a", phase: "granted", at: now() });
  m.observe({ type: "swap-start", swapId: 1, target: "a", evict: [], reason: "cold-start", at: now() });
  m.observe({ type: "drain-start", model: "a", cause: "evict", inFlight: 1, deadline: now(), at: now() });
  m.observe({ type: "load-ready", model: "a", ms: 100, at: now() });
  m.observe({ type: "load-failed", model: "a", ms: 100, at: now() });
  m.observe({ type: "crash", model: "a", exitCode: 1, signal: null, at: now() });
  m.observe({ type: "ttl-unload", model: "a", at: now() });
  for (const phase of ["severed", "cancelled", "refused"] as const) m.observe({ type: "request", id: 2, model: "a", phase, at: now(), error: { kind: "concurrency_limit", message: "busy" } });
  const log = createActivityLog({ sink: (record) => m.observe({ type: "activity", record }), now });
  const h = log.begin({ model: "a", peer: "", path: "/v1/chat/completions", client: "", bytesIn: 1, streamed: true });
  h.response(200, "text/event-stream");
  h.chunk(new TextEncoder().encode('data: {"choices":[{"delta":{"content":"Hi"}}]}\n\ndata: {"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\n'));
  h.end("ok");
  return `${m.render()}\n${relabelUpstreamMetrics([{ model: "a", text: null }], new Set())}`;
}

describe("grafana dashboard", () => {
  test("every panel queries something, and every metric it names is one switchyard exports", async () => {
    const text = exposition();
    const queries = await dashboardQueries();
    expect(queries.length).toBeGreaterThan(20);
    const missing: string[] = [];
    for (const q of queries) {
      const names = metricNames(q.expr);
      if (names.length === 0) missing.push(`${q.panel}: no metric in ${q.expr}`);
      // llama-server's own families are checked against a real llama-server (test/e2e/llama-server.test.ts).
      for (const n of names) if (!n.startsWith("llamacpp:") && !exposes(text, n)) missing.push(`${q.panel}: ${n}`);
    }
    expect(missing).toEqual([]);
  });

  test("its panels have distinct ids and sit on the grid without overlapping", async () => {
    const d = (await readDashboard()) as unknown as { panels: { id: number; gridPos: { x: number; y: number; w: number; h: number } }[] };
    expect(new Set(d.panels.map((p) => p.id)).size).toBe(d.panels.length);
    const cells = new Set<string>();
    for (const p of d.panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`)).toBe(false);
          cells.add(`${x},${y}`);
        }
    }
  });

  const promtool = Bun.which("promtool");
  const withPromtool = promtool || process.env.CI ? test : test.skip;
  if (!promtool && !process.env.CI) console.log("grafana dashboard: skipping the PromQL parse (promtool missing: apt-get install prometheus)");
  withPromtool("every expression parses as PromQL (promtool check rules)", async () => {
    if (!promtool) throw new Error("promtool missing: apt-get install prometheus");
    const queries = (await dashboardQueries()).filter((q) => !q.panel.startsWith("$"));
    const rules = { groups: [{ name: "dashboard", rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: concrete(q.expr) })) }] };
    const dir = mkdtempSync(join(tmpdir(), "sy-grafana-"));
    try {
      const file = join(dir, "rules.json");
      // JSON is YAML: promtool reads it as a rules file.
      writeFileSync(file, JSON.stringify(rules));
      const p = Bun.spawnSync([promtool, "check", "rules", file], { stdout: "pipe", stderr: "pipe" });
      expect({ code: p.exitCode, out: `${p.stdout}${p.stderr}` }).toMatchObject({ code: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
