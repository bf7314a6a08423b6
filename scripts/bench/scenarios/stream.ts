/**
 * Scenario 2, stream throughput: 1, 64 and 256 concurrent streams of 2,000 tokens from a simulated
 * backend emitting as fast as it can (`--tps 0`), direct / switchyard / nginx, as tokens per second
 * delivered to the client. Then per-chunk added latency: the same stream counts from a paced
 * backend whose every event carries its send time (stamp-backend.ts), arrival minus send time per
 * event, proxied minus direct. Paced, because at full speed a chunk's latency is only the depth of
 * the socket buffers it waits in, which says nothing about what the proxy adds to a live token.
 */
import { join } from "node:path";
import { startBackend } from "../backend.ts";
import { epochMs, sleep } from "../clock.ts";
import { chatBody, countSse, postChat, type StreamCount } from "../load.ts";
import { startNginx } from "../nginx.ts";
import { freePort, freePorts } from "../ports.ts";
import { sampleRss } from "../procfs.ts";
import type { BenchContext, ScenarioResult, TargetCheck } from "../scenario.ts";
import { readStamped } from "../stamps.ts";
import { ratio, round, roundSummary, summarize } from "../stats.ts";
import { startSwitchyard } from "../switchyard.ts";
import { added, ms, num, pct, type Table } from "../table.ts";
import { loadModel, startPaths } from "./overhead.ts";

const MODEL = "bench";
const TOKENS = 2000;
/** Events of one chat stream: the role event, one per token, the finish event, the usage event, [DONE]. */
const EVENTS_PER_STREAM = TOKENS + 4;

