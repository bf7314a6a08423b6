/**
 * The scheduler both policies share: the event handlers the run loop calls, and the one `pump`
 * that settles the state after each event. A `Policy` (fifo.ts, serial.ts) supplies the queue
 * order and the per-request routing decision; the state and its moves are scheduler-state.ts.
 * Pure: the world is reached through Effects only, and nothing here awaits.
 *
 * After every event, `pump` runs these steps until nothing changes (a step can unblock the next):
 *   1. evict drains: models the policy wants out (fifo's maxWait bound, serial's next model) stop
 *      taking new work; drains nobody wants any more are lifted;
 *   2. sever: in-flight requests of a model whose drain deadline passed are cut, in-band;
 *   3. stop: unloaded or shut-down models with nothing left in flight are stopped;
 *   4. dispatch: the policy walks the queue and grants, joins or starts swaps (fifo.ts numbers
 *      its cases).
 * Then: answer the unload tickets whose models are all stopped, publish queue positions, and
 * arm the one timer at the next drain deadline or policy wake-up.
 */
import { createSchedulerState, NO_MODELS, type DrainCause, type Entry, type Policy, type Reconfiguration } from "./scheduler-state.ts";
import { DEFAULT_CONCURRENCY_LIMIT, type Effects, type ModelRouting, type RouteRequest, type Scheduler, type SchedulerSettings, type StopReason, type SwapOutcome, type UnloadOrder } from "./seams.ts";
import { RouteError } from "./types.ts";

const CAUSE_RANK: Record<DrainCause, number> = { evict: 0, unload: 1, reload: 1, shutdown: 2 };

/** A scheduler that also takes config reloads. */
export interface ReconfigurableScheduler extends Scheduler {
  /** Switch to new settings and policy and apply the model changes, in one step (on the loop). */
  onReconfigure(change: Reconfiguration): void;
}

/**
 * Build a scheduler from the shared state and a policy. The settings and the policy are read
 * through a level of indirection so a config reload can replace both in one step.
 */
