/** What every scenario gets and gives back. */
import type { ScenarioName } from "./args.ts";
import type { Table } from "./table.ts";

/** One target of the issue and whether this run met it. */
export interface TargetCheck {
  scenario: ScenarioName;
  /** The target as stated ("added p50 latency at c=1 <= 1 ms"). */
  target: string;
  /** What was measured, formatted. */
  measured: string;
  met: boolean;
}

/** Shared settings for one benchmark run. */
export interface BenchContext {
  quick: boolean;
  /** The nginx binary, or null when absent or disabled. */
  nginx: string | null;
  /** An earlier build to measure beside the one under test (scenario 11), or null. */
  before: string | null;
  /** Progress output (stderr, so stdout stays the report). */
  progress(msg: string): void;
}

/** A scenario's outcome. */
export interface ScenarioResult {
  name: ScenarioName;
  tables: Table[];
  /** Raw figures for results.json. */
  figures: Record<string, unknown>;
  targets: TargetCheck[];
}

/** A scenario. */
export type Scenario = (ctx: BenchContext) => Promise<ScenarioResult>;
