/**
 * Scenario 3, swap overhead.
 * (a) Ready to first byte, over cold starts: the simulated backend prints `ready at <epoch ms>` at
 *     the instant its /health turns 200 (switchyard echoes it with logToStdout: both); the client
 *     notes when the first byte of its answer arrives. The difference is what the proxy adds after
 *     the backend is ready: readiness polling, then forwarding. (llama-swap polls once a second.)
 * (b) A->B swaps: time from sending a request for B while A is loaded to its first byte, minus B's
 *     own load time, measured by starting the same command standalone (spawn to `ready at`).
 */
import { BINARY } from "../binary.ts";
import { childEnv, stopChild, track } from "../children.ts";
import { epochMs } from "../clock.ts";
import { collectLines } from "../lines.ts";
import { chatBody, postChat } from "../load.ts";
import { freePort, freePorts } from "../ports.ts";
import type { BenchContext, ScenarioResult, TargetCheck } from "../scenario.ts";
import { median, round, roundSummary, summarize } from "../stats.ts";
import { startSwitchyard, unloadAll, type Switchyard } from "../switchyard.ts";
import { ms, type Table } from "../table.ts";

const READY = /\bready at (\d+)/;

/** Send a streamed request; resolves with the epoch ms of the first body byte, after reading it all. */
async function firstByte(url: string, model: string): Promise<{ sentAt: number; firstAt: number; status: number }> {
  const sentAt = epochMs();
  const res = await postChat(url, chatBody(model, 4, true));
  let firstAt = NaN;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    if (Number.isNaN(firstAt) && chunk.length > 0) firstAt = epochMs();
  }
  return { sentAt, firstAt, status: res.status };
}

/** The `ready at` stamp of `model`'s backend printed after line index `from`. */
async function readyStamp(sy: Switchyard, model: string, from: number): Promise<number> {
  const line = await sy.log.waitFor(new RegExp(`^\\[${model}\\] ready at \\d+`), from, 5_000);
  if (!line) throw new Error(`no "ready at" line from ${model}:\n${sy.log.text().slice(-2000)}`);
  return Number(READY.exec(line.text)![1]);
}

