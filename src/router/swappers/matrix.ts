/**
 * The matrix eviction policy (llama-swap `matrix`): each combination of a set lists models that may
 * run together (any subset of one may). To run a target, pick the combination containing it that is
 * cheapest to reach (Σ evict cost of the running models outside it; ties to the earlier one, in
 * compiled order and then expansion order) and evict the running models outside it. A running
 * target evicts nothing; a model in no set runs alone. The combinations are the matrix projected
 * onto the target and the running models: the same decision as over the full expansion, at a cost
 * that does not grow with the number of combinations.
 */
import { projectMatrix } from "../../config/matrix-dsl.ts";
import type { CompiledMatrixSet, ExpandedSet } from "../../config/types.ts";
import type { Logger } from "../../log/types.ts";
import type { Swapper } from "../seams.ts";

/** The decision for one target, with what it is based on (for the swap log line). */
export interface MatrixDecision {
  evict: string[];
  /** The chosen combination (projected onto the target and the running models), or null when the target is running already or in no set. */
  chosen: ExpandedSet | null;
  cost: number;
}

/** Matrix swapper inputs: compiled sets (in compiled order) and per-model evict costs (default 1). */
export interface MatrixSwapperOptions {
  sets: readonly CompiledMatrixSet[];
  /** Real model ID → cost of evicting it. */
  evictCosts: Readonly<Record<string, number>>;
  log?: Logger;
}

/** Solve one target against the running set (pure). */
export function solveMatrix(
  compiled: readonly CompiledMatrixSet[],
  evictCosts: Readonly<Record<string, number>>,
  target: string,
  running: readonly string[],
): MatrixDecision {
  if (running.includes(target)) return { evict: [], chosen: null, cost: 0 };
  const sets = projectMatrix(compiled, [target, ...running]);
  const cost = (m: string): number => (Object.hasOwn(evictCosts, m) ? (evictCosts[m] as number) : 1);
  let best: { set: ExpandedSet; cost: number } | null = null;
  for (const set of sets) {
    if (!set.models.includes(target)) continue;
    let c = 0;
    for (const m of running) if (!set.models.includes(m)) c += cost(m);
    if (!best || c < best.cost) best = { set, cost: c };
  }
  if (!best) return { evict: [...running], chosen: null, cost: running.reduce((s, m) => s + cost(m), 0) };
  const chosen = best.set;
  return { evict: running.filter((m) => !chosen.models.includes(m)), chosen, cost: best.cost };
}

/** Create the matrix swapper. */
export function createMatrixSwapper(opts: MatrixSwapperOptions): Swapper {
  const { sets, evictCosts, log } = opts;
  return {
    evictionFor(target, running) {
      return solveMatrix(sets, evictCosts, target, running).evict;
    },
    onSwapStart(target, running) {
      if (!log) return;
      const d = solveMatrix(sets, evictCosts, target, running);
      const where = d.chosen ? `set=${d.chosen.set} dsl=${JSON.stringify(d.chosen.dsl)}` : "set=(none: runs alone)";
      const line = `matrix: model=${target} ${where} evict=[${d.evict.join(",")}] cost=${d.cost}`;
      if (d.evict.length > 0 || running.length === 0) log.info(line);
      else log.debug(line);
    },
  };
}
