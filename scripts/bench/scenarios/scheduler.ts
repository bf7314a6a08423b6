/**
 * Scenario 4, scheduler efficiency: one seeded trace (12 closed-loop clients, 3 models, mixed
 * answer lengths, some clients alternating models) replayed against two switchyard instances at
 * once, one per scheduler (fifo, serial), each with its own three simulated backends. Counted:
 * swaps (the proxy's `swap: loading` lines), queue wait (request sent to response headers: the
 * wait for the model, any swap and load; the backend answers at once), and requests failed
 * (an error status or a transport error), severed (an in-band error event) and truncated
 * (a 200 stream without every token or without [DONE]), all with the default drain settings.
 */
import { sleep } from "../clock.ts";
import { chatBody, postChat } from "../load.ts";
import { freePorts } from "../ports.ts";
import type { BenchContext, ScenarioResult, TargetCheck } from "../scenario.ts";
import { round, roundSummary, summarize } from "../stats.ts";
import { startSwitchyard, type Switchyard } from "../switchyard.ts";
import { ms, num, type Table } from "../table.ts";
import { buildTrace, type TraceClient, type TraceOptions } from "../trace.ts";

const MODELS = ["m1", "m2", "m3"];

/** How one request of the trace went. */
interface Outcome {
  waitMs: number;
  status: number;
  failed: boolean;
  severed: boolean;
  truncated: boolean;
}

/** Read a streamed answer whole and classify it. */
async function classify(res: Response, maxTokens: number): Promise<Omit<Outcome, "waitMs">> {
  let text = "";
  try {
    text = await res.text();
  } catch {
    return { status: res.status, failed: false, severed: false, truncated: true };
  }
  if (res.status !== 200) return { status: res.status, failed: true, severed: false, truncated: false };
  const data = text.split("\n").filter((l) => l.startsWith("data:"));
  const severed = data.some((l) => l.includes('"error"'));
  // The role event, one per token, the finish and usage events, [DONE].
  const complete = data.length === maxTokens + 4 && data[data.length - 1] === "data: [DONE]";
  return { status: 200, failed: false, severed, truncated: !severed && !complete };
}

/** Replay the trace against one switchyard; resolves with one outcome per request. */
async function replay(sy: Switchyard, trace: TraceClient[]): Promise<Outcome[]> {
  const out: Outcome[] = [];
  await Promise.all(
    trace.map(async (client) => {
      for (const r of client.requests) {
        await sleep(r.thinkMs);
        const t0 = performance.now();
        try {
          const res = await postChat(sy.url, chatBody(r.model, r.maxTokens, true));
          const waitMs = performance.now() - t0;
          out.push({ waitMs, ...(await classify(res, r.maxTokens)) });
        } catch {
          out.push({ waitMs: performance.now() - t0, status: 0, failed: true, severed: false, truncated: false });
        }
      }
    }),
  );
  return out;
}

function config(scheduler: "fifo" | "serial", loadMs: number, tps: number): string {
  return `startPort: ${freePorts(MODELS.length)}
logToStdout: proxy
sendLoadingState: false
healthCheckTimeout: 60
models:
${MODELS.map((m) => `  ${m}:\n    cmd: \${SWITCHYARD} simulate --port \${PORT} --model ${m} --load-ms ${loadMs} --tps ${tps} --tokens 500\n    concurrencyLimit: 100\n`).join("")}
routing:
  scheduler:
    use: ${scheduler}
`;
}

/** Run scenario 4. */
export async function schedulerScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const loadMs = ctx.quick ? 300 : 1500;
  const tps = 1000;
  const opts: TraceOptions = ctx.quick
    ? { seed: 7, clients: 6, alternating: 2, requestsPerClient: 10, models: MODELS, thinkMs: [0, 1000], startSpreadMs: 1000 }
    : { seed: 7, clients: 12, alternating: 4, requestsPerClient: 25, models: MODELS, thinkMs: [0, 1000], startSpreadMs: 2000 };
  const trace = buildTrace(opts);
  const total = trace.reduce((a, c) => a + c.requests.length, 0);
  const schedulers = ["fifo", "serial"] as const;
  ctx.progress(`scheduler: replaying ${total} requests under ${schedulers.join(" and ")} at once`);
  const instances = await Promise.all(schedulers.map((s) => startSwitchyard(config(s, loadMs, tps))));
  const results: Record<string, { outcomes: Outcome[]; swaps: number; wallMs: number }> = {};
  try {
    await Promise.all(
      schedulers.map(async (s, i) => {
        const sy = instances[i]!;
        const t0 = performance.now();
        const outcomes = await replay(sy, trace);
        const wallMs = performance.now() - t0;
        const swaps = sy.log.lines.filter((l) => /\bswap: loading /.test(l.text)).length;
        results[s] = { outcomes, swaps, wallMs };
        ctx.progress(`scheduler: ${s} done in ${(wallMs / 1000).toFixed(1)} s, ${swaps} swaps`);
      }),
    );
  } finally {
    await Promise.all(instances.map((sy) => sy.stop()));
  }

  const table: Table = {
    title: `4. Scheduler efficiency: seeded trace, ${total} streamed requests, ${opts.clients} clients (${opts.alternating} alternating), ${MODELS.length} models, load ${loadMs / 1000} s`,
    columns: ["scheduler", "swaps", "wait mean ms", "wait p95 ms", "wait max ms", "failed", "severed", "truncated", "wall s"],
    rows: [],
    notes: [
      `trace seed ${opts.seed}; answers 16-96 tokens (30% 200-500) at ${tps} tokens/s; think ${opts.thinkMs[0]}-${opts.thinkMs[1]} ms; default drain`,
      "wait = request sent to response headers (queue + any swap and load); fifo and serial replay at the same time on separate instances",
    ],
  };
  const figures: Record<string, unknown> = { trace: opts, loadMs, tps, requests: total };
  for (const s of schedulers) {
    const r = results[s]!;
    const w = summarize(r.outcomes.map((o) => o.waitMs));
    const failed = r.outcomes.filter((o) => o.failed).length + (total - r.outcomes.length);
    const severed = r.outcomes.filter((o) => o.severed).length;
    const truncated = r.outcomes.filter((o) => o.truncated).length;
    table.rows.push([s, num(r.swaps), ms(w.mean), ms(w.p95), ms(w.max), num(failed), num(severed), num(truncated), (r.wallMs / 1000).toFixed(1)]);
    figures[s] = { swaps: r.swaps, waitMs: roundSummary(w), failed, severed, truncated, wallMs: round(r.wallMs, 0) };
  }
  const fifo = figures.fifo as { swaps: number; failed: number; severed: number; truncated: number };
  const serial = figures.serial as { swaps: number; failed: number; severed: number; truncated: number };
  const bad = (x: typeof fifo) => x.failed + x.severed + x.truncated;
  const targets: TargetCheck[] = [
    {
      scenario: "scheduler",
      target: "fifo needs >= 3x fewer swaps than serial on the trace",
      measured: `${fifo.swaps} vs ${serial.swaps} (${(serial.swaps / Math.max(1, fifo.swaps)).toFixed(1)}x)`,
      met: fifo.swaps * 3 <= serial.swaps,
    },
    {
      scenario: "scheduler",
      target: "zero failed, severed or truncated requests (fifo and serial)",
      measured: `fifo ${bad(fifo)}, serial ${bad(serial)}`,
      met: bad(fifo) === 0 && bad(serial) === 0,
    },
  ];
  return { name: "scheduler", tables: [table], figures, targets };
}
