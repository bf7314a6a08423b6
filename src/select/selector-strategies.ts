/**
 * Selector strategies with llama-swap's semantics (internal/server/selector.go), as pure code over
 * a snapshot of process states (which may inform, never gate, a start or stop):
 *   - pin: always the first target;
 *   - warm: the first ready target, else the first starting one, else the first target;
 *   - spillover: targets that are ready, starting or hold reservations are active; below
 *     `spillover` reservations on the least busy active target, it gets the request (ties in turn);
 *     else the first cold target is started; with no cold target left, the least busy active one.
 *     Stopping targets are skipped. A reservation is held until the request ends.
 */
import type { SelectorConfig } from "../config/types.ts";

/** A process state as the supervisor reports it, or undefined for a model it does not run. */
export type TargetState = "stopped" | "starting" | "ready" | "stopping" | "shutdown" | undefined;

/** A target as a strategy sees it: the name as written, the model it resolves to, local or a peer's. */
export interface ResolvedTarget {
  target: string;
  /** Local model ID, or `<peer>/<model>`. */
  id: string;
  local: boolean;
}

/** The pin strategy: the first target. */
export function pinTarget(selector: Pick<SelectorConfig, "targets">): string {
  return selector.targets[0];
}

/** The warm strategy over resolved targets and their states. */
export function warmTarget(targets: readonly ResolvedTarget[], state: (id: string) => TargetState): string {
  for (const t of targets) if (state(t.id) === "ready") return t.target;
  for (const t of targets) if (state(t.id) === "starting") return t.target;
  return targets[0].target;
}

/** Why a spillover selector could not choose. */
export class NoSpilloverTarget extends Error {
  constructor(selector: string) {
    super(`selector ${JSON.stringify(selector)} has no available spillover targets`);
    this.name = "NoSpilloverTarget";
  }
}

/** One spillover selector's reservations. */
export interface SpilloverPool {
  /** Choose a target and reserve it; the returned release (idempotent) gives the reservation back. */
  reserve(state: (id: string) => TargetState): { target: string; release: () => void };
  /** Reservations held now, by resolved model. */
  held(): ReadonlyMap<string, number>;
}

/** A spillover selector's counts: reservations by resolved model, and the tie-break's turn. */
export interface SpilloverCounts {
  inflight: Map<string, number>;
  turn: number;
}

/**
 * Create the reservations of one spillover selector. `counts` (default: fresh) may be carried
 * from the pool a config reload replaces: requests still running there keep their reservations,
 * and give them back into the same counts.
 */
export function createSpilloverPool(selector: string, targets: readonly ResolvedTarget[], spillover: number, counts: SpilloverCounts = { inflight: new Map(), turn: 0 }): SpilloverPool {
  const inflight = counts.inflight;
  const count = (t: ResolvedTarget): number => inflight.get(t.id) ?? 0;
  const take = (t: ResolvedTarget) => {
    inflight.set(t.id, count(t) + 1);
    let released = false;
    return {
      target: t.target,
      release: () => {
        if (released) return;
        released = true;
        const n = count(t) - 1;
        if (n > 0) inflight.set(t.id, n);
        else inflight.delete(t.id);
      },
    };
  };
  const leastBusy = (active: readonly ResolvedTarget[]) => {
    const min = Math.min(...active.map(count));
    const tied = active.filter((t) => count(t) === min);
    return take(tied[counts.turn++ % tied.length]);
  };
  return {
    reserve(state) {
      const active: ResolvedTarget[] = [];
      const cold: ResolvedTarget[] = [];
      for (const t of targets) {
        if (!t.local) {
          (count(t) > 0 ? active : cold).push(t);
          continue;
        }
        const s = state(t.id);
        if (s === "stopping" || s === "shutdown") continue;
        if (s === "ready" || s === "starting" || count(t) > 0) active.push(t);
        else cold.push(t);
      }
      if (active.length === 0) {
        if (cold.length === 0) throw new NoSpilloverTarget(selector);
        return take(cold[0]);
      }
      if (Math.min(...active.map(count)) < spillover) return leastBusy(active);
      if (cold.length > 0) return take(cold[0]);
      return leastBusy(active);
    },
    held: () => inflight,
  };
}
