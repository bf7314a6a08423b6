/**
 * Scenario 9, placement by memory: one seeded trace of streamed chat completions over three real
 * llama-server models (generated GGUFs), replayed by 4 keep-alive clients against switchyard's fit
 * router on a declared CPU budget, switchyard's default group (one resident at a time), and
 * llama.cpp's router with `--models-max 1` and `--models-max 2`. Two cases: three equal ~400 MB
 * models on a budget that holds two, and unequal ones (one ~800 MB, two ~400 MB) on a budget that
 * holds the big one alone or the two small ones together, which no count cap can express. The
 * systems take turns, round after round, each started fresh with no model loaded. Measured per
 * round: swaps, wall time, latency and TTFT p50/p95, failures, and the peak summed RSS of the model
 * processes (sampled from /proc), so a system that exceeds the budget shows it; and the fit
 * router's GGUF guesses beside its measurements, from its log.
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
  traceMix,
  ttftOf,
  warmPageCache,
  type AltTraceOptions,
  type BenchSystem,
  type RoundResult,
} from "../replay.ts";
import type { BenchContext, ScenarioResult, TargetCheck } from "../scenario.ts";
import { median, round, roundSummary } from "../stats.ts";
import { startSwitchyard } from "../switchyard.ts";
import { num, type Table } from "../table.ts";

/** Flags every llama-server child gets, on every side (as in scenario 6). */
const CHILD_ARGS = ["-c", "2048", "-np", "4", "--no-warmup"];
const MAX_TOKENS = 16;
/**
 * The declared CPU budget, both cases. Decided from the fit router's own GGUF guesses (and checked
 * against its measurements, which the run prints): a "bench" model is guessed at 502 MiB and
 * measured at about 474 MiB (PSS at ready), the "bench2x" one at 958 and about 926 MiB. 1.2 GiB
 * (1,229 MiB) holds two small ones (1,004 MiB guessed) but not three (1,506), and the big one alone
 * (958) but not the big one with a small one (1,460).
 */
const BUDGET = "1.2GiB";
const BUDGET_MIB = 1.2 * 1024;
const MiB = 1024 * 1024;

/** One case: the models (id -> GGUF) and what the budget is meant to hold. */
interface FitCase {
  key: "equal" | "unequal";
  title: string;
  ggufs: Record<string, string>;
  /** Which systems run in this case. */
  systems: SystemKind[];
}

type SystemKind = "fit" | "groups" | "router1" | "router2";

const SYSTEM_NAMES: Record<SystemKind, string> = {
  fit: "switchyard fit",
  groups: "switchyard one at a time",
  router1: "llama router --models-max 1",
  router2: "llama router --models-max 2",
};

const FIT_ROUTING = `routing:
  router:
    use: fit
    settings:
      fit:
        devices:
          - { id: cpu, memory: ${BUDGET}, reserve: 0GiB }
        stateFile: ""
`;

const swapLines = (r: { log: { lines: { text: string }[] } }): number => r.log.lines.filter((l) => /\bswap: loading /.test(l.text)).length;

function systemOf(kind: SystemKind, bin: string, ggufs: Record<string, string>): BenchSystem {
  const n = Object.keys(ggufs).length;
  if (kind === "fit" || kind === "groups") {
    const extra = kind === "fit" ? FIT_ROUTING : "";
    return {
      name: SYSTEM_NAMES[kind],
      async start() {
        const sy = await startSwitchyard(llamaSwitchyardConfig(bin, ggufs, CHILD_ARGS, freePorts(n), extra));
        return { url: sy.url, pid: sy.pid, log: sy.log, loads: () => swapLines(sy), stop: () => sy.stop() };
      },
    };
  }
  const max = kind === "router1" ? 1 : 2;
  return {
    name: SYSTEM_NAMES[kind],
    async start() {
      const r = await startLlamaRouter(bin, ggufs, CHILD_ARGS, max);
      return { url: r.url, pid: r.pid, log: r.log, loads: () => routerLoads(r.log), stop: () => r.stop() };
    },
  };
}

