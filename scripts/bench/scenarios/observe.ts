/**
 * Scenario 7, what observing costs (issue 12). Part A: switchyard's CPU per request and per
 * 1,000 streamed tokens with activity off (`activity.disabled`), on in memory (the default), on
 * with the SQLite store, and on with the store and captures; same simulated backend at full
 * speed, same load, one variant after the other. Part B: 256 streams with and without a reader
 * of `/api/events` that stops reading for the whole run: its throughput must not move, and the
 * reader must be told what it missed (gap messages) when it reads again.
 */
import { chatBody, closedLoop } from "../load.ts";
import { cpuMsOf } from "../procfs.ts";
import type { BenchContext, ScenarioResult, TargetCheck } from "../scenario.ts";
import { ratio, round } from "../stats.ts";
import { startSwitchyard, type Switchyard } from "../switchyard.ts";
import { num, pct, type Table } from "../table.ts";
import { loadModel, oneModelConfig } from "./overhead.ts";
import { complete, streamLoop } from "./stream.ts";

const MODEL = "bench";
const TOKENS = 2000;
// Answers as long as a stream asks for (max_tokens TOKENS); a non-streamed request asks for 16.
const SIM = ["--tps", "0", "--tokens", String(TOKENS)];

/** The variants of part A: extra top-level YAML each. */
const VARIANTS: { name: string; yaml: string }[] = [
  { name: "activity off", yaml: "activity:\n  disabled: true\n" },
  { name: "activity in memory", yaml: "" },
  { name: "activity + store", yaml: "store:\n  path: activity.db\n" },
  { name: "activity + store + captures", yaml: "store:\n  path: activity.db\ncaptureBuffer: 16\n" },
];

async function withSwitchyard<T>(yaml: string, fn: (sy: Switchyard) => Promise<T>): Promise<T> {
  const sy = await startSwitchyard(yaml + oneModelConfig(SIM));
  try {
    await loadModel(sy);
    return await fn(sy);
  } finally {
    await sy.stop();
  }
}

/** Part B's reader: subscribes to /api/events, reads nothing until told, then counts what came. */
async function stalledReader(url: string): Promise<{ resume(): Promise<{ gaps: number; dropped: number; bytes: number }> }> {
  const abort = new AbortController();
  const res = await fetch(`${url}/api/events`, { signal: abort.signal });
  const reader = res.body!.getReader();
  return {
    async resume() {
      const decoder = new TextDecoder();
      let text = "";
      let bytes = 0;
      // Read what is buffered and what follows for a moment, then stop.
      const until = performance.now() + 1000;
      while (performance.now() < until) {
        const next = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), 200))]);
        if (next === null || next.done) break;
        bytes += next.value.byteLength;
        text += decoder.decode(next.value, { stream: true });
      }
      abort.abort();
      await reader.cancel().catch(() => {});
      let gaps = 0;
      let dropped = 0;
      for (const m of text.matchAll(/^data:(.*)$/gm)) {
        const env = JSON.parse(m[1]!) as { type: string; data: string };
        if (env.type !== "gap") continue;
        gaps++;
        dropped += (JSON.parse(env.data) as { dropped: number }).dropped;
      }
      return { gaps, dropped, bytes };
    },
  };
}

/** A reader of /api/events that keeps up: reads everything until stopped. */
async function keepingUpReader(url: string): Promise<{ stop(): Promise<number> }> {
  const abort = new AbortController();
  const res = await fetch(`${url}/api/events`, { signal: abort.signal });
  const reader = res.body!.getReader();
  let bytes = 0;
  const loop = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        bytes += value.byteLength;
      }
    } catch {}
  })();
  return {
    async stop() {
      abort.abort();
      await loop;
      return bytes;
    },
  };
}

