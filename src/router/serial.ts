/**
 * The strict scheduler: requests run in exact arrival order, one at a time; a request for a model
 * other than the loaded one evicts every other running model first (so `A B C A` is served
 * `A B C A`, reloading A). Group and matrix rules are not consulted: one model at a time is a
 * property of the scheduler. When the next request wants another model, the current one drains:
 * it is severed if it outlives its model's `drainTimeout`.
 */
import { createSchedulerCore } from "./scheduler-core.ts";
import { NO_MODELS, type Policy } from "./scheduler-state.ts";
import type { Effects, Scheduler, SchedulerSettings } from "./seams.ts";

/** The serial policy. */
export function serialPolicy(): Policy {
  return {
    compare(a, b) {
      return a.seq - b.seq;
    },
    dispatch(core) {
      let moved = false;
      for (;;) {
        if (core.swapCount() > 0 || core.serving().length > 0) return moved;
        const head = core.queue()[0];
        if (!head) return moved;
        const model = head.req.model;
        if (core.isBlockedTarget(model)) return moved;
        const running = core.effects.runningModels();
        const evict = running.filter((m) => m !== model).sort();
        if (core.collides(model, evict)) return moved;
        moved = true;
        if (core.effects.modelState(model) === "ready" && evict.length === 0) {
          if (core.grant(head)) return moved;
          continue; // its client had left: next one
        }
        core.startSwap(head, evict, running, null);
        return moved;
      }
    },
    drainWants(core) {
      const current = core.serving()[0];
      const head = core.queue()[0];
      if (current && head && head.req.model !== current.req.model) return new Set([current.req.model]);
      return NO_MODELS;
    },
    nextWake() {
      return null;
    },
  };
}

/** Create the serial scheduler. */
export function createSerial(settings: SchedulerSettings, effects: Effects): Scheduler {
  return createSchedulerCore(settings, effects, serialPolicy());
}