/** A size as switchyard formats it ("502 MiB", "1.20 GiB", "926.5 KiB") in MiB; NaN when unreadable. */
function sizeMiB(text: string): number {
  const m = /^([\d.]+)\s*(B|KiB|MiB|GiB|TiB)$/.exec(text.trim());
  if (!m) return NaN;
  const f = { B: 1 / MiB, KiB: 1 / 1024, MiB: 1, GiB: 1024, TiB: 1024 * 1024 }[m[2] as "B" | "KiB" | "MiB" | "GiB" | "TiB"];
  return Number(m[1]) * f;
}

/** What the fit router logged about one model's memory. */
interface FitModelFigures {
  guessedMiB: number[];
  measuredMiB: number[];
  /** How it measured (pss, rss, nvidia-smi). */
  methods: Set<string>;
  /** Measurements above the figure in use. */
  raised: number;
}

/** The fit router's guesses and measurements per model, from its log lines over every round. */
function fitFigures(rounds: RoundResult[]): Map<string, FitModelFigures> {
  const out = new Map<string, FitModelFigures>();
  const of = (m: string): FitModelFigures => {
    let e = out.get(m);
    if (!e) out.set(m, (e = { guessedMiB: [], measuredMiB: [], methods: new Set(), raised: 0 }));
    return e;
  };
  for (const r of rounds) {
    for (const { text } of r.log.lines) {
      let m = /\bfit: (\S+) guessed at (.+?) from /.exec(text);
      if (m) {
        of(m[1]!).guessedMiB.push(sizeMiB(m[2]!));
        continue;
      }
      m = /\bfit: (\S+) measured at (.+?) on cpu \((\w+)\)/.exec(text);
      if (m) {
        of(m[1]!).measuredMiB.push(sizeMiB(m[2]!));
        of(m[1]!).methods.add(m[3]!);
        continue;
      }
      // A measurement above the figure in use: "fit: x uses 480 MiB on cpu (measured, pss), more than the guessed ...".
      m = /\bfit: (\S+) uses (.+?) on cpu \(measured, (\w+)\)/.exec(text);
      if (m) {
        const e = of(m[1]!);
        e.measuredMiB.push(sizeMiB(m[2]!));
        e.methods.add(m[3]!);
        e.raised++;
      }
    }
  }
  return out;
}

const mib = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : "-");

