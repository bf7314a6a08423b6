/** Command-line flags of `npm run bench` (pure parsing). */

/** The scenarios, in the order they run. */
export const SCENARIOS = ["overhead", "stream", "swap", "scheduler", "memory", "llama", "observe", "ui", "fit", "burst", "targets"] as const;
/** One scenario's name. */
export type ScenarioName = (typeof SCENARIOS)[number];

/** What to run. */
export interface BenchArgs {
  /** Smaller counts and shorter runs: a smoke run of every scenario. */
  quick: boolean;
  /** Scenarios to run, in SCENARIOS order. */
  only: ScenarioName[];
  /** Where results.json goes. */
  out: string;
  /** Skip nginx even when it is installed. */
  noNginx: boolean;
  /** Measure this binary instead of building dist/switchyard. */
  binary: string | null;
  /** Scenario 11: also measure this earlier build, in the same run (before and after a change). */
  before: string | null;
}

/** The usage text. */
export const BENCH_USAGE = `usage: bun scripts/bench.ts [--quick] [--only <scenario>[,<scenario>...]] [--out <file>] [--no-nginx] [--binary <path>]

  --quick        smaller counts, for a smoke run (about 2 minutes)
  --only S       run only these scenarios (names or numbers 1-${SCENARIOS.length}): ${SCENARIOS.map((s, i) => `${i + 1}=${s}`).join(", ")}
  --out FILE     where to write the JSON results                              [bench/results.json]
  --no-nginx     leave nginx out even when it is installed
  --binary PATH  measure this build instead of dist/switchyard (which is built when missing or stale)
  --before PATH  scenario 11 (targets) also measures this earlier build, in the same run`;

/** Parse argv; throws Error with a readable message on a bad flag. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const out: BenchArgs = { quick: false, only: [...SCENARIOS], out: "bench/results.json", noNginx: false, binary: null, before: null };
  const picked = new Set<ScenarioName>();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    const eq = word.indexOf("=");
    const name = eq > 0 ? word.slice(0, eq) : word;
    const value = (): string => {
      const v = eq > 0 ? word.slice(eq + 1) : argv[++i];
      if (v === undefined || v === "") throw new Error(`${name} needs a value`);
      return v;
    };
    if (name === "--quick") out.quick = true;
    else if (name === "--no-nginx") out.noNginx = true;
    else if (name === "--out") out.out = value();
    else if (name === "--binary") out.binary = value();
    else if (name === "--before") out.before = value();
    else if (name === "--only") {
      for (const part of value().split(",")) picked.add(scenarioOf(part.trim()));
    } else throw new Error(`unknown flag ${word}`);
  }
  if (picked.size > 0) out.only = SCENARIOS.filter((s) => picked.has(s));
  return out;
}

function scenarioOf(word: string): ScenarioName {
  const n = Number(word);
  if (Number.isInteger(n) && n >= 1 && n <= SCENARIOS.length) return SCENARIOS[n - 1]!;
  const hit = SCENARIOS.find((s) => s === word.toLowerCase());
  if (!hit) throw new Error(`unknown scenario "${word}" (one of ${SCENARIOS.join(", ")} or 1-${SCENARIOS.length})`);
  return hit;
}