/** Spawn-to-ready of `switchyard simulate <flags>` started by us, outside switchyard (ms). */
async function ownLoadTime(flags: string[]): Promise<number> {
  const port = freePort();
  const t0 = epochMs();
  const proc = Bun.spawn([BINARY, "simulate", "--port", String(port), ...flags], { env: childEnv(), stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  track(proc);
  const log = collectLines([proc.stdout]);
  const line = await log.waitFor(READY, 0, 10_000);
  await stopChild(proc, "SIGTERM", 5_000);
  if (!line) throw new Error("standalone simulate printed no ready line");
  return Number(READY.exec(line.text)![1]) - t0;
}

/** Load time of model k: the base plus an offset spread over 50 ms, so that the moment a backend
 * turns ready falls at every phase of the proxy's probe period (a fixed load time would always
 * land at the same point between two probes and measure one phase only). */
function loadOf(base: number, k: number): number {
  return base + ((k * 13) % 50);
}

function config(count: number, base: number): string {
  const models = Array.from({ length: count }, (_, k) => `  s${k}:\n    cmd: \${SWITCHYARD} simulate --port \${PORT} --model s${k} --load-ms ${loadOf(base, k)} --tps 0 --tokens 4\n`);
  return `startPort: ${freePorts(count)}
logToStdout: both
sendLoadingState: false
healthCheckTimeout: 30
models:
${models.join("")}`;
}

/** Run scenario 3. */
export async function swapScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const base = 500;
  const count = ctx.quick ? 6 : 20;
  const targets: TargetCheck[] = [];
  // B's own load: the same command started by us; spawn -> ready is start-up plus --load-ms, so a
  // model with another --load-ms differs by exactly the difference.
  const own: number[] = [];
  for (let i = 0; i < (ctx.quick ? 3 : 7); i++) own.push(await ownLoadTime(["--model", "own", "--load-ms", String(base), "--tps", "0"]));
  const ownMs = median(own);
  const ownOf = (k: number) => ownMs + loadOf(base, k) - base;

  const ready: number[] = [];
  const total: number[] = [];
  const swapTotal: number[] = [];
  const swapOverhead: number[] = [];
  const swapReady: number[] = [];
  const sy = await startSwitchyard(config(count, base));
  try {
    // (a) cold starts: nothing loaded, then a request for s_k.
    for (let k = 0; k < count; k++) {
      ctx.progress(`swap: cold start ${k + 1}/${count}`);
      await unloadAll(sy);
      const from = sy.log.lines.length;
      const r = await firstByte(sy.url, `s${k}`);
      if (r.status !== 200) throw new Error(`cold start answered ${r.status}`);
      ready.push(r.firstAt - (await readyStamp(sy, `s${k}`, from)));
      total.push(r.firstAt - r.sentAt);
    }
    // (b) swaps: s_(k-1) is loaded and idle, then a request for s_k.
    for (let k = 1; k <= count; k++) {
      const target = k % count;
      ctx.progress(`swap: s${k - 1}->s${target} ${k}/${count}`);
      const from = sy.log.lines.length;
      const r = await firstByte(sy.url, `s${target}`);
      if (r.status !== 200) throw new Error(`swap answered ${r.status}`);
      swapTotal.push(r.firstAt - r.sentAt);
      swapOverhead.push(r.firstAt - r.sentAt - ownOf(target));
      swapReady.push(r.firstAt - (await readyStamp(sy, `s${target}`, from)));
    }
  } finally {
    await sy.stop();
  }

  const readyS = summarize(ready);
  const totalS = summarize(total);
  const swapS = summarize(swapTotal);
  const overheadS = summarize(swapOverhead);
  const swapReadyS = summarize(swapReady);
  const table: Table = {
    title: `3. Swap overhead: ${count} simulated models, --load-ms ${base}-${base + 49}`,
    columns: ["measure", "n", "p50 ms", "p95 ms", "max ms"],
    rows: [
      ["cold start: ready -> first byte", String(readyS.n), ms(readyS.p50), ms(readyS.p95), ms(readyS.max)],
      ["cold start: request -> first byte", String(totalS.n), ms(totalS.p50), ms(totalS.p95), ms(totalS.max)],
      [`B's own load at --load-ms ${base} (standalone spawn -> ready)`, String(own.length), ms(ownMs), ms(summarize(own).p95), ms(summarize(own).max)],
      ["swap A->B: request -> first byte", String(swapS.n), ms(swapS.p50), ms(swapS.p95), ms(swapS.max)],
      ["swap A->B minus B's own load", String(overheadS.n), ms(overheadS.p50), ms(overheadS.p95), ms(overheadS.max)],
      ["swap A->B: B ready -> first byte", String(swapReadyS.n), ms(swapReadyS.p50), ms(swapReadyS.p95), ms(swapReadyS.max)],
    ],
    notes: [
      "ready = the backend's own `ready at` stamp, printed when its /health turns 200 (1 ms resolution)",
      "each model loads in a different time (spread over 50 ms), so readiness falls at every phase of the probe period",
      "llama-swap polls readiness once a second: 0.25-1.25 s per swap by its own design",
    ],
  };
  targets.push({ scenario: "swap", target: "swap overhead (ready -> first byte) p50 <= 25 ms", measured: `${ms(readyS.p50)} ms`, met: readyS.p50 <= 25 });
  return {
    name: "swap",
    tables: [table],
    figures: {
      loadMs: { base, spread: 50 },
      coldReadyToFirstByteMs: roundSummary(readyS),
      coldRequestToFirstByteMs: roundSummary(totalS),
      ownLoadMs: { samples: own.map((x) => round(x)), median: round(ownMs) },
      swapRequestToFirstByteMs: roundSummary(swapS),
      swapMinusOwnLoadMs: roundSummary(overheadS),
      swapReadyToFirstByteMs: roundSummary(swapReadyS),
    },
    targets,
  };
}
