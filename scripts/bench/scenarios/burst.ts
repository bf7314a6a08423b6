/**
 * Scenario 10, queue bursts: does the proxy's CPU per request grow with the queue? Two simulated
 * models that load in 200 ms and cannot run together (the default: one model at a time), with
 * `concurrencyLimit` raised so nothing is refused. After a warm-up burst, bursts of 1,000 and
 * 4,000 concurrent non-streamed requests, alternating between the two models, so that half of
 * each burst queues behind the other half's model. Measured: the switchyard process's CPU
 * (user + system, /proc) per request over each burst, against the steady state: the same
 * request at concurrency 64 on the loaded model, nothing queued.
 */
import { chatBody, closedLoop, postChat } from "../load.ts";
import { freePorts } from "../ports.ts";
import { cpuMsOf } from "../procfs.ts";
import type { BenchContext, ScenarioResult } from "../scenario.ts";
import { round } from "../stats.ts";
import { startSwitchyard, type Switchyard } from "../switchyard.ts";
import { ms, num, type Table } from "../table.ts";

const MODELS = ["q1", "q2"];
const LOAD_MS = 200;

function config(): string {
  return `startPort: ${freePorts(MODELS.length)}
logLevel: info
logToStdout: proxy
healthCheckTimeout: 30
sendLoadingState: false
models:
${MODELS.map((m) => `  ${m}:\n    cmd: \${SWITCHYARD} simulate --port \${PORT} --model ${m} --load-ms ${LOAD_MS} --tps 0 --tokens 16\n    concurrencyLimit: 100000\n`).join("")}`;
}

/** What one burst cost. */
interface Burst {
  size: number;
  ok: number;
  errors: number;
  wallMs: number;
  cpuMs: number;
  swaps: number;
}

/** Send `size` requests at once (alternating models), wait for every answer. */
async function burst(sy: Switchyard, size: number): Promise<Burst> {
  const swaps0 = sy.log.lines.filter((l) => /\bswap: loading /.test(l.text)).length;
  const bodies = MODELS.map((m) => chatBody(m, 16, false));
  const cpu0 = cpuMsOf(sy.pid);
  const t0 = performance.now();
  let ok = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: size }, async (_, i) => {
      try {
        const res = await postChat(sy.url, bodies[i % bodies.length]!);
        await res.arrayBuffer();
        if (res.status === 200) ok++;
        else errors++;
      } catch {
        errors++;
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const cpuMs = cpuMsOf(sy.pid) - cpu0;
  const swaps = sy.log.lines.filter((l) => /\bswap: loading /.test(l.text)).length - swaps0;
  return { size, ok, errors, wallMs, cpuMs, swaps };
}

/** Run scenario 10. */
export async function burstScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const rounds = ctx.quick ? 1 : 2;
  const sizes = [1000, 4000];
  const steadyMs = ctx.quick ? 1500 : 3000;
  const sy = await startSwitchyard(config());
  const runs: Burst[] = [];
  let steady = { ok: 0, cpuMs: 0, errors: 0 };
  try {
    ctx.progress("burst: warm-up burst of 500");
    await burst(sy, 500);
    // Steady state: the loaded model at concurrency 64, nothing queued.
    const url = `${sy.url}/v1/chat/completions`;
    const body = chatBody(MODELS[0]!, 16, false);
    await closedLoop({ url, body, concurrency: 64, durationMs: 300 });
    ctx.progress("burst: steady state, c=64");
    const cpu0 = cpuMsOf(sy.pid);
    const r = await closedLoop({ url, body, concurrency: 64, durationMs: steadyMs });
    steady = { ok: r.ok, errors: r.errors, cpuMs: cpuMsOf(sy.pid) - cpu0 };
    for (let k = 0; k < rounds; k++) {
      for (const size of sizes) {
        ctx.progress(`burst: ${size} at once, round ${k + 1}/${rounds}`);
        runs.push(await burst(sy, size));
      }
    }
  } finally {
    await sy.stop();
  }

  const steadyUs = (steady.cpuMs / Math.max(1, steady.ok)) * 1000;
  const table: Table = {
    title: `10. Queue bursts: non-streamed requests all at once over ${MODELS.length} models that load in ${LOAD_MS} ms (one at a time), proxy CPU per request`,
    columns: ["run", "requests", "errors", "swaps", "wall s", "proxy CPU ms", "CPU/req µs", "vs steady"],
    rows: [["steady c=64", num(steady.ok), num(steady.errors), "0", (steadyMs / 1000).toFixed(1), ms(steady.cpuMs), num(steadyUs), "1.00x"]],
    notes: [
      `after a warm-up burst of 500; each burst alternates ${MODELS.join("/")} request by request; concurrencyLimit 100000; ${rounds} round(s) of each size`,
      "CPU: user+system of the switchyard process from /proc (10 ms ticks); steady = closed loop at concurrency 64 on the loaded model",
    ],
  };
  const figures: Record<string, unknown> = { steady: { ...steady, cpuUsPerRequest: round(steadyUs, 1) }, loadMs: LOAD_MS, rounds };
  const perSize: Record<number, number> = {};
  for (const size of sizes) {
    const rs = runs.filter((x) => x.size === size);
    const ok = rs.reduce((a, x) => a + x.ok, 0);
    const cpu = rs.reduce((a, x) => a + x.cpuMs, 0);
    const us = (cpu / Math.max(1, ok)) * 1000;
    perSize[size] = us;
    for (const [i, x] of rs.entries()) {
      const u = (x.cpuMs / Math.max(1, x.ok)) * 1000;
      table.rows.push([`burst ${num(size)} #${i + 1}`, num(x.ok), num(x.errors), num(x.swaps), (x.wallMs / 1000).toFixed(2), ms(x.cpuMs), num(u), `${(u / steadyUs).toFixed(2)}x`]);
    }
    figures[`burst${size}`] = { runs: rs.map((x) => ({ ...x, wallMs: round(x.wallMs, 0) })), cpuUsPerRequest: round(us, 1) };
  }
  const small = perSize[1000]!;
  const large = perSize[4000]!;
  const errors = runs.reduce((a, x) => a + x.errors, 0);
  return {
    name: "burst",
    tables: [table],
    figures,
    targets: [
      {
        scenario: "burst",
        target: "CPU/request in a 4,000-request burst <= 1.2x a 1,000-request burst",
        measured: `${num(large)} vs ${num(small)} µs (${(large / small).toFixed(2)}x)`,
        met: large <= 1.2 * small,
      },
      {
        scenario: "burst",
        target: "CPU/request in both bursts <= 3x the steady state",
        measured: `${(small / steadyUs).toFixed(2)}x and ${(large / steadyUs).toFixed(2)}x of ${num(steadyUs)} µs`,
        met: small <= 3 * steadyUs && large <= 3 * steadyUs,
      },
      { scenario: "burst", target: "no request refused or failed in the bursts", measured: num(errors), met: errors === 0 },
    ],
  };
}
