/**
 * The default scheduler, with llama-swap's semantics: join a swap of the same model, fast path when
 * the model is ready and nothing must go, queue on a collision or a busy evictee, disjoint swaps in
 * parallel, queue ordered by priority then arrival (so `A B C A B C` is served `A A B B C C`).
 * Beyond llama-swap, a starvation bound: once the oldest queued request has waited `maxWait`, the
 * models it needs evicted stop taking new work, drain (bounded by their `drainTimeout`) and go.
 */
import { createSchedulerCore } from "./scheduler-core.ts";
import type { Core, Entry, Policy } from "./scheduler-state.ts";
import type { Effects, Scheduler, SchedulerSettings, Swapper } from "./seams.ts";

/** The oldest queued entry (by arrival), or undefined. */
function oldest(queue: readonly Entry[]): Entry | undefined {
  let best: Entry | undefined;
  for (const e of queue) {
    if (!best || e.req.arrivedAt < best.req.arrivedAt || (e.req.arrivedAt === best.req.arrivedAt && e.seq < best.seq)) {
      best = e;
    }
  }
  return best;
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

/** The fifo policy over a swapper; `priority` orders the queue (higher first, then arrival). */
export function fifoPolicy(swapper: Swapper, priority: (model: string) => number): Policy {
  return {
    compare(a, b) {
      return priority(b.req.model) - priority(a.req.model) || a.seq - b.seq;
    },
    dispatch(core) {
      let moved = false;
      for (const e of core.queue().slice()) {
        if (e.phase !== "queued") continue;
        if (route(core, swapper, e)) moved = true;
      }
      return moved;
    },
    drainWants(core) {
      const maxWaitMs = core.settings.maxWaitSec * 1000;
      const o = oldest(core.queue());
      if (maxWaitMs <= 0 || !o || core.now() - o.req.arrivedAt < maxWaitMs) return new Set();
      const model = o.req.model;
      const d = core.drainOf(model);
      if ((d && d.cause !== "evict") || core.isStopping(model) || core.swapFor(model)) return new Set();
      const loading = core.swapTargets();
      return new Set(swapper.evictionFor(model, core.runningSet(), core.view).filter((m) => !loading.has(m)));
    },
    nextWake(core) {
      const maxWaitMs = core.settings.maxWaitSec * 1000;
      const o = oldest(core.queue());
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
