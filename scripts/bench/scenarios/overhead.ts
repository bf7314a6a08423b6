/**
 * Scenario 1, request overhead: non-streaming chat completions at concurrency 1 and 64, straight
 * to a simulated backend, through switchyard, and through nginx (when installed), each as a
 * closed loop for a fixed time; the paths take turns over several rounds so that a noisy moment
 * hurts all of them alike.
 */
import { startSimulate, type Backend } from "../backend.ts";
import { chatBody, closedLoop, postChat, type LoadResult } from "../load.ts";
import { startNginx, type Nginx } from "../nginx.ts";
import { freePorts } from "../ports.ts";
import { childrenOf, cpuMsOf } from "../procfs.ts";
import type { BenchContext, ScenarioResult } from "../scenario.ts";
import { ratio, round, roundSummary, summarize } from "../stats.ts";
import { startSwitchyard, type Switchyard } from "../switchyard.ts";
import { added, ms, num, pct, type Table } from "../table.ts";

const MODEL = "bench";
const SIM_FLAGS = ["--model", MODEL, "--tps", "0", "--tokens", "16"];

/** The one-model switchyard config used by scenarios 1 and 2. */
export function oneModelConfig(simFlags: string[]): string {
  return `startPort: ${freePorts(1)}
logLevel: info
logToStdout: proxy
healthCheckTimeout: 30
models:
  ${MODEL}:
    cmd: \${SWITCHYARD} simulate --port \${PORT} ${simFlags.join(" ")}
    concurrencyLimit: 100000
`;
}

/** Send one request through switchyard so the model is loaded before timing starts. */
export async function loadModel(sy: Switchyard): Promise<void> {
  const res = await postChat(sy.url, chatBody(MODEL, 4, false));
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`warm-up request failed: ${res.status}`);
}

/** The paths compared: direct, switchyard, nginx. */
export interface Paths {
  names: string[];
  urls: Record<string, string>;
  /** CPU ms used so far by each proxy (switchyard alone, not its backend; nginx with its workers); NaN for direct. */
  proxyCpuMs(name: string): number;
  stop(): Promise<void>;
}

/** Start a direct backend, switchyard with the same backend command, and nginx in front of the direct one. */
export async function startPaths(ctx: BenchContext, simFlags: string[]): Promise<Paths> {
  const backend: Backend = await startSimulate(simFlags);
  const sy = await startSwitchyard(oneModelConfig(simFlags));
  await loadModel(sy);
  const nginx: Nginx | null = ctx.nginx ? await startNginx(ctx.nginx, backend.port) : null;
  const urls: Record<string, string> = { direct: backend.url, switchyard: sy.url };
  if (nginx) urls.nginx = nginx.url;
  return {
    names: Object.keys(urls),
    urls,
    proxyCpuMs(name) {
      if (name === "switchyard") return cpuMsOf(sy.pid);
      if (name === "nginx" && nginx) return [nginx.pid, ...childrenOf(nginx.pid)].reduce((a, p) => a + cpuMsOf(p), 0);
      return NaN;
    },
    async stop() {
      await nginx?.stop();
      await sy.stop();
      await backend.stop();
    },
  };
}

/** Run scenario 1. */
export async function overheadScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const durationMs = ctx.quick ? 1500 : 3000;
  const rounds = ctx.quick ? 1 : 2;
  const concurrencies = [1, 64];
  const paths = await startPaths(ctx, SIM_FLAGS);
  const body = chatBody(MODEL, 16, false);
  const runs: Record<string, Record<string, LoadResult[]>> = {};
  const cpu: Record<string, Record<string, number>> = {};
  try {
    for (const c of concurrencies) {
      runs[c] = {};
      for (const name of paths.names) {
        // Warm-up: open the connections and let the JIT settle.
        await closedLoop({ url: `${paths.urls[name]}/v1/chat/completions`, body, concurrency: c, durationMs: 300 });
        runs[c]![name] = [];
      }
      cpu[c] = {};
      for (let r = 0; r < rounds; r++) {
        for (const name of paths.names) {
          ctx.progress(`overhead: c=${c} ${name} round ${r + 1}/${rounds}`);
          const cpu0 = paths.proxyCpuMs(name);
          runs[c]![name]!.push(await closedLoop({ url: `${paths.urls[name]}/v1/chat/completions`, body, concurrency: c, durationMs }));
          cpu[c]![name] = (cpu[c]![name] ?? 0) + (paths.proxyCpuMs(name) - cpu0);
        }
      }
    }
  } finally {
    await paths.stop();
  }

  const table: Table = {
    title: "1. Request overhead: non-streaming chat completion (16 tokens), closed loop",
    columns: ["concurrency / path", "requests", "errors", "p50 ms", "p99 ms", "added p50", "added p99", "req/s", "vs direct", "proxy CPU/req"],
    rows: [],
    notes: [
      `${rounds} round(s) of ${durationMs / 1000} s per path; paths take turns; generator, proxy and backend share the machine`,
      "proxy CPU/req: user+system CPU of the proxy process (nginx: master and workers) per request, from /proc (10 ms ticks)",
    ],
  };
  const figures: Record<string, unknown> = { durationMs, rounds };
  const targets: ScenarioResult["targets"] = [];
  for (const c of concurrencies) {
    const pooled = (name: string) => {
      const rs = runs[c]![name]!;
      const lat = rs.flatMap((x) => x.latenciesMs);
      const ok = rs.reduce((a, x) => a + x.ok, 0);
      const wall = rs.reduce((a, x) => a + x.wallMs, 0);
      return { s: summarize(lat), ok, errors: rs.reduce((a, x) => a + x.errors, 0), rps: (ok / wall) * 1000 };
    };
    const direct = pooled("direct");
    const perPath: Record<string, unknown> = {};
    for (const name of paths.names) {
      const p = pooled(name);
      const addedP50 = p.s.p50 - direct.s.p50;
      const addedP99 = p.s.p99 - direct.s.p99;
      const vs = ratio(p.rps, direct.rps);
      const cpuUs = (cpu[c]![name]! / p.ok) * 1000;
      table.rows.push([
        `c=${c} ${name}`,
        num(p.ok),
        num(p.errors),
        ms(p.s.p50),
        ms(p.s.p99),
        name === "direct" ? "" : added(addedP50),
        name === "direct" ? "" : added(addedP99),
        num(p.rps),
        name === "direct" ? "" : pct(vs),
        Number.isFinite(cpuUs) ? `${cpuUs.toFixed(0)} us` : "",
      ]);
      perPath[name] = { latencyMs: roundSummary(p.s), ok: p.ok, errors: p.errors, rps: round(p.rps, 1), rpsRatioToDirect: round(vs), addedP50Ms: round(addedP50), addedP99Ms: round(addedP99), proxyCpuUsPerRequest: round(cpuUs, 1) };
      if (name === "switchyard" && c === 1) {
        targets.push({ scenario: "overhead", target: "added p50 latency per request <= 1 ms at concurrency 1", measured: `${added(addedP50)} ms`, met: addedP50 <= 1 });
      }
      if (name === "switchyard" && c === 64) {
        targets.push({ scenario: "overhead", target: "throughput >= 80% of direct at concurrency 64", measured: pct(vs), met: vs >= 0.8 });
      }
    }
    figures[`c${c}`] = perPath;
  }
  if (!ctx.nginx) table.notes!.push("nginx: not measured (absent or --no-nginx)");
  return { name: "overhead", tables: [table], figures, targets };
}