/** Run scenario 7. */
export async function observeScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const durationMs = ctx.quick ? 1500 : 3000;
  const figures: Record<string, unknown> = {};
  const targets: TargetCheck[] = [];

  const cost: Table = {
    title: "7a. What observing costs: switchyard CPU per request and per 1,000 streamed tokens",
    columns: ["variant", "CPU/request c=1", "CPU/request c=64", "CPU/1k tokens, 64 streams", "incomplete"],
    rows: [],
    notes: [
      `each variant: its own switchyard, non-streamed 16-token chats for ${durationMs / 1000} s at c=1 and c=64, then 64 streams of ${TOKENS} tokens for ${durationMs / 1000} s`,
      "CPU = switchyard's own user+system time (not the backend's) over the requests or tokens served",
    ],
  };
  for (const v of VARIANTS) {
    ctx.progress(`observe: ${v.name}`);
    const row = await withSwitchyard(v.yaml, async (sy) => {
      const perRequest = async (c: number): Promise<number> => {
        await closedLoop({ url: `${sy.url}/v1/chat/completions`, body: chatBody(MODEL, 16, false), concurrency: c, durationMs: 200 });
        const cpu0 = cpuMsOf(sy.pid);
        const r = await closedLoop({ url: `${sy.url}/v1/chat/completions`, body: chatBody(MODEL, 16, false), concurrency: c, durationMs });
        return ((cpuMsOf(sy.pid) - cpu0) / r.ok) * 1000;
      };
      const c1 = await perRequest(1);
      const c64 = await perRequest(64);
      await streamLoop(sy.url, 8, 0);
      const cpu0 = cpuMsOf(sy.pid);
      const s = await streamLoop(sy.url, 64, durationMs);
      const done = s.streams.filter(complete).length;
      const per1k = ((cpuMsOf(sy.pid) - cpu0) / (done * TOKENS)) * 1000;
      return { c1, c64, per1k, incomplete: s.streams.length - done };
    });
    cost.rows.push([v.name, `${Math.round(row.c1)} µs`, `${Math.round(row.c64)} µs`, `${row.per1k.toFixed(2)} ms`, num(row.incomplete)]);
    figures[v.name] = { cpuUsPerRequestC1: round(row.c1, 0), cpuUsPerRequestC64: round(row.c64, 0), cpuMsPer1kTokens: round(row.per1k), incomplete: row.incomplete };
  }

  const slow: Table = {
    title: "7b. A reader of /api/events that stops reading, during 256 streams",
    columns: ["run", "streams", "incomplete", "tokens/s", "vs no reader", "gap messages", "events dropped"],
    rows: [],
    notes: [
      "the reader subscribes before the streams start and reads nothing until they end; then it reads what is queued for it",
      "its events beyond its queue (1,024) are dropped and it gets one gap message per run of drops; nobody waits for it",
    ],
  };
  await withSwitchyard("", async (sy) => {
    await streamLoop(sy.url, 8, 0);
    ctx.progress("observe: 256 streams, no reader");
    const base = await streamLoop(sy.url, 256, durationMs);
    ctx.progress("observe: 256 streams, a reader that keeps up");
    const fast = await keepingUpReader(sy.url);
    const withFast = await streamLoop(sy.url, 256, durationMs);
    await fast.stop();
    const reader = await stalledReader(sy.url);
    ctx.progress("observe: 256 streams, a stalled /api/events reader");
    const withReader = await streamLoop(sy.url, 256, durationMs);
    const seen = await reader.resume();
    const inc = (s: typeof base) => s.streams.filter((x) => !complete(x)).length;
    const vs = ratio(withReader.tokensPerSec, base.tokensPerSec);
    const vsFast = ratio(withFast.tokensPerSec, base.tokensPerSec);
    const slowVsFast = ratio(withReader.tokensPerSec, withFast.tokensPerSec);
    slow.rows.push(["no reader", num(base.streams.length), num(inc(base)), num(base.tokensPerSec), "", "", ""]);
    slow.rows.push(["a reader that keeps up", num(withFast.streams.length), num(inc(withFast)), num(withFast.tokensPerSec), pct(vsFast), "0", "0"]);
    slow.rows.push(["a stalled reader", num(withReader.streams.length), num(inc(withReader)), num(withReader.tokensPerSec), pct(vs), num(seen.gaps), num(seen.dropped)]);
    figures.eventsReader = {
      noReaderTokensPerSec: round(base.tokensPerSec, 0),
      keepingUpTokensPerSec: round(withFast.tokensPerSec, 0),
      stalledTokensPerSec: round(withReader.tokensPerSec, 0),
      gaps: seen.gaps,
      dropped: seen.dropped,
      incomplete: inc(withReader),
    };
    targets.push({
      scenario: "observe",
      target: "a stalled /api/events reader costs 256 streams no more than one that keeps up (within 10%), and loses no stream",
      measured: `${pct(slowVsFast)} of the keeping-up run, ${inc(withReader)} incomplete`,
      met: slowVsFast >= 0.9 && inc(withReader) === 0,
    });
  });
  return { name: "observe", tables: [cost, slow], figures, targets };
}
