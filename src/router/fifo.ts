/**
 * The default scheduler, with llama-swap's semantics: join a swap of the same model, fast path when
 * the model is ready and nothing must go, queue on a collision or a busy evictee, disjoint swaps in
 * parallel, queue ordered by priority then arrival (so `A B C A B C` is served `A A B B C C`).
 * Beyond llama-swap, a starvation bound: once the oldest queued request has waited `maxWait`, the
 * models it needs evicted stop taking new work, drain (bounded by their `drainTimeout`) and go.
 */
import { createSchedulerCore } from "./scheduler-core.ts";
import { NO_MODELS, type Core, type Entry, type Policy } from "./scheduler-state.ts";
import type { Effects, Scheduler, SchedulerSettings, Swapper } from "./seams.ts";

/** The first entry of `list` (sorted by `compare`) that comes after `cursor`, or undefined. */
function firstAfter(list: readonly Entry[], cursor: Entry, compare: (a: Entry, b: Entry) => number): Entry | undefined {
  const head = list[0];
  if (head === undefined || compare(head, cursor) > 0) return head;
  let lo = 1;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(list[mid] as Entry, cursor) > 0) hi = mid;
    else lo = mid + 1;
  }
  return list[lo];
}

/**
 * Try to move one queued entry on; true when it left the queue. The cases, in order:
 *   1. its model drains, is being stopped, or its swap is doomed: stay queued;
 *   2. a swap to its model is under way: join it;
 *   3. fast path: the model is ready, nothing must go, nothing collides: grant now;
 *   4. the swap it needs collides with a swap or stop under way: stay queued;
 *   5. a model it must evict has requests in flight: stay queued (never evict a busy model;
 *      its drain, if one was started, severs the laggards at the deadline);
 *   6. start a swap: evict what the swapper says, load the model.
 */
function route(core: Core, swapper: Swapper, e: Entry): boolean {
  const model = e.req.model;
  if (core.isBlockedTarget(model)) return false; // 1
  const sw = core.swapFor(model);
  if (sw) {
    core.join(e, sw); // 2
    return true;
  }
  const running = core.runningSet();
  const evict = swapper.evictionFor(model, running, core.view);
  const collision = core.collides(model, evict);
  if (core.effects.modelState(model) === "ready" && evict.length === 0 && !collision) {
    core.grant(e); // 3
    return true;
  }
  if (collision) return false; // 4
  if (evict.some((m) => core.inFlightCount(m) > 0)) return false; // 5
  core.startSwap(e, evict, running, swapper); // 6
  return true;
}

/**
 * One walk over the queue in its order, routing each entry, as if every queued entry were tried;
 * but an entry is skipped when an earlier one of the same model stayed queued and nothing has
 * moved since. That skip changes no outcome: `route` reads only the entry's model and the state,
 * and when it keeps an entry queued (cases 1, 4, 5) it changes nothing, so the next entry of that
 * model, with the state unchanged, would stay queued too. So a walk costs one `route` per entry
 * that moves, plus at most one per model between moves, whatever the queue's length.
 */
function dispatchQueue(core: Core, swapper: Swapper, compare: (a: Entry, b: Entry) => number): boolean {
  // An empty queue (a pump after a request finished) walks nothing and allocates nothing.
  if (core.queuedByModel().size === 0) return false;
  let moved = false;
  /** How many entries have moved so far in this walk. */
  let moves = 0;
  /** Per model: the number of moves when one of its entries last stayed queued. */
  const stuckAt = new Map<string, number>();
  let cursor: Entry | undefined;
  for (;;) {
    // The next entry in queue order after the last one tried, among models not known to be stuck.
    let next: Entry | undefined;
    for (const [model, list] of core.queuedByModel()) {
      if (stuckAt.get(model) === moves) continue;
      const e = cursor === undefined ? list[0] : firstAfter(list, cursor, compare);
      if (e !== undefined && (next === undefined || compare(e, next) < 0)) next = e;
    }
    if (next === undefined) return moved;
    cursor = next;
    if (route(core, swapper, next)) {
      moved = true;
      moves++;
    } else stuckAt.set(next.req.model, moves);
  }
}

/** The fifo policy over a swapper; `priority` orders the queue (higher first, then arrival). */
export function fifoPolicy(swapper: Swapper, priority: (model: string) => number): Policy {
  const compare = (a: Entry, b: Entry): number => priority(b.req.model) - priority(a.req.model) || a.seq - b.seq;
  return {
    compare,
    dispatch(core) {
      return dispatchQueue(core, swapper, compare);
    },
    drainWants(core) {
      const maxWaitMs = core.settings.maxWaitSec * 1000;
      const o = core.oldest();
      if (maxWaitMs <= 0 || !o || core.now() - o.req.arrivedAt < maxWaitMs) return NO_MODELS;
      const model = o.req.model;
      const d = core.drainOf(model);
      if ((d && d.cause !== "evict") || core.isStopping(model) || core.swapFor(model)) return NO_MODELS;
      const loading = core.swapTargets();
      return new Set(swapper.evictionFor(model, core.runningSet(), core.view).filter((m) => !loading.has(m)));
    },
    nextWake(core) {
      const maxWaitMs = core.settings.maxWaitSec * 1000;
      const o = core.oldest();
      if (maxWaitMs <= 0 || !o) return null;
      const at = o.req.arrivedAt + maxWaitMs;
      return at > core.now() ? at : null;
    },
    refusal: swapper.refusal ? (model) => swapper.refusal!(model) : undefined,
    outOfMemory: swapper.onOutOfMemory ? (model) => swapper.onOutOfMemory!(model) : undefined,
  };
}

/** Create the fifo scheduler. */
export function createFifo(settings: SchedulerSettings, swapper: Swapper, effects: Effects): Scheduler {
  return createSchedulerCore(settings, effects, fifoPolicy(swapper, (m) => settings.priority(m)));
}