export function createSchedulerCore(initialSettings: SchedulerSettings, effects: Effects, initialPolicy: Policy): ReconfigurableScheduler {
  let current = { settings: initialSettings, policy: initialPolicy };
  const settings: SchedulerSettings = {
    get models() {
      return current.settings.models;
    },
    concurrencyLimit: (m) => current.settings.concurrencyLimit(m),
    drainTimeoutSec: (m) => current.settings.drainTimeoutSec(m),
    priority: (m) => current.settings.priority(m),
    get maxWaitSec() {
      return current.settings.maxWaitSec;
    },
  };
  const policy: Policy = {
    compare: (a, b) => current.policy.compare(a, b),
    dispatch: (c) => current.policy.dispatch(c),
    drainWants: (c) => current.policy.drainWants(c),
    nextWake: (c) => current.policy.nextWake(c),
    refusal: (m) => current.policy.refusal?.(m) ?? null,
    outOfMemory: (m) => current.policy.outOfMemory?.(m) ?? false,
  };
  let known = new Set(settings.models);
  /** Models a reload changed whose old process must stop before the new settings apply. */
  const restartPending = new Set<string>();
  /** Models a reload removed that still have a process (or a stop) to see through. */
  const removedPending = new Set<string>();
  /** Models whose TTL came due while a drain or a swap held them (see reconcileTtlDue). */
  const ttlDue = new Set<string>();
  // A model waiting for its restart takes no new work, not even by joining a load of its old
  // settings: those requests wait for the new process.
  const st = createSchedulerState(settings, effects, policy, (m) => restartPending.has(m));
  /** Models whose last start died of memory and were retried once (cleared when one turns ready). */
  const oomRetried = new Set<string>();
  const { core, entries, queue, byModel, swapsByModel, swapsById, inFlight, reserved, drains, stopping, tickets, published } = st;
  let shuttingDown = false;
  let armed: number | null = null;
  const now = (): number => effects.now();
  const drainDeadline = (m: string): number => now() + Math.max(0, settings.drainTimeoutSec(m)) * 1000;

  /** An unload or shutdown drain; a stronger cause wins, the earlier deadline wins. */
  function beginStop(m: string, cause: DrainCause): void {
    const deadline = drainDeadline(m);
    const d = drains.get(m);
    if (!d) return st.startDrain(m, cause, deadline);
    if (CAUSE_RANK[cause] > CAUSE_RANK[d.cause]) d.cause = cause;
    d.deadline = Math.min(d.deadline, deadline);
  }

  /** Fail what waits for `m` and doom its swap (unload). */
  function releaseWaiters(m: string, error: RouteError): void {
    for (const e of [...(byModel.get(m) ?? [])]) st.fail(e, error);
    const sw = swapsByModel.get(m);
    if (sw && !sw.doomed) {
      sw.doomed = true;
      for (const w of sw.waiters.slice()) st.fail(w, error);
      effects.setSwapWanted(sw.id, false);
    }
  }

  /** Nothing in flight, queued, loading or draining: what a TTL unload requires. */
  function isIdle(m: string): boolean {
    if (effects.modelState(m) !== "ready") return false;
    if ((reserved.get(m) ?? 0) > 0 || st.inFlightCount(m) > 0) return false;
    if (drains.has(m) || stopping.has(m) || swapsByModel.has(m)) return false;
    for (const sw of swapsById.values()) if (sw.evict.includes(m)) return false;
    return true;
  }

  /** Ready, with no request of its own: only a drain, a stop or a swap keeps it from being idle. */
  function ttlHeldOnly(m: string): boolean {
    return effects.modelState(m) === "ready" && (reserved.get(m) ?? 0) === 0 && st.inFlightCount(m) === 0;
  }

  /**
   * Step -1, TTLs that came due while a drain or a swap held their model: unloaded once it is
   * idle; forgotten when it takes work again (its idle clock restarts then) or leaves ready.
   */
  function reconcileTtlDue(): boolean {
    let changed = false;
    for (const m of ttlDue) {
      if (!ttlHeldOnly(m)) ttlDue.delete(m);
      else if (isIdle(m)) {
        ttlDue.delete(m);
        if (needsStop(m)) {
          beginStop(m, "unload");
          changed = true;
        }
      }
    }
    return changed;
  }

  function needsStop(m: string): boolean {
    const s = effects.modelState(m);
    return (s !== null && s !== "stopped" && s !== "shutdown") || swapsByModel.has(m);
  }

  /** Step 1. */
  function reconcileEvictDrains(): boolean {
    const wants = shuttingDown ? NO_MODELS : policy.drainWants(core);
    if (wants.size === 0 && drains.size === 0) return false;
    let changed = false;
    for (const m of wants) {
      if (drains.has(m) || stopping.has(m)) continue;
      st.startDrain(m, "evict", drainDeadline(m));
      changed = true;
    }
    for (const [m, d] of [...drains]) {
      if (d.cause === "evict" && !wants.has(m)) {
        st.endDrain(m);
        changed = true;
      }
    }
    return changed;
  }

  /** Step 2. */
  function severOverdue(): boolean {
    let changed = false;
    const t = now();
    for (const [m, d] of drains) {
      const ids = inFlight.get(m);
      if (d.deadline > t || !ids || ids.size === 0) continue;
      const cut = [...ids].map((id) => entries.get(id)).filter((e): e is Entry => e !== undefined);
      const what = d.cause === "evict" ? "swapped out" : d.cause === "unload" ? "unloaded" : d.cause === "reload" ? "restarted by a config reload" : "shut down";
      const secs = Math.max(0, settings.drainTimeoutSec(m));
      // Cut them first, then forget them: the world hears of the sever before the model turns idle.
      effects.sever(
        m,
        cut.map((e) => e.req),
        new RouteError("severed", `model ${m} is being ${what} and its drain timeout (${secs}s) passed: the response was cut`),
      );
      for (const e of cut) {
        st.remove(e);
        st.observeRequest(e.req, "severed");
      }
      d.severed += cut.length;
      changed = true;
    }
    return changed;
  }

  /** Step 3. */
  function issueStops(): boolean {
    // Per pump pass, usually with no drain at all: nothing to allocate then.
    if (drains.size === 0) return false;
    const by: Record<StopReason, string[]> = { unload: [], shutdown: [] };
    for (const [m, d] of [...drains]) {
      if (d.cause === "evict" || st.inFlightCount(m) > 0) continue;
      st.endDrain(m);
      stopping.set(m, (stopping.get(m) ?? 0) + 1);
      by[d.cause === "shutdown" ? "shutdown" : "unload"].push(m);
    }
    if (by.unload.length > 0) effects.stopModels(by.unload, "unload");
    if (by.shutdown.length > 0) effects.stopModels(by.shutdown, "shutdown");
    return by.unload.length + by.shutdown.length > 0;
  }

  /** Answer every unload ticket whose models are all stopped (no stop under way, none pending). */
  function settleTickets(): void {
    if (tickets.size === 0) return;
    for (const [t, set] of [...tickets]) {
      for (const m of [...set]) {
        const d = drains.get(m);
        if (!stopping.has(m) && !(d && d.cause !== "evict")) set.delete(m);
      }
      if (set.size === 0) {
        tickets.delete(t);
        effects.unloadFinished(t);
      }
    }
  }

  function publish(e: Entry, position: number, loading: boolean): void {
    const key = `${position}/${loading}`;
    if (published.get(e.req.id) === key) return;
    published.set(e.req.id, key);
    // A request that joins a load under way is told when it began: its time left counts from there.
    const since = loading ? swapsByModel.get(e.req.model)?.startedAt : undefined;
    effects.publish(e.req, since === undefined ? { position, model: e.req.model, loading } : { position, model: e.req.model, loading, loadingSince: since });
    effects.observe({ type: "queue", id: e.req.id, model: e.req.model, position, loading, at: now() });
  }

  /** One timer: the next drain deadline with work in flight, or the policy's next wake-up. */
  function arm(): void {
    let next: number | null = null;
    for (const [m, d] of drains) if (st.inFlightCount(m) > 0 && (next === null || d.deadline < next)) next = d.deadline;
    const wake = shuttingDown ? null : policy.nextWake(core);
    if (wake !== null && (next === null || wake < next)) next = wake;
    if (next !== armed) {
      armed = next;
      effects.setTimer(next);
    }
  }

  /** A model no swap, stop or drain is working on (a reload acts on it only then). */
  function untouched(m: string): boolean {
    if (swapsByModel.has(m) || stopping.has(m)) return false;
    for (const sw of swapsById.values()) if (sw.evict.includes(m)) return false;
    return true;
  }

  /**
   * Step 0, reloads: a changed model whose process is stopped gets its new settings (a new
   * supervisor); a running one drains (bounded) and is stopped first. A removed model is retired
   * once it is stopped.
   */
  function reconcileReloads(): boolean {
    if (restartPending.size === 0 && removedPending.size === 0) return false;
    let changed = false;
    for (const m of [...restartPending, ...removedPending]) {
      if (!untouched(m)) continue;
      const d = drains.get(m);
      if (d && d.cause !== "evict") continue; // a stop on its way
      const s = effects.modelState(m);
      // A process that crashed may still have requests in flight (their clients have not finished):
      // it is swapped or retired only once they are done or severed, after a bounded drain as any.
      if ((s === null || s === "stopped" || s === "shutdown") && st.inFlightCount(m) === 0) {
        // Shutting down: the old supervisor is the one shut down; a new one would never be.
        if (restartPending.delete(m)) {
          if (!shuttingDown) effects.replaceModel(m);
        } else if (removedPending.delete(m)) effects.retireModel(m);
        changed = true;
      } else if (!shuttingDown) {
        beginStop(m, "reload");
        changed = true;
      }
    }
    return changed;
  }

  function pump(): void {
    // Each pass can unblock the next (a drain lifted, a swap started, a stop issued); a few passes settle it.
    for (let round = 0; round < 16; round++) {
      let changed = ttlDue.size > 0 && reconcileTtlDue();
      changed = reconcileReloads() || changed;
      changed = reconcileEvictDrains() || changed;
      changed = severOverdue() || changed;
      changed = issueStops() || changed;
      changed = policy.dispatch(core) || changed;
      if (!changed) break;
    }
    settleTickets();
    // Positions: every waiter hears its new one, once per change. Only entries at or after the first
    // queue index that changed can have moved, and only waiters that joined a swap since the last
    // pump are new to loading; the others were told at the end of the pump before (see takeChanges).
    const { from, joined } = st.takeChanges();
    for (let i = from; i < queue.length; i++) publish(queue[i] as Entry, i + 1, false);
    for (const w of joined) publish(w, 0, true);
    arm();
  }

  /** Admission: refused now (shutting down, unknown model, over its limit), or queued. */
  function admissionError(req: RouteRequest): RouteError | null {
    const m = req.model;
    if (shuttingDown) return new RouteError("shutting_down", "switchyard is shutting down");
    if (!known.has(m) || effects.modelState(m) === null) return new RouteError("model_not_found", `model ${JSON.stringify(m)} not found`);
    const never = policy.refusal?.(m) ?? null;
    if (never !== null) return new RouteError("does_not_fit", never);
    const configured = settings.concurrencyLimit(m);
    const limit = configured > 0 ? configured : DEFAULT_CONCURRENCY_LIMIT;
    if ((reserved.get(m) ?? 0) >= limit) return new RouteError("concurrency_limit", `too many requests for model ${m} (limit ${limit}); retry later`, 1);
    return null;
  }

  return {
    onRequest(req: RouteRequest): void {
      const refused = admissionError(req);
      if (refused) {
        effects.grantError(req, refused);
        return st.observeRequest(req, "refused", refused);
      }
      st.admit(req);
      pump();
    },

    onCancel(id: number): void {
      const e = entries.get(id);
      if (!e || e.phase === "serving") return;
      st.fail(e, new RouteError("cancelled", "the client went away"));
      pump();
    },

    onSwapDone(swapId: number, outcome: SwapOutcome): void {
      const sw = swapsById.get(swapId);
      if (!sw) return;
      effects.observe({ type: "swap-end", swapId, target: sw.target, outcome: outcome.kind, ms: now() - sw.startedAt, at: now() });
      swapsById.delete(swapId);
      if (swapsByModel.get(sw.target) === sw) swapsByModel.delete(sw.target);
      const waiters = sw.waiters;
      sw.waiters = [];
      for (const w of waiters) w.swap = null;
      // Died of memory (the fit router): its figure is raised and its waiters go round once more, so
      // the next decision evicts more; a second such death fails them.
      let retry = false;
      if (outcome.kind === "ready") oomRetried.delete(sw.target);
      else if (outcome.kind === "failed" && outcome.outOfMemory && !sw.doomed && !oomRetried.has(sw.target) && policy.outOfMemory?.(sw.target)) {
        oomRetried.add(sw.target);
        retry = true;
      }
      for (const w of waiters) {
        if (outcome.kind === "ready" && !sw.doomed) st.grant(w);
        else if (outcome.kind === "failed" && !sw.doomed && !retry) st.fail(w, outcome.error);
        else st.enqueue(w); // abandoned while someone joined, or retried after out-of-memory: decide again
      }
      pump();
    },

    onServeDone(id: number): void {
      const e = entries.get(id);
      if (!e || e.phase !== "serving") return;
      st.remove(e);
      st.observeRequest(e.req, "finished");
      pump();
    },

    onUnload(order: UnloadOrder): void {
      let targets = [...new Set(order.models ?? settings.models)].filter((m) => known.has(m));
      if (order.onlyIfIdle) {
        // A TTL that comes due while only a drain or a swap holds the model (no request of its
        // own) is kept, not dropped: the supervisor's idle clock fired once and will not again.
        for (const m of targets) if (!isIdle(m) && ttlHeldOnly(m)) ttlDue.add(m);
        targets = targets.filter(isIdle);
      }
      const set = new Set<string>();
      for (const m of targets) {
        releaseWaiters(m, new RouteError("unloaded", `model ${m} was unloaded while the request waited`));
        if (stopping.has(m)) set.add(m);
        else if (needsStop(m)) {
          beginStop(m, "unload");
          set.add(m);
        }
      }
      tickets.set(order.id, set);
      pump();
    },

    onUnloadDone(model: string): void {
      const n = (stopping.get(model) ?? 0) - 1;
      if (n <= 0) stopping.delete(model);
      else stopping.set(model, n);
      pump();
    },

    onShutdown(ticket: number): void {
      if (shuttingDown) return effects.unloadFinished(ticket);
      shuttingDown = true;
      const error = new RouteError("shutting_down", "switchyard is shutting down");
      for (const sw of swapsById.values()) {
        if (sw.doomed) continue;
        sw.doomed = true;
        effects.setSwapWanted(sw.id, false);
      }
      for (const e of [...entries.values()]) if (e.phase !== "serving") st.fail(e, error);
      const set = new Set<string>();
      for (const m of [...settings.models, ...removedPending]) {
        beginStop(m, "shutdown");
        set.add(m);
      }
      tickets.set(ticket, set);
      pump();
    },

    onTimer(): void {
      armed = null;
      pump();
    },

    onStateChange(_model: string): void {
      pump();
    },

    onReconfigure(change: Reconfiguration): void {
      current = { settings: change.settings, policy: change.policy };
      known = new Set(change.settings.models);
      for (const m of change.removed) {
        restartPending.delete(m);
        releaseWaiters(m, new RouteError("model_removed", `model ${m} was removed from the configuration (config reload) while the request waited`));
        // Its load would only hold up swaps that must evict it.
        if (swapsByModel.has(m)) effects.abortStart(m);
        removedPending.add(m);
      }
      for (const m of change.restarted) if (!removedPending.has(m)) restartPending.add(m);
      // Back before its removal finished: the old process stops as for a restart, then the new one takes over.
      for (const m of change.added) if (removedPending.delete(m)) restartPending.add(m);
      // New priorities may order the queue differently.
      st.resort();
      pump();
    },

    routing(model: string): ModelRouting {
      const inF = st.inFlightCount(model);
      return {
        inFlight: inF,
        queued: Math.max(0, (reserved.get(model) ?? 0) - inF),
        drainingSince: drains.get(model)?.since ?? null,
      };
    },

    lastUsed: (model: string): number => st.core.view.lastUsed(model),
  };
}
