/**
 * Scenario 6, real backends vs llama.cpp's router: one seeded trace of streamed chat completions
 * that keeps alternating between two llama-server models (generated GGUFs, the same two files on
 * both sides), replayed by 4 keep-alive clients against (a) switchyard with the two models in the
 * default group (one resident at a time) and (b) `llama-server --models-dir DIR --models-max 1`.
 * The systems take turns, round after round, each started fresh with no model loaded. Measured per
 * round: wall time of the trace, request latency and time to first token (p50/p95), failures, and
 * model loads (switchyard's `swap: loading` lines; the router's `spawning server instance` lines).
 */
import { tinyModel } from "../../../test/fixtures/gguf.ts";
import { BUILD_HINT, findLlamaServer } from "../../llama-server.ts";
import type { ChatOutcome } from "../chat-stream.ts";
import { routerLoads, startLlamaRouter } from "../llama-router.ts";
import { freePorts } from "../ports.ts";
import {
  buildAltTrace,
  failedOf,
  failureNotes,
  latencyOf,
  llamaSwitchyardConfig,
  OUTCOME_COLUMNS,
  outcomeCells,
  runRounds,
  ttftOf,
  warmPageCache,
  type AltTraceOptions,
  type BenchSystem,
} from "../replay.ts";
import type { BenchContext, ScenarioResult, TargetCheck } from "../scenario.ts";
import { median, round, roundSummary } from "../stats.ts";
import { startSwitchyard } from "../switchyard.ts";
import type { Table } from "../table.ts";

const MODELS = ["model-a", "model-b"];
/** Flags every llama-server child gets, on both sides. */
const CHILD_ARGS = ["-c", "2048", "-np", "4", "--no-warmup"];
const MAX_TOKENS = 16;

const row = (label: string, os: ChatOutcome[], loads: number, wallMs: number): string[] => [label, ...outcomeCells(os, loads, wallMs)];

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
  const opts: AltTraceOptions = { seed: 11, models: MODELS, clients: 4, requests: ctx.quick ? 12 : 40, switchChance: 0.6, thinkMs: [0, 200], maxTokens: MAX_TOKENS };
  const trace = buildAltTrace(opts);
  const rounds = ctx.quick ? 2 : 3;

  const systems: BenchSystem[] = [
    {
      name: "switchyard",
      async start() {
        const sy = await startSwitchyard(llamaSwitchyardConfig(bin, ggufs, CHILD_ARGS, freePorts(MODELS.length)));
        return { url: sy.url, pid: sy.pid, log: sy.log, loads: () => sy.log.lines.filter((l) => /\bswap: loading /.test(l.text)).length, stop: () => sy.stop() };
      },
    },
    {
      name: "llama router",
      async start() {
        const r = await startLlamaRouter(bin, ggufs, CHILD_ARGS, 1);
        return { url: r.url, pid: r.pid, log: r.log, loads: () => routerLoads(r.log), stop: () => r.stop() };
      },
    },
  ];

  const results = await runRounds("llama", systems, trace, rounds, ctx.progress);

  const table: Table = {
    title: `6. Real backends vs llama.cpp's router: ${opts.requests} streamed requests (max_tokens ${MAX_TOKENS}), ${opts.clients} clients, 2 ${size} GGUF models, one resident`,
    columns: ["round / system", ...OUTCOME_COLUMNS],
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
