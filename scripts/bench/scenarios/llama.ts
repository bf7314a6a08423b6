/**
 * Scenario 6, real backends vs llama.cpp's router: one seeded trace of streamed chat completions
 * that keeps alternating between two llama-server models (generated GGUFs, the same two files on
 * both sides), replayed by 4 keep-alive clients against (a) switchyard with the two models in the
 * default group (one resident at a time) and (b) `llama-server --models-dir DIR --models-max 1`.
 * The systems take turns, round after round, each started fresh with no model loaded. Measured per
 * round: wall time of the trace, request latency and time to first token (p50/p95), failures, and
 * model loads (switchyard's `swap: loading` lines; the router's `spawning server instance` lines).
 */
import { closeSync, openSync, readSync } from "node:fs";
import { tinyModel } from "../../../test/fixtures/gguf.ts";
import { BUILD_HINT, findLlamaServer } from "../../llama-server.ts";
import { streamChat, type ChatOutcome } from "../chat-stream.ts";
import { sleep } from "../clock.ts";
import { routerLoads, startLlamaRouter } from "../llama-router.ts";
import { freePorts } from "../ports.ts";
import type { BenchContext, ScenarioResult, TargetCheck } from "../scenario.ts";
import { median, round, roundSummary, summarize, type Summary } from "../stats.ts";
import { startSwitchyard } from "../switchyard.ts";
import { ms, num, type Table } from "../table.ts";
import { prng, type TraceRequest } from "../trace.ts";

const MODELS = ["model-a", "model-b"];
/** Flags every llama-server child gets, on both sides. */
const CHILD_ARGS = ["-c", "2048", "-np", "4", "--no-warmup"];
const MAX_TOKENS = 16;
const REQUEST_TIMEOUT_MS = 180_000;

/** Shape of the alternating trace. */
interface AltTraceOptions {
  seed: number;
  clients: number;
  requests: number;
  /** Chance that a client's next request is for the other model. */
  switchChance: number;
  thinkMs: [number, number];
}

/** Per client: the first request on model (client mod 2), each next one switching model with `switchChance`. */
function buildAltTrace(o: AltTraceOptions): TraceRequest[][] {
  const rnd = prng(o.seed);
  const between = (lo: number, hi: number) => Math.round(lo + rnd() * (hi - lo));
  const out: TraceRequest[][] = Array.from({ length: o.clients }, () => []);
  for (let i = 0; i < o.requests; i++) {
    const client = out[i % o.clients]!;
    const prev = client[client.length - 1];
    const model = !prev ? MODELS[(i % o.clients) % MODELS.length]! : rnd() < o.switchChance ? MODELS.find((m) => m !== prev.model)! : prev.model;
    client.push({ model, maxTokens: MAX_TOKENS, thinkMs: between(o.thinkMs[0], o.thinkMs[1]) });
  }
  return out;
}

/** A system under test, started fresh for each round. */
interface System {
  name: string;
  start(): Promise<{ url: string; loads(): number; stop(): Promise<void> }>;
}

/** Quote a word for switchyard's POSIX-style cmd splitting. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_/.,:=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function switchyardConfig(bin: string, ggufs: Record<string, string>): string {
  const models = Object.entries(ggufs).map(([id, path]) => {
    const cmd = [bin, "-m", path, "--host", "127.0.0.1", "--port", "${PORT}", ...CHILD_ARGS].map((w) => (w === "${PORT}" ? w : shellWord(w))).join(" ");
    return `  ${id}:\n    cmd: ${JSON.stringify(cmd)}\n`;
  });
  return `startPort: ${freePorts(MODELS.length)}
logToStdout: proxy
sendLoadingState: false
healthCheckTimeout: 120
models:
${models.join("")}`;
}

/** Read a file once so that the first round does not pay for a cold page cache. */
function warmPageCache(path: string): void {
  const fd = openSync(path, "r");
  const buf = new Uint8Array(8 << 20);
  try {
    while (readSync(fd, buf) > 0) {}
  } finally {
    closeSync(fd);
  }
}

/** Replay the trace against `url`: each client sends its requests one after another. */
async function replay(url: string, trace: TraceRequest[][]): Promise<{ outcomes: ChatOutcome[]; wallMs: number }> {
  const outcomes: ChatOutcome[] = [];
  const t0 = performance.now();
  await Promise.all(
    trace.map(async (requests) => {
      for (const r of requests) {
        await sleep(r.thinkMs);
        outcomes.push(await streamChat(url, r.model, r.maxTokens, REQUEST_TIMEOUT_MS));
      }
    }),
  );
  return { outcomes, wallMs: performance.now() - t0 };
}

/** One round of one system. */
interface RoundResult {
  system: string;
  round: number;
  wallMs: number;
  loads: number;
  outcomes: ChatOutcome[];
}

const okOf = (os: ChatOutcome[]) => os.filter((o) => o.failure === undefined);
const latencyOf = (os: ChatOutcome[]): Summary => summarize(okOf(os).map((o) => o.latencyMs));
const ttftOf = (os: ChatOutcome[]): Summary => summarize(okOf(os).map((o) => o.ttftMs).filter(Number.isFinite));
const failedOf = (os: ChatOutcome[]) => os.length - okOf(os).length;

function row(label: string, os: ChatOutcome[], loads: number, wallMs: number): string[] {
  const l = latencyOf(os);
  const t = ttftOf(os);
  return [label, num(os.length), num(failedOf(os)), num(loads), (wallMs / 1000).toFixed(2), ms(l.p50), ms(l.p95), ms(t.p50), ms(t.p95)];
}

