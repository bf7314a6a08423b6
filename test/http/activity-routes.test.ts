/**
 * Activity over real parts: the app on a socket, the real router and supervisors running the
 * simulated backend, activity and observations composed as in serve mode. Records are read back
 * through `/api/metrics/activity` and `/api/metrics/stats`, as a client would.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createActivityLog, type ActivityRecord } from "../../src/observe/activity.ts";
import { createBroadcast } from "../../src/observe/broadcast.ts";
import { createMetrics } from "../../src/observe/metrics.ts";
import type { ObserveEvent } from "../../src/observe/events.ts";
import { observeSupervisor } from "../../src/observe/supervisor-events.ts";
import { createSupervisor } from "../../src/process/supervisor.ts";
import type { Supervisor } from "../../src/process/types.ts";
import { createRouter } from "../../src/router/router.ts";
import { simModel } from "../fixtures/sim-model.ts";
import { waitFor } from "../fixtures/wait.ts";
import { makeConfig, quietLogs, startApp } from "./helpers.ts";

const logs = quietLogs();
const config = makeConfig(
  [
    simModel(["--report", "usage", "--tokens", "7"], { id: "usage" }),
    simModel(["--report", "timings", "--tokens", "5", "--tps", "500"], { id: "timings" }),
    simModel(["--stall-after", "2", "--tokens", "50"], { id: "stall", drainTimeout: 0.2 }),
    simModel(["--tokens", "60", "--tps", "30"], { id: "slow", drainTimeout: 30 }),
    simModel(["--tokens", "3"], { id: "other" }),
  ],
  {
    routing: {
      router: "group",
      groups: [
        { id: "side", members: ["usage", "timings"], swap: false, exclusive: false, persistent: true },
        { id: "one", members: ["stall", "slow", "other"], swap: true, exclusive: false, persistent: false },
      ],
      matrix: null,
      scheduler: "fifo",
      fifo: { priority: {}, maxWait: 0.1 },
    },
  },
);
const events = createBroadcast<ObserveEvent>();
const seen: ObserveEvent[] = [];
events.subscribe((d) => void (d.kind === "event" && seen.push(d.event)), { maxQueued: 100_000 });
const metrics = createMetrics({
  models: () => router.status().map((s) => ({ model: s.model, state: s.state, inFlight: s.inFlight, queued: s.queued })),
  rssBytes: () => process.memoryUsage.rss(),
  system: () => null,
  now: Date.now,
});
// As in serve mode: counted at once, then published.
const observe = (ev: ObserveEvent): void => {
  metrics.observe(ev);
  events.publish(ev);
};
const activity = createActivityLog({ sink: (record) => observe({ type: "activity", record }) });
const supervisors = new Map<string, Supervisor>();
for (const m of Object.values(config.models)) {
  const sup = createSupervisor({ model: m, logs });
  observeSupervisor(sup, observe);
  supervisors.set(m.id, sup);
}
const router = createRouter({ config, supervisors, log: logs.log, observe });
const app = startApp({ config, router, logs, models: supervisors, events, activity, metrics });

afterAll(async () => {
  app.stop();
  await router.shutdown();
});

const chat = (model: string, stream: boolean, signal?: AbortSignal) =>
  fetch(`${app.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "count to ten for me please" }] }),
    signal,
  });

/** Activity records of `model`, newest first, as the API gives them. */
async function records(model: string): Promise<ActivityRecord[]> {
  const res = await fetch(`${app.url}/api/metrics/activity?model=${model}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: ActivityRecord[] }).data;
}

describe("activity", () => {
  test("tokens from a backend that reports OpenAI usage, streamed and not", async () => {
    await (await chat("usage", true)).text();
    await (await chat("usage", false)).text();
    await waitFor(() => activity.recent().filter((r) => r.model === "usage").length === 2, 5000, "two records");
    const [whole, streamed] = await records("usage");
    for (const r of [whole!, streamed!]) {
      expect(r).toMatchObject({ model: "usage", peer: "", req_path: "/v1/chat/completions", resp_status_code: 200, outcome: "ok" });
      expect(r.tokens).toMatchObject({ input_tokens: 7, output_tokens: 7, cache_tokens: -1 });
      expect(r.usage.promptTokens).toBe(7);
      expect(r.bytes_in).toBeGreaterThan(50);
      expect(r.bytes_out).toBeGreaterThan(100);
      expect(r.ttfb_ms).not.toBeNull();
      expect(r.queue_wait_ms).not.toBeNull();
    }
    expect(streamed).toMatchObject({ streamed: true, resp_content_type: "text/event-stream" });
    expect(streamed!.ttft_ms).not.toBeNull();
    expect(streamed!.ttft_ms!).toBeGreaterThanOrEqual(streamed!.ttfb_ms!);
    expect(whole).toMatchObject({ streamed: false, ttft_ms: null });
    // The first request loaded the model: its wait was a load wait.
    expect(streamed!.load_wait_ms!).toBeGreaterThan(0);
    expect(whole!.load_wait_ms).toBe(0);
  });

  test("tokens and rates from a backend that reports llama-server timings", async () => {
    await (await chat("timings", true)).text();
    await waitFor(() => activity.recent().some((r) => r.model === "timings"), 5000, "a record");
    const [r] = await records("timings");
    expect(r!.tokens.output_tokens).toBe(5);
    expect(r!.tokens.input_tokens).toBe(7);
    expect(r!.tokens.tokens_per_second).toBeGreaterThan(0);
    expect(r!.tokens.prompt_per_second).toBeGreaterThan(0);
    expect(r!.usage.generationMs).toBeGreaterThan(0);

    const stats = (await (await fetch(`${app.url}/api/metrics/stats?model=timings`)).json()) as { total_requests: number; total_output_tokens: number; gen_histogram: { p50: number } | null };
    expect(stats.total_requests).toBe(1);
    expect(stats.total_output_tokens).toBe(5);
    expect(stats.gen_histogram!.p50).toBe(r!.tokens.tokens_per_second);
  });

  test("a severed request: its events and its record", async () => {
    const stalled = await chat("stall", true);
    const body = stalled.text();
    // Asking for another model of the group: after maxWait the stalled one drains, then is severed.
    const other = chat("other", false).then((r) => r.text());
    expect(await body).toContain('"error"');
    await other;
    await waitFor(() => activity.recent().some((r) => r.model === "stall"), 5000, "the severed record");
    const [r] = await records("stall");
    expect(r).toMatchObject({ outcome: "severed", streamed: true, resp_status_code: 200 });
    await waitFor(() => seen.some((e) => e.type === "request" && e.model === "stall" && e.phase === "severed"), 5000, "severed event");
    const drainEnd = seen.find((e) => e.type === "drain-end" && e.model === "stall");
    expect(drainEnd).toMatchObject({ severed: 1 });
  }, 20_000);

  test("a cancelled queued request: its events and its record", async () => {
    const slow = await chat("slow", true);
    const body = slow.text();
    // Only this test's events: the severed test above queued a request for "other" too.
    const from = seen.length;
    const since = (): ObserveEvent[] => seen.slice(from);
    const abort = new AbortController();
    const queued = chat("other", true, abort.signal).catch((e: unknown) => e);
    await waitFor(() => since().some((e) => e.type === "queue" && e.model === "other" && e.position >= 1), 5000, "other queued");
    abort.abort();
    await queued;
    await waitFor(() => since().some((e) => e.type === "request" && e.model === "other" && e.phase === "cancelled"), 5000, "cancelled event");
    await waitFor(() => activity.recent().some((r) => r.model === "other" && r.outcome === "cancelled"), 5000, "the cancelled record");
    const r = (await records("other")).find((x) => x.outcome === "cancelled")!;
    expect(r.queue_wait_ms).toBeNull();
    expect(r.bytes_out).toBe(0);
    expect(await body).toContain("data: [DONE]");
  }, 20_000);

  test("bad queries are 400s in the envelope: an unknown filter, an inverted range, a page out of range", async () => {
    const get = async (q: string) => {
      const res = await fetch(`${app.url}/api/metrics/activity?${q}`);
      return { status: res.status, message: ((await res.json()) as { error?: { message: string } }).error?.message };
    };
    expect(await get("colour=red")).toEqual({ status: 400, message: expect.stringContaining('unknown filter "colour"') });
    expect(await get("start=2026-12-02T10:00:00Z&end=2026-12-01T10:00:00Z")).toEqual({ status: 400, message: "start must be before end" });
    expect(await get("min_id=5&max_id=2")).toEqual({ status: 400, message: "min_id must be <= max_id" });
    expect(await get("page=999")).toEqual({ status: 400, message: expect.stringContaining("page 999 is out of range") });
    expect(await get("sort=colour")).toEqual({ status: 400, message: expect.stringContaining('invalid sort column "colour"') });
    expect((await get("start=yesterday")).status).toBe(400);
    expect((await get("limit=0")).status).toBe(400);
  });

  test("/metrics tells what happened above, in Prometheus text that promtool parses", async () => {
    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    expect(text).toContain('switchyard_requests_total{model="usage",status="200",outcome="ok"} 2');
    expect(text).toContain('switchyard_completion_tokens_total{model="usage"} 14');
    expect(text).toContain('switchyard_severed_requests_total{model="stall"} 1');
    expect(text).toContain('switchyard_cancelled_requests_total{model="other"} 1');
    expect(text).toMatch(/switchyard_swaps_total\{model="other",reason="evict"\} [1-9]/);
    expect(text).toMatch(/switchyard_load_seconds_count\{model="usage"\} 1/);
    expect(text).toContain('vllm:num_requests_running{model_name="usage"} 0');
    const promtool = Bun.which("promtool");
    if (!promtool) {
      if (process.env.CI) throw new Error("promtool missing: apt-get install prometheus");
      return console.log("activity-routes: promtool missing (apt-get install prometheus); the exposition was not validated");
    }
    const p = Bun.spawnSync([promtool, "check", "metrics"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
    const complaints = `${p.stdout}${p.stderr}`.split("\n").filter((l) => l !== "" && !/^vllm:\w+ metric names should not contain ':'$/.test(l));
    expect(complaints).toEqual([]);
  });
});