/** `concurrency` workers stream 2,000-token answers from `url` back to back for `durationMs`. */
export async function streamLoop(url: string, concurrency: number, durationMs: number): Promise<{ tokensPerSec: number; wallMs: number; streams: StreamCount[] }> {
  const body = chatBody(MODEL, TOKENS, true);
  const streams: StreamCount[] = [];
  const t0 = performance.now();
  const end = t0 + durationMs;
  const worker = async () => {
    do {
      try {
        const res = await postChat(url, body);
        streams.push(await countSse(res, epochMs()));
      } catch (err) {
        streams.push({ status: 0, events: 0, bytes: 0, done: false, headersAt: NaN, firstByteAt: NaN, endAt: NaN, error: String(err) });
      }
    } while (performance.now() < end);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const wallMs = performance.now() - t0;
  return { tokensPerSec: ((streams.filter(complete).length * TOKENS) / wallMs) * 1000, wallMs, streams };
}

/** A stream with every event, ending with [DONE]. */
export function complete(s: StreamCount): boolean {
  return s.status === 200 && s.done && s.events === EVENTS_PER_STREAM;
}

interface PacedPlan {
  streams: number;
  tps: number;
  tokens: number;
}

/** Run scenario 2. */
export async function streamScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const figures: Record<string, unknown> = {};
  const targets: TargetCheck[] = [];

  // Part 1: throughput at full speed.
  const durationMs = ctx.quick ? 1500 : 3000;
  const concurrencies = [1, 64, 256];
  const paths = await startPaths(ctx, ["--model", MODEL, "--tps", "0", "--tokens", String(TOKENS)]);
  const thr: Table = {
    title: `2a. Stream throughput: ${num(TOKENS)}-token streams, backend at full speed (--tps 0)`,
    columns: ["streams / path", "streams", "incomplete", "tokens/s", "vs direct", "wall s", "proxy CPU/1k tok"],
    rows: [],
    notes: [
      `each path: c workers stream back to back for ${durationMs / 1000} s (the streams under way then finish)`,
      "tokens/s = complete streams x 2,000 / wall time; complete = every event, ending with [DONE]",
    ],
  };
  try {
    for (const c of concurrencies) {
      const per: Record<string, unknown> = {};
      let directTps = NaN;
      for (const name of paths.names) {
        await streamLoop(paths.urls[name]!, Math.min(c, 8), 0); // warm-up
        ctx.progress(`stream: throughput c=${c} ${name}`);
        const cpu0 = paths.proxyCpuMs(name);
        const r = await streamLoop(paths.urls[name]!, c, durationMs);
        const cpuMs = paths.proxyCpuMs(name) - cpu0;
        const total = r.streams.length;
        const incomplete = r.streams.filter((x) => !complete(x)).length;
        if (name === "direct") directTps = r.tokensPerSec;
        const vs = ratio(r.tokensPerSec, directTps);
        const per1k = (cpuMs / ((total - incomplete) * TOKENS)) * 1000;
        thr.rows.push([
          `c=${c} ${name}`,
          num(total),
          num(incomplete),
          num(r.tokensPerSec),
          name === "direct" ? "" : pct(vs),
          (r.wallMs / 1000).toFixed(2),
          Number.isFinite(per1k) ? `${per1k.toFixed(2)} ms` : "",
        ]);
        per[name] = { streams: total, incomplete, tokensPerSec: round(r.tokensPerSec, 0), ratioToDirect: round(vs), wallMs: round(r.wallMs, 0), proxyCpuMsPer1kTokens: round(per1k) };
        if (name === "switchyard" && c >= 64) {
          targets.push({ scenario: "stream", target: `stream throughput >= 95% of direct at ${c} streams`, measured: pct(vs), met: vs >= 0.95 && incomplete === 0 });
        }
      }
      figures[`throughputC${c}`] = per;
    }
  } finally {
    await paths.stop();
  }

  // Part 2: per-chunk added latency with a paced, stamping backend.
  const paced: PacedPlan[] = ctx.quick
    ? [{ streams: 1, tps: 500, tokens: 300 }, { streams: 64, tps: 50, tokens: 75 }, { streams: 256, tps: 20, tokens: 40 }]
    : [{ streams: 1, tps: 500, tokens: 1500 }, { streams: 64, tps: 50, tokens: 200 }, { streams: 256, tps: 20, tokens: 100 }];
  const lat: Table = {
    title: "2b. Per-chunk latency: paced streams, each event stamped by the backend when sent",
    columns: ["streams x tok/s / path", "events", "p50 ms", "p99 ms", "added p50", "added p99"],
    rows: [],
    notes: [
      "latency = arrival at the client minus the backend's send stamp; added = path minus direct at the same percentile",
      "paced rather than --tps 0: at full speed a chunk's latency is the depth of the socket buffers, not the proxy's cost",
    ],
  };
  const stampScript = join(import.meta.dir, "..", "stamp-backend.ts");
  for (const p of paced) {
    const label = `${p.streams}x${p.tps}`;
    const port = freePort();
    const direct = await startBackend([process.execPath, stampScript, "--port", String(port), "--tps", String(p.tps)], port);
    const sy = await startSwitchyard(`startPort: ${freePorts(1)}
logToStdout: proxy
models:
  ${MODEL}:
    cmd: |
      "${process.execPath}" "${stampScript}" --port \${PORT} --tps ${p.tps}
    concurrencyLimit: 100000
`);
    await loadModel(sy);
    const nginx = ctx.nginx ? await startNginx(ctx.nginx, port) : null;
    const urls: Record<string, string> = { direct: direct.url, switchyard: sy.url, ...(nginx ? { nginx: nginx.url } : {}) };
    const per: Record<string, unknown> = {};
    let base = { p50: NaN, p99: NaN };
    try {
      for (const [name, url] of Object.entries(urls)) {
        ctx.progress(`stream: per-chunk latency ${label} ${name}`);
        const sink: number[] = [];
        const body = chatBody(MODEL, p.tokens, true);
        const rss = name === "switchyard" ? sampleRss(sy.pid) : null;
        // Starts spread over one second, as a busy server's streams are; all start together would
        // measure the burst of forwarding 256 requests at once rather than the steady per-chunk cost.
        const spreadMs = p.streams > 1 ? 1000 : 0;
        const outs = await Promise.all(
          Array.from({ length: p.streams }, async (_, k) => {
            await sleep((spreadMs * k) / p.streams);
            return readStamped(await postChat(url, body), sink);
          }),
        );
        rss?.stop();
        const bad = outs.filter((o) => o.status !== 200 || !o.done || o.events !== p.tokens).length;
        const s = summarize(sink);
        if (name === "direct") base = { p50: s.p50, p99: s.p99 };
        const a50 = s.p50 - base.p50;
        const a99 = s.p99 - base.p99;
        lat.rows.push([`${label} ${name}`, num(s.n), ms(s.p50), ms(s.p99), name === "direct" ? "" : added(a50), name === "direct" ? "" : added(a99)]);
        per[name] = { latencyMs: roundSummary(s), addedP50Ms: round(a50), addedP99Ms: round(a99), incompleteStreams: bad };
        if (name === "switchyard" && p.streams >= 64) {
          targets.push({ scenario: "stream", target: `added per-chunk p99 <= 5 ms at ${p.streams} streams`, measured: `${added(a99)} ms`, met: a99 <= 5 && bad === 0 });
        }
      }
    } finally {
      await nginx?.stop();
      await sy.stop();
      await direct.stop();
    }
    figures[`latency${label}`] = { plan: p, ...per };
  }
  if (!ctx.nginx) thr.notes!.push("nginx: not measured (absent or --no-nginx)");
  return { name: "stream", tables: [thr, lat], figures, targets };
}