/** "3x <message>" lines for the distinct failures of a system. */
function failureNotes(system: string, os: ChatOutcome[]): string[] {
  const counts = new Map<string, number>();
  for (const o of os) if (o.failure !== undefined) counts.set(o.failure, (counts.get(o.failure) ?? 0) + 1);
  return [...counts].slice(0, 5).map(([msg, n]) => `${system} failure, ${n}x: ${msg}`);
}

/** Run scenario 6 (skipped, with one line saying how to build it, when there is no llama-server). */
export async function llamaScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const bin = findLlamaServer();
  if (!bin) {
    console.log(`llama: skipped, no llama-server here; build it with ${BUILD_HINT}`);
    return { name: "llama", tables: [], figures: { skipped: "no llama-server" }, targets: [] };
  }
  const size = ctx.quick ? "tiny" : "bench";
  ctx.progress(`llama: GGUF fixtures (${size}; the first "bench" write takes a while)`);
  const ggufs: Record<string, string> = Object.fromEntries(MODELS.map((m, i) => [m, tinyModel({ size, seed: i + 1 })]));
  for (const path of Object.values(ggufs)) warmPageCache(path);
  const opts: AltTraceOptions = { seed: 11, clients: 4, requests: ctx.quick ? 12 : 40, switchChance: 0.6, thinkMs: [0, 200] };
  const trace = buildAltTrace(opts);
  const rounds = ctx.quick ? 2 : 3;

  const systems: System[] = [
    {
      name: "switchyard",
      async start() {
        const sy = await startSwitchyard(switchyardConfig(bin, ggufs));
        return { url: sy.url, loads: () => sy.log.lines.filter((l) => /\bswap: loading /.test(l.text)).length, stop: () => sy.stop() };
      },
    },
    {
      name: "llama router",
      async start() {
        const r = await startLlamaRouter(bin, ggufs, CHILD_ARGS, 1);
        return { url: r.url, loads: () => routerLoads(r.log), stop: () => r.stop() };
      },
    },
  ];

  const results: RoundResult[] = [];
  for (let k = 1; k <= rounds; k++) {
    for (const s of systems) {
      ctx.progress(`llama: round ${k}/${rounds}, ${s.name}: ${opts.requests} requests`);
      const sut = await s.start();
      try {
        const { outcomes, wallMs } = await replay(sut.url, trace);
        results.push({ system: s.name, round: k, wallMs, loads: sut.loads(), outcomes });
        ctx.progress(`llama: ${s.name} ${(wallMs / 1000).toFixed(1)} s, ${failedOf(outcomes)} failed, ${sut.loads()} loads`);
      } finally {
        await sut.stop();
      }
    }
  }

  const table: Table = {
    title: `6. Real backends vs llama.cpp's router: ${opts.requests} streamed requests (max_tokens ${MAX_TOKENS}), ${opts.clients} clients, 2 ${size} GGUF models, one resident`,
    columns: ["round / system", "requests", "failed", "swaps", "wall s", "latency p50 ms", "latency p95 ms", "TTFT p50 ms", "TTFT p95 ms"],
    rows: results.map((r) => row(`round ${r.round} ${r.system}`, r.outcomes, r.loads, r.wallMs)),
    notes: [
      `trace seed ${opts.seed}: each client switches model with p=${opts.switchChance} per request, think ${opts.thinkMs[0]}-${opts.thinkMs[1]} ms; systems take turns, each started fresh per round`,
      `children on both sides: llama-server ${CHILD_ARGS.join(" ")}; router: --models-dir DIR --models-max 1 (same flags, passed on to its children)`,
      "swaps = model loads, the first included (switchyard `swap: loading` lines; router `spawning server instance` lines)",
      "all rounds: counts summed, wall s = median of the rounds, percentiles over every successful request of every round",
    ],
  };
  const figures: Record<string, unknown> = { trace: opts, rounds, modelSize: size, childArgs: CHILD_ARGS, llamaServer: bin };
  const wallMedian: Record<string, number> = {};
  const failedTotal: Record<string, number> = {};
  for (const s of systems) {
    const mine = results.filter((r) => r.system === s.name);
    const all = mine.flatMap((r) => r.outcomes);
    wallMedian[s.name] = median(mine.map((r) => r.wallMs));
    failedTotal[s.name] = failedOf(all);
    table.rows.push(row(`all rounds ${s.name}`, all, mine.reduce((a, r) => a + r.loads, 0), wallMedian[s.name]!));
    table.notes!.push(...failureNotes(s.name, all));
    figures[s.name] = {
      rounds: mine.map((r) => ({
        round: r.round,
        wallMs: round(r.wallMs, 0),
        swaps: r.loads,
        failed: failedOf(r.outcomes),
        latencyMs: roundSummary(latencyOf(r.outcomes)),
        ttftMs: roundSummary(ttftOf(r.outcomes)),
        failures: r.outcomes.flatMap((o) => (o.failure === undefined ? [] : [o.failure])),
      })),
      wallMedianMs: round(wallMedian[s.name]!, 0),
      latencyMs: roundSummary(latencyOf(all)),
      ttftMs: roundSummary(ttftOf(all)),
      failed: failedTotal[s.name],
    };
  }
  const sy = wallMedian.switchyard!;
  const router = wallMedian["llama router"]!;
  const targets: TargetCheck[] = [
    {
      scenario: "llama",
      target: "switchyard: 0 failed requests over every round",
      measured: `${failedTotal.switchyard} of ${opts.requests * rounds}`,
      met: failedTotal.switchyard === 0,
    },
    {
      scenario: "llama",
      target: "switchyard wall time <= llama router's (+10% for noise)",
      measured: `median ${(sy / 1000).toFixed(2)} s vs ${(router / 1000).toFixed(2)} s (${((sy / router) * 100).toFixed(0)}%)`,
      met: sy <= router * 1.1,
    },
  ];
  return { name: "llama", tables: [table], figures, targets };
}
