/**
 * `npm run bench`: builds dist/switchyard when needed, runs the benchmark scenarios against it with
 * `switchyard simulate` backends (plus nginx as a reference proxy when installed), prints tables and
 * writes bench/results.json. See BENCHMARKS.md. Flags: --quick, --only <scenario>, --out, --no-nginx.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { BENCH_USAGE, parseBenchArgs, type BenchArgs, type ScenarioName } from "./bench/args.ts";
import { BINARY, ensureBinary, ROOT, useBinary } from "./bench/binary.ts";
import { killAll, RAISED_LIMIT_FLAG } from "./bench/children.ts";
import { loadAverage, machineInfo } from "./bench/machine.ts";
import { findNginx, NGINX_HINT } from "./bench/nginx.ts";
import type { BenchContext, Scenario, ScenarioResult } from "./bench/scenario.ts";
import { burstScenario } from "./bench/scenarios/burst.ts";
import { fitScenario } from "./bench/scenarios/fit.ts";
import { llamaScenario } from "./bench/scenarios/llama.ts";
import { memoryScenario } from "./bench/scenarios/memory.ts";
import { observeScenario } from "./bench/scenarios/observe.ts";
import { overheadScenario } from "./bench/scenarios/overhead.ts";
import { schedulerScenario } from "./bench/scenarios/scheduler.ts";
import { streamScenario } from "./bench/scenarios/stream.ts";
import { swapScenario } from "./bench/scenarios/swap.ts";
import { targetsScenario } from "./bench/scenarios/targets.ts";
import { uiScenario } from "./bench/scenarios/ui.ts";
import { formatTable, type Table } from "./bench/table.ts";

const RUNNERS: Record<ScenarioName, Scenario> = {
  overhead: overheadScenario,
  stream: streamScenario,
  swap: swapScenario,
  scheduler: schedulerScenario,
  memory: memoryScenario,
  llama: llamaScenario,
  observe: observeScenario,
  ui: uiScenario,
  fit: fitScenario,
  burst: burstScenario,
  targets: targetsScenario,
};

/** Re-run this script with a larger fetch limit; resolves with its exit code. */
async function reexec(argv: string[]): Promise<number> {
  const child = Bun.spawn([process.execPath, import.meta.path, ...argv], {
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: "4096", [RAISED_LIMIT_FLAG]: "1" },
    stdio: ["inherit", "inherit", "inherit"],
  });
  return child.exited;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(BENCH_USAGE);
    return 0;
  }
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv);
  } catch (err) {
    console.error(`bench: ${(err as Error).message}\n\n${BENCH_USAGE}`);
    return 2;
  }
  const started = Date.now();
  if (args.binary) useBinary(args.binary);
  await ensureBinary();
  const machine = machineInfo();
  const nginx = args.noNginx ? null : findNginx();
  if (!nginx && !args.noNginx) console.log(NGINX_HINT);
  const ctx: BenchContext = { quick: args.quick, nginx, before: args.before ? resolve(args.before) : null, progress: (m) => console.error(`  .. ${m}`) };
  console.log(
    `switchyard benchmarks${args.quick ? " (quick)" : ""}: ${machine.cpu}, ${machine.cores} cores, ${machine.memGiB} GiB, ` +
      `${machine.os}, bun ${machine.bun}, load ${machine.loadAtStart.join(" ")}`,
  );

  const results: ScenarioResult[] = [];
  const durations: Record<string, number> = {};
  for (const name of args.only) {
    const t0 = performance.now();
    console.error(`scenario ${name} ...`);
    const r = await RUNNERS[name](ctx);
    durations[name] = Math.round((performance.now() - t0) / 100) / 10;
    results.push(r);
    console.log("");
    for (const t of r.tables) console.log(formatTable(t) + "\n");
  }

  const targets = results.flatMap((r) => r.targets);
  if (targets.length > 0) {
    const table: Table = {
      title: "Targets",
      columns: ["target", "measured", "met"],
      rows: targets.map((t) => [t.target, t.measured, t.met ? "yes" : "NO"]),
    };
    console.log(formatTable(table));
    if (args.quick) console.log("  --quick: smaller counts and a smaller scheduler trace; the verdicts are indicative only");
  }
  const out = resolve(ROOT, args.out);
  mkdirSync(dirname(out), { recursive: true });
  const command = `bun scripts/bench.ts${argv.length ? " " + argv.join(" ") : ""}`;
  const report = {
    date: new Date(started).toISOString(),
    command,
    quick: args.quick,
    machine: { ...machine, loadAtEnd: loadAverage() },
    binary: relative(ROOT, BINARY),
    nginx: nginx ? "measured" : args.noNginx ? "disabled (--no-nginx)" : "not installed",
    durationsSec: durations,
    totalSec: Math.round((Date.now() - started) / 1000),
    targets,
    scenarios: Object.fromEntries(results.map((r) => [r.name, { figures: r.figures, tables: r.tables }])),
  };
  writeFileSync(out, JSON.stringify(report, null, 2) + "\n");
  console.log(`\nwrote ${args.out} (${report.totalSec} s; load at end ${report.machine.loadAtEnd.join(" ")})`);
  return 0;
}

// Why: Bun's fetch runs at most BUN_CONFIG_MAX_HTTP_REQUESTS (default 256) requests at once per
// process and silently queues the rest, read once at start-up; 256 streams plus one /running poll
// would wait for a stream to end. So the generator re-runs itself with a larger limit (which the
// processes it measures do not inherit: children.ts childEnv).
const code = await (process.env.BUN_CONFIG_MAX_HTTP_REQUESTS ? main(process.argv.slice(2)) : reexec(process.argv.slice(2))).catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  return 1;
});
killAll();
process.exit(code);
