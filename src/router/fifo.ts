/**
 * The default scheduler, with llama-swap's semantics: join a swap of the same model, fast path when
 * the model is ready and nothing must go, queue on a collision or a busy evictee, disjoint swaps in
 * parallel, queue ordered by priority then arrival (so `A B C A B C` is served `A A B B C C`).
 * Beyond llama-swap, a starvation bound: once the oldest queued request has waited `maxWait`, the
 * models it needs evicted stop taking new work, drain (bounded by their `drainTimeout`) and go.
 * Its wait against a resident counts from its arrival or from when that resident's swap finished,
 * whichever is later, so every model gets at least `maxWait` of residency after its load (a load
 * that takes `maxWait` does not get its model drained the moment it is ready), against requests
 * that arrived after the one its swap was started for (see oldestWait). A request that
 * starved goes ahead of every priority and is served next: none other takes the capacity its
 * drain frees.
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

/** The oldest queued request as the starvation bound sees it. */
interface Oldest {
  entry: Entry;
  /** The resident models (not loading) it needs evicted. */
  evict: string[];
  /** Epoch ms when it starves: `maxWait` after its arrival or after the latest swap-finish that counts (see oldestWait). */
  dueAt: number;
}

/**
 * The oldest queued request and when it starves; undefined when the bound is off or nothing is
 * queued. Its wait against each model it needs evicted counts from its arrival or from when that
 * model's swap finished, whichever is later (a model still loading: not before it is ready). A swap
 * started for a request that arrived after it (one that went ahead by priority) does not count:
 * otherwise models taking turns ahead of it would restart its clock for ever. The eviction
 * question is asked only once `maxWait` has passed since its arrival (before that it cannot be
 * due: the common case costs nothing).
 */
function oldestWait(core: Core, swapper: Swapper): Oldest | undefined {
  const maxWaitMs = core.settings.maxWaitSec * 1000;
  const o = core.oldest();
  if (maxWaitMs <= 0 || !o) return undefined;
  const arrived = o.req.arrivedAt;
  if (arrived + maxWaitMs > core.now()) return { entry: o, evict: [], dueAt: arrived + maxWaitMs };
  const evict: string[] = [];
  let since = arrived;
  for (const m of swapper.evictionFor(o.req.model, core.runningSet(), core.view)) {
    const sw = core.swapFor(m);
    if (sw) {
      // Loading (it cannot drain yet): for a request before this one, its residency is still to come.
      if (sw.startedFor <= arrived) since = Infinity;
      continue;
    }
    evict.push(m);
    const r = core.readySince(m);
    if (r !== undefined && r.startedFor <= arrived && r.at > since) since = r.at;
  }
  return { entry: o, evict, dueAt: since + maxWaitMs };
}

/** The starved request at the head of the queue (see dispatchQueue), or undefined. */
function starvedHead(core: Core): Entry | undefined {
  const head = core.queue()[0];
  return head !== undefined && head.starved !== undefined ? head : undefined;
}

/**
 * Whether starting a swap of `target` evicting `evict` would take capacity the starved head
 * needs: it evicts a model the head needs evicted, or the head would need `target` evicted once
 * it runs (then the head would wait out its load and its residency on top).
 */
function takesFrom(core: Core, swapper: Swapper, head: Entry, target: string, evict: readonly string[], running: readonly string[]): boolean {
  if (head.req.model === target) return false;
  const need = swapper.evictionFor(head.req.model, running, core.view);
  if (evict.some((m) => need.includes(m))) return true;
  const withTarget = running.includes(target) ? running : [...running, target].sort();
  return swapper.evictionFor(head.req.model, withTarget, core.view).includes(target);
}

/**
 * Try to move one queued entry on; true when it left the queue. The cases, in order:
 *   1. its model drains, is being stopped, or its swap is doomed: stay queued;
 *   2. a swap to its model is under way: join it;
 *   3. fast path: the model is ready, nothing must go, nothing collides: grant now;
 *   4. the swap it needs collides with a swap or stop under way: stay queued;
 *   5. a model it must evict has requests in flight: stay queued (never evict a busy model;
 *      its drain, if one was started, severs the laggards at the deadline);
 *   6. a starved request heads the queue and still waits, and this swap would take capacity it
 *      needs (see takesFrom): stay queued;
 *   7. start a swap: evict what the swapper says, load the model.
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
  const head = starvedHead(core);
  if (head !== undefined && head !== e && takesFrom(core, swapper, head, model, evict, running)) return false; // 6
  core.startSwap(e, evict, running, swapper); // 7
  return true;
}

/**
 * One walk over the queue in its order, routing each entry, as if every queued entry were tried;
 * but an entry is skipped when an earlier one of the same model stayed queued and nothing has
 * moved since. That skip changes no outcome: `route` reads only the entry's model and the state,
 * and when it keeps an entry queued (cases 1, 4, 5) it changes nothing, so the next entry of that
 * model, with the state unchanged, would stay queued too. So a walk costs one `route` per entry
 * that moves, plus at most one per model between moves, whatever the queue's length.
 *
 * First, the oldest request, once it starved, is promoted: ahead of every priority, so it is
 * tried first and its position only ever goes down from then on. (Case 6 of `route` reads the
 * head, which changes only when an entry leaves the queue: a move, after which the skip restarts.)
 */
function dispatchQueue(core: Core, swapper: Swapper, compare: (a: Entry, b: Entry) => number): boolean {
  // An empty queue (a pump after a request finished) walks nothing and allocates nothing.
  if (core.queuedByModel().size === 0) return false;
  let moved = false;
  const o = oldestWait(core, swapper);
  if (o && o.entry.starved === undefined && o.dueAt <= core.now()) {
    core.promote(o.entry);
    moved = true;
  }
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

/**
 * The fifo policy over a swapper; `priority` orders the queue (higher first, then arrival), except
 * that requests that starved come first, in the order they starved.
 */
export function fifoPolicy(swapper: Swapper, priority: (model: string) => number): Policy {
  const compare = (a: Entry, b: Entry): number => {
    if (a.starved !== undefined || b.starved !== undefined) {
      if (a.starved === undefined) return 1;
      if (b.starved === undefined) return -1;
      return a.starved - b.starved;
    }
    return priority(b.req.model) - priority(a.req.model) || a.seq - b.seq;
  };
  return {
    compare,
    dispatch(core) {
      return dispatchQueue(core, swapper, compare);
    },
    drainWants(core) {
      const o = oldestWait(core, swapper);
      if (!o || o.dueAt > core.now()) return NO_MODELS;
      const model = o.entry.req.model;
      const d = core.drainOf(model);
      if ((d && d.cause !== "evict") || core.isStopping(model) || core.swapFor(model)) return NO_MODELS;
      return new Set(o.evict);
    },
    nextWake(core) {
      const o = oldestWait(core, swapper);
      // Not due before a load ends (Infinity): the swap's end pumps and asks again.
      return o && o.dueAt > core.now() && Number.isFinite(o.dueAt) ? o.dueAt : null;
    },
    refusal: swapper.refusal ? (model) => swapper.refusal!(model) : undefined,
    outOfMemory: swapper.onOutOfMemory ? (model) => swapper.onOutOfMemory!(model) : undefined,
  };
}

/** Create the fifo scheduler. */
export function createFifo(settings: SchedulerSettings, swapper: Swapper, effects: Effects): Scheduler {
  return createSchedulerCore(settings, effects, fifoPolicy(swapper, (m) => settings.priority(m)));
}