/** Run scenario 9 (skipped, with one line saying how to build it, when there is no llama-server). */
export async function fitScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const bin = findLlamaServer();
  if (!bin) {
    console.log(`fit: skipped, no llama-server here; build it with ${BUILD_HINT}`);
    return { name: "fit", tables: [], figures: { skipped: "no llama-server" }, targets: [] };
  }
  ctx.progress(`fit: GGUF fixtures (bench s1-s3 and bench2x s3; a first write takes a while)`);
  const small = [1, 2, 3].map((seed) => tinyModel({ size: "bench", seed }));
  const big = tinyModel({ size: "bench2x", seed: 3 });
  for (const path of [...small, big]) warmPageCache(path);
  const cases: FitCase[] = [
    {
      key: "equal",
      title: `three equal models (bench, about 400 MB each), budget ${BUDGET}: two fit`,
      ggufs: { "small-a": small[0]!, "small-b": small[1]!, "small-c": small[2]! },
      systems: ["fit", "groups", "router1", "router2"],
    },
    {
      key: "unequal",
      title: `unequal models (one bench2x of about 800 MB, two bench of about 400 MB), budget ${BUDGET}: the big one alone or the two small ones`,
      ggufs: { big: big, "small-a": small[0]!, "small-b": small[1]! },
      systems: ["fit", "router1", "router2"],
    },
  ];
  const rounds = ctx.quick ? 1 : 3;
  const requests = ctx.quick ? 12 : 24;

  const tables: Table[] = [];
  const figures: Record<string, unknown> = { budget: BUDGET, childArgs: CHILD_ARGS, rounds, llamaServer: bin };
  const targets: TargetCheck[] = [];
  const fitRounds: { r: RoundResult; ggufs: Record<string, string> }[] = [];
  const letter = ["a", "b"];
  for (const [ci, c] of cases.entries()) {
    const opts: AltTraceOptions = { seed: 13, models: Object.keys(c.ggufs), clients: 4, requests, switchChance: 0.6, thinkMs: [0, 200], maxTokens: MAX_TOKENS };
    const trace = buildAltTrace(opts);
    const systems = c.systems.map((k) => systemOf(k, bin, c.ggufs));
    const results = await runRounds(`fit ${c.key}`, systems, trace, rounds, ctx.progress);
    for (const r of results) if (r.system === SYSTEM_NAMES.fit) fitRounds.push({ r, ggufs: c.ggufs });

    const table: Table = {
      title: `9${letter[ci]}. Fit vs one at a time vs count caps, ${c.title}; ${requests} streamed requests (max_tokens ${MAX_TOKENS}), ${opts.clients} clients, ${rounds} round(s)`,
      columns: ["system", ...OUTCOME_COLUMNS, "peak model RSS MiB", `over ${BUDGET}`],
      rows: [],
      notes: [
        `trace seed ${opts.seed}: requests per model ${Object.entries(traceMix(trace)).map(([m, k]) => `${m} ${k}`).join(", ")}; each client switches model with p=${opts.switchChance} per request, think ${opts.thinkMs[0]}-${opts.thinkMs[1]} ms`,
        `models: ${Object.entries(c.ggufs).map(([id, p]) => `${id} = ${p.split("/").pop()}`).join(", ")}; children everywhere: llama-server ${CHILD_ARGS.join(" ")}`,
        "swaps = model loads, the first included (switchyard `swap: loading` lines; router `spawning server instance` lines); counts summed over the rounds, wall s = median of the rounds, percentiles over every successful request of every round",
        "peak model RSS = the largest sum of VmRSS over the system's descendants (the llama-server children; the router process itself left out), sampled every 100 ms; the max over the rounds",
      ],
    };
    const perRound: Table = {
      title: `9${letter[ci]}, per round: wall s / swaps / peak model RSS MiB / other work's CPU s`,
      columns: ["system", ...Array.from({ length: rounds }, (_, k) => `round ${k + 1}`)],
      rows: [],
      notes: ["other work's CPU s = the machine's busy CPU time during the replay (/proc/stat) less the bench's and the system's own: other processes on a shared machine (2 cores: 2 CPU s per second of wall time)"],
    };
    const caseFigures: Record<string, unknown> = { trace: opts, mix: traceMix(trace), models: Object.fromEntries(Object.entries(c.ggufs).map(([id, p]) => [id, p.split("/").pop()])) };
    const bySystem: Record<string, { swaps: number; failed: number; peak: number; wall: number }> = {};
    for (const s of systems) {
      const mine = results.filter((r) => r.system === s.name);
      const all: ChatOutcome[] = mine.flatMap((r) => r.outcomes);
      const swaps = mine.reduce((a, r) => a + r.loads, 0);
      const wall = median(mine.map((r) => r.wallMs));
      const peak = Math.max(...mine.map((r) => r.peakModelRssMiB));
      bySystem[s.name] = { swaps, failed: failedOf(all), peak, wall };
      table.rows.push([s.name, ...outcomeCells(all, swaps, wall), mib(peak), peak > BUDGET_MIB ? "**yes**" : "no"]);
      table.notes!.push(...failureNotes(s.name, all));
      perRound.rows.push([s.name, ...mine.map((r) => `${(r.wallMs / 1000).toFixed(1)} / ${r.loads} / ${mib(r.peakModelRssMiB)} / ${r.otherCpuS.toFixed(1)}`)]);
      caseFigures[s.name] = {
        rounds: mine.map((r) => ({
          round: r.round,
          wallMs: round(r.wallMs, 0),
          swaps: r.loads,
          failed: failedOf(r.outcomes),
          peakModelRssMiB: round(r.peakModelRssMiB, 1),
          otherCpuS: round(r.otherCpuS, 1),
          latencyMs: roundSummary(latencyOf(r.outcomes)),
          ttftMs: roundSummary(ttftOf(r.outcomes)),
          failures: r.outcomes.flatMap((o) => (o.failure === undefined ? [] : [o.failure])),
        })),
        swaps,
        wallMedianMs: round(wall, 0),
        latencyMs: roundSummary(latencyOf(all)),
        ttftMs: roundSummary(ttftOf(all)),
        failed: failedOf(all),
        peakModelRssMiB: round(peak, 1),
      };
    }
    tables.push(table, perRound);
    figures[c.key] = caseFigures;

    const fit = bySystem[SYSTEM_NAMES.fit]!;
    const single = bySystem[SYSTEM_NAMES[c.key === "equal" ? "groups" : "router1"]]!;
    targets.push(
      { scenario: "fit", target: `${c.key}: fit, 0 failed requests`, measured: `${fit.failed} of ${requests * rounds}`, met: fit.failed === 0 },
      { scenario: "fit", target: `${c.key}: fit stays within the ${BUDGET} budget (peak model RSS)`, measured: `${mib(fit.peak)} MiB`, met: fit.peak <= BUDGET_MIB },
      {
        scenario: "fit",
        target: `${c.key}: fit swaps fewer than ${c.key === "equal" ? "one at a time" : "--models-max 1"}`,
        measured: `${fit.swaps} vs ${single.swaps}`,
        met: fit.swaps < single.swaps,
      },
    );
  }

  // The fit router's figures per model, over every round of both cases (the same small files in both).
  const byFile = new Map<string, FitModelFigures & { ids: Set<string> }>();
  for (const { r, ggufs } of fitRounds) {
    for (const [id, f] of fitFigures([r])) {
      const file = (ggufs[id] ?? id).split("/").pop()!;
      let e = byFile.get(file);
      if (!e) byFile.set(file, (e = { ids: new Set(), guessedMiB: [], measuredMiB: [], methods: new Set(), raised: 0 }));
      e.ids.add(id);
      e.guessedMiB.push(...f.guessedMiB);
      e.measuredMiB.push(...f.measuredMiB);
      for (const m of f.methods) e.methods.add(m);
      e.raised += f.raised;
    }
  }
  const guessTable: Table = {
    title: "9c. The fit router's GGUF guess vs its measurement after each load (from its log, every round of both cases)",
    columns: ["file", "guessed MiB", "measured MiB, median", "measured min-max", "loads measured", "guess vs median", "raised"],
    rows: [...byFile].map(([file, e]) => {
      const g = median(e.guessedMiB);
      const m = median(e.measuredMiB);
      const lo = Math.min(...e.measuredMiB);
      const hi = Math.max(...e.measuredMiB);
      const err = ((g - m) / m) * 100;
      return [file, mib(g), mib(m), `${mib(lo)}-${mib(hi)}`, num(e.measuredMiB.length), Number.isFinite(err) ? `${err >= 0 ? "+" : ""}${err.toFixed(1)}%` : "-", num(e.raised)];
    }),
    notes: [
      "guessed = `fit: <model> guessed at ...` at start (weights + KV cache for -c 2048 -np 4 + buffers); measured = `fit: <model> measured at ... (pss)` or `uses ...` once the model turned ready (its process group's PSS)",
      `budget check: ${budgetCheck(byFile)}`,
      "raised = measurements above the figure in use (each logged and re-planned)",
    ],
  };
  tables.push(guessTable);
  figures.guesses = Object.fromEntries(
    [...byFile].map(([file, e]) => [file, { ids: [...e.ids], guessedMiB: e.guessedMiB.map((x) => round(x, 1)), measuredMiB: e.measuredMiB.map((x) => round(x, 1)), methods: [...e.methods], raised: e.raised }]),
  );
  return { name: "fit", tables, figures, targets };
}

/** Whether the budget holds what it is meant to, by the guesses and by the median measurements. */
function budgetCheck(byFile: Map<string, { guessedMiB: number[]; measuredMiB: number[] }>): string {
  const pick = (file: string, k: "guessedMiB" | "measuredMiB"): number => median(byFile.get(file)?.[k] ?? []);
  const parts: string[] = [];
  for (const k of ["guessedMiB", "measuredMiB"] as const) {
    const s = pick("bench-s1.gguf", k);
    const b = pick("bench2x-s3.gguf", k);
    const ok = 2 * s <= BUDGET_MIB && 3 * s > BUDGET_MIB && b <= BUDGET_MIB && b + s > BUDGET_MIB;
    parts.push(`${k === "guessedMiB" ? "guessed" : "measured"}: two small ${mib(2 * s)}, three small ${mib(3 * s)}, big ${mib(b)}, big + small ${mib(b + s)} MiB vs ${mib(BUDGET_MIB)} MiB (${ok ? "holds two small or the big one, as meant" : "NOT as meant"})`);
  }
  return parts.join("; ");
}
