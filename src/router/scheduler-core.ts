/**
 * The bookkeeping both schedulers share: per-request state (each request resolves exactly once),
 * admission, in-flight sets, swaps and their waiters, bounded drains with severing, unload and
 * shutdown tickets, position publishing and the timer. A `Policy` (fifo, serial) supplies the
 * queue order and the routing decisions. Pure: all effects go through `Effects`.
 */
import { RouteError } from "./types.ts";
import {
  DEFAULT_CONCURRENCY_LIMIT,
  type Effects,
  type ModelRouting,
  type RouteRequest,
  type Scheduler,
  type SchedulerSettings,
  type StopReason,
  type SwapOutcome,
  type Swapper,
  type UnloadOrder,
} from "./scheduler.ts";

/** Where a request is: in the queue, waiting on a swap, or granted and in flight. */
export type Phase = "queued" | "waiting" | "serving";

/** One live request (removed once resolved and, if granted, done or severed). */
export interface Entry {
  readonly req: RouteRequest;
  /** Admission order. */
  readonly seq: number;
  phase: Phase;
  swap: SwapState | null;
}

/** A swap in progress. A doomed swap (its target was unloaded) takes no waiters and blocks its model. */
export interface SwapState {
  readonly id: number;
  readonly target: string;
  readonly evict: readonly string[];
  waiters: Entry[];
  doomed: boolean;
}

/** Why a model stops taking new work. */
export type DrainCause = "evict" | "unload" | "shutdown";

/** A model that takes no new work until its in-flight requests end or `deadline` passes. */
export interface Drain {
  since: number;
  deadline: number;
  cause: DrainCause;
}

/** The view a policy gets of the shared state, plus the moves it may make. */
export interface Core {
  readonly settings: SchedulerSettings;
  readonly effects: Effects;
  /** Queued entries in policy order. */
  queue(): readonly Entry[];
  swapFor(model: string): SwapState | undefined;
  swapCount(): number;
  /** Targets of every swap in progress. */
  swapTargets(): Set<string>;
  inFlightCount(model: string): number;
  /** Entries granted and not yet done. */
  serving(): Entry[];
  drainOf(model: string): Drain | undefined;
  /** Being stopped outside a swap (unload, shutdown). */
  isStopping(model: string): boolean;
  /** Requests for this model must wait: it drains, is being stopped, or its swap is doomed. */
  isBlockedTarget(model: string): boolean;
  /** Running models (process view) plus the targets of swaps in progress, sorted. */
  runningSet(): string[];
  /** Whether a swap of `target` evicting `evict` would collide with work under way. */
  collides(target: string, evict: readonly string[]): boolean;
  /** Grant the entry now; false when its client had left (the entry is gone either way). */
  grant(e: Entry): boolean;
  /** Attach a queued entry to the swap of its model. */
  join(e: Entry, sw: SwapState): void;
  /** Commit a swap for the entry's model. */
  startSwap(e: Entry, evict: readonly string[], running: readonly string[], swapper: Swapper | null): void;
  now(): number;
}

/** What distinguishes fifo from serial. */
export interface Policy {
  /** Queue order (negative: a before b). */
  compare(a: Entry, b: Entry): number;
  /** Walk the queue: grant, join or start what can go now. True when anything moved. */
  dispatch(core: Core): boolean;
  /** Resident models that must stop taking new work so the queue can progress (starvation bound). */
  drainWants(core: Core): ReadonlySet<string>;
  /** When the policy next needs a timer (epoch ms), or null. */
  nextWake(core: Core): number | null;
}

const CAUSE_RANK: Record<DrainCause, number> = { evict: 0, unload: 1, shutdown: 2 };

/** Build a scheduler from the shared core and a policy. */
export function createSchedulerCore(settings: SchedulerSettings, effects: Effects, policy: Policy): Scheduler {
  const known = new Set(settings.models);
  const entries = new Map<number, Entry>();
  const queue: Entry[] = [];
  const swapsByModel = new Map<string, SwapState>();
  const swapsById = new Map<number, SwapState>();
  const inFlight = new Map<string, Set<number>>();
  const reserved = new Map<string, number>();
  const drains = new Map<string, Drain>();
  const stopping = new Map<string, number>();
  const tickets = new Map<number, Set<string>>();
  const published = new Map<number, string>();
  let shuttingDown = false;
  let seq = 0;
  let swapSeq = 0;
  let armed: number | null = null;

  const now = (): number => effects.now();
  const inFlightCount = (m: string): number => inFlight.get(m)?.size ?? 0;

  function enqueue(e: Entry): void {
    e.phase = "queued";
    e.swap = null;
    let i = queue.length;
    while (i > 0 && policy.compare(queue[i - 1] as Entry, e) > 0) i--;
    queue.splice(i, 0, e);
  }

  /** Take the entry out of the queue, its swap or the in-flight set (its phase is left as is). */
  function detach(e: Entry): void {
    if (e.phase === "queued") {
      const i = queue.indexOf(e);
      if (i >= 0) queue.splice(i, 1);
    } else if (e.phase === "waiting" && e.swap) {
      const sw = e.swap;
      sw.waiters = sw.waiters.filter((w) => w !== e);
      e.swap = null;
      if (sw.waiters.length === 0 && !sw.doomed) effects.setSwapWanted(sw.id, false);
    } else if (e.phase === "serving") {
      const set = inFlight.get(e.req.model);
      set?.delete(e.req.id);
      if (set && set.size === 0) inFlight.delete(e.req.model);
    }
  }

  /** Forget a resolved entry: it no longer holds a reservation. */
  function forget(e: Entry): void {
    entries.delete(e.req.id);
    published.delete(e.req.id);
    const m = e.req.model;
    const n = (reserved.get(m) ?? 0) - 1;
    if (n <= 0) reserved.delete(m);
    else reserved.set(m, n);
  }

  /** Drop the entry for good (it is resolved). */
  function remove(e: Entry): void {
    detach(e);
    forget(e);
  }

  function fail(e: Entry, error: RouteError): void {
    remove(e);
    effects.grantError(e.req, error);
  }

  function grant(e: Entry): boolean {
    detach(e);
    if (!effects.grantServe(e.req, e.req.model)) {
      // The client left: nobody will call done(), so it must not count as in flight.
      forget(e);
      return false;
    }
    e.phase = "serving";
    e.swap = null;
    published.delete(e.req.id);
    let set = inFlight.get(e.req.model);
    if (!set) inFlight.set(e.req.model, (set = new Set()));
    set.add(e.req.id);
    return true;
  }

  function join(e: Entry, sw: SwapState): void {
    detach(e);
    e.phase = "waiting";
    e.swap = sw;
    sw.waiters.push(e);
    if (sw.waiters.length === 1) effects.setSwapWanted(sw.id, true);
  }

  function startSwap(e: Entry, evict: readonly string[], running: readonly string[], swapper: Swapper | null): void {
    const target = e.req.model;
    const sw: SwapState = { id: ++swapSeq, target, evict: [...evict], waiters: [], doomed: false };
    swapsByModel.set(target, sw);
    swapsById.set(sw.id, sw);
    detach(e);
    e.phase = "waiting";
    e.swap = sw;
    sw.waiters.push(e);
    // The evictees are idle now (drained or severed): their evict-drain has done its job.
    for (const m of evict) if (drains.get(m)?.cause === "evict") drains.delete(m);
    swapper?.onSwapStart(target, running);
    effects.startSwap({ id: sw.id, target, evict: [...evict], requests: [e.req.id] });
  }

  function runningSet(): string[] {
    const out = new Set(effects.runningModels());
    for (const t of swapsByModel.keys()) out.add(t);
    return [...out].sort();
  }

  function collides(target: string, evict: readonly string[]): boolean {
    for (const sw of swapsById.values()) {
      if (sw.target === target) continue;
      if (evict.includes(sw.target) || sw.evict.includes(target)) return true;
      if (evict.some((m) => sw.evict.includes(m))) return true;
    }
    for (const m of evict) {
      if (stopping.has(m)) return true;
      const d = drains.get(m);
      if (d && d.cause !== "evict") return true;
    }
    return false;
  }

  const core: Core = {
    settings,
    effects,
    queue: () => queue,
    swapFor: (m) => swapsByModel.get(m),
    swapCount: () => swapsById.size,
    swapTargets: () => new Set(swapsByModel.keys()),
    inFlightCount,
    serving: () => [...entries.values()].filter((e) => e.phase === "serving"),
    drainOf: (m) => drains.get(m),
    isStopping: (m) => stopping.has(m),
    isBlockedTarget: (m) => drains.has(m) || stopping.has(m) || swapsByModel.get(m)?.doomed === true,
    runningSet,
    collides,
    grant,
    join,
    startSwap,
    now,
  };

  function beginStop(m: string, cause: DrainCause): void {
    const deadline = now() + Math.max(0, settings.drainTimeoutSec(m)) * 1000;
    const d = drains.get(m);
    if (!d) {
      drains.set(m, { since: now(), deadline, cause });
      return;
    }
    if (CAUSE_RANK[cause] > CAUSE_RANK[d.cause]) d.cause = cause;
    d.deadline = Math.min(d.deadline, deadline);
  }

  /** Fail what waits for `m` and doom its swap (unload). */
  function releaseWaiters(m: string, error: RouteError): void {
    for (const e of queue.slice()) if (e.req.model === m) fail(e, error);
    const sw = swapsByModel.get(m);
    if (sw && !sw.doomed) {
      sw.doomed = true;
      for (const w of sw.waiters.slice()) fail(w, error);
      effects.setSwapWanted(sw.id, false);
    }
  }

  function isIdle(m: string): boolean {
    if (effects.modelState(m) !== "ready") return false;
    if ((reserved.get(m) ?? 0) > 0 || inFlightCount(m) > 0) return false;
    if (drains.has(m) || stopping.has(m) || swapsByModel.has(m)) return false;
    for (const sw of swapsById.values()) if (sw.evict.includes(m)) return false;
    return true;
  }

  function needsStop(m: string): boolean {
    const st = effects.modelState(m);
    return (st !== null && st !== "stopped" && st !== "shutdown") || swapsByModel.has(m);
  }

  /** Answer every unload ticket whose models are all stopped (no stop under way, none pending). */
  function settleTickets(): void {
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

  function reconcileEvictDrains(): boolean {
    const wants = shuttingDown ? new Set<string>() : policy.drainWants(core);
    let changed = false;
    for (const m of wants) {
      if (drains.has(m) || stopping.has(m)) continue;
      drains.set(m, { since: now(), deadline: now() + Math.max(0, settings.drainTimeoutSec(m)) * 1000, cause: "evict" });
      changed = true;
    }
    for (const [m, d] of [...drains]) {
      if (d.cause === "evict" && !wants.has(m)) {
        drains.delete(m);
        changed = true;
      }
    }
    return changed;
  }

  function severOverdue(): boolean {
    let changed = false;
    const t = now();
    for (const [m, d] of drains) {
      const ids = inFlight.get(m);
      if (d.deadline > t || !ids || ids.size === 0) continue;
      const cut = [...ids].map((id) => entries.get(id)).filter((e): e is Entry => e !== undefined);
      for (const e of cut) remove(e);
      const what = d.cause === "evict" ? "swapped out" : d.cause === "unload" ? "unloaded" : "shut down";
      const secs = Math.max(0, settings.drainTimeoutSec(m));
      effects.sever(
        m,
        cut.map((e) => e.req),
        new RouteError("severed", `model ${m} is being ${what} and its drain timeout (${secs}s) passed: the response was cut`),
      );
      changed = true;
    }
    return changed;
  }

  function issueStops(): boolean {
    const by: Record<StopReason, string[]> = { unload: [], shutdown: [] };
    for (const [m, d] of [...drains]) {
      if (d.cause === "evict" || inFlightCount(m) > 0) continue;
      drains.delete(m);
      stopping.set(m, (stopping.get(m) ?? 0) + 1);
      by[d.cause === "shutdown" ? "shutdown" : "unload"].push(m);
    }
    if (by.unload.length > 0) effects.stopModels(by.unload, "unload");
    if (by.shutdown.length > 0) effects.stopModels(by.shutdown, "shutdown");
    return by.unload.length + by.shutdown.length > 0;
  }

  function publish(e: Entry, position: number, loading: boolean): void {
    const key = `${position}/${loading}`;
    if (published.get(e.req.id) === key) return;
    published.set(e.req.id, key);
    effects.publish(e.req, { position, model: e.req.model, loading });
  }

  function arm(): void {
    let next: number | null = null;
    for (const [m, d] of drains) if (inFlightCount(m) > 0 && (next === null || d.deadline < next)) next = d.deadline;
    const wake = shuttingDown ? null : policy.nextWake(core);
    if (wake !== null && (next === null || wake < next)) next = wake;
    if (next !== armed) {
      armed = next;
      effects.setTimer(next);
    }
  }

  function pump(): void {
    // Each pass can unblock the next (a drain lifted, a swap started, a stop issued); a few passes settle it.
    for (let round = 0; round < 16; round++) {
      let changed = reconcileEvictDrains();
      changed = severOverdue() || changed;
      changed = issueStops() || changed;
      changed = policy.dispatch(core) || changed;
      if (!changed) break;
    }
    settleTickets();
    queue.forEach((e, i) => publish(e, i + 1, false));
    for (const sw of swapsById.values()) for (const w of sw.waiters) publish(w, 0, true);
    arm();
  }

  return {
    onRequest(req: RouteRequest): void {
      const m = req.model;
      if (shuttingDown) {
        effects.grantError(req, new RouteError("shutting_down", "switchyard is shutting down"));
        return;
      }
      if (!known.has(m) || effects.modelState(m) === null) {
        effects.grantError(req, new RouteError("model_not_found", `model ${JSON.stringify(m)} not found`));
        return;
      }
      const configured = settings.concurrencyLimit(m);
      const limit = configured > 0 ? configured : DEFAULT_CONCURRENCY_LIMIT;
      if ((reserved.get(m) ?? 0) >= limit) {
        effects.grantError(
          req,
          new RouteError("concurrency_limit", `too many requests for model ${m} (limit ${limit}); retry later`, 1),
        );
        return;
      }
      const e: Entry = { req, seq: ++seq, phase: "queued", swap: null };
      entries.set(req.id, e);
      reserved.set(m, (reserved.get(m) ?? 0) + 1);
      enqueue(e);
      pump();
    },

    onCancel(id: number): void {
      const e = entries.get(id);
      if (!e || e.phase === "serving") return;
      fail(e, new RouteError("cancelled", "the client went away"));
      pump();
    },

    onSwapDone(swapId: number, outcome: SwapOutcome): void {
      const sw = swapsById.get(swapId);
      if (!sw) return;
      swapsById.delete(swapId);
      if (swapsByModel.get(sw.target) === sw) swapsByModel.delete(sw.target);
      const waiters = sw.waiters;
      sw.waiters = [];
      for (const w of waiters) w.swap = null;
      for (const w of waiters) {
        if (outcome.kind === "ready" && !sw.doomed) grant(w);
        else if (outcome.kind === "failed" && !sw.doomed) fail(w, outcome.error);
        else enqueue(w); // abandoned while someone joined: decide again
      }
      pump();
    },

    onServeDone(id: number): void {
      const e = entries.get(id);
      if (!e || e.phase !== "serving") return;
      remove(e);
      pump();
    },

    onUnload(order: UnloadOrder): void {
      let targets = [...new Set(order.models ?? settings.models)].filter((m) => known.has(m));
      if (order.onlyIfIdle) targets = targets.filter(isIdle);
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
      if (shuttingDown) {
        effects.unloadFinished(ticket);
        return;
      }
      shuttingDown = true;
      const error = new RouteError("shutting_down", "switchyard is shutting down");
      for (const sw of swapsById.values()) {
        if (sw.doomed) continue;
        sw.doomed = true;
        effects.setSwapWanted(sw.id, false);
      }
      for (const e of [...entries.values()]) if (e.phase !== "serving") fail(e, error);
      const set = new Set<string>();
      for (const m of settings.models) {
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

    routing(model: string): ModelRouting {
      const inF = inFlightCount(model);
      return {
        inFlight: inF,
        queued: Math.max(0, (reserved.get(model) ?? 0) - inF),
        drainingSince: drains.get(model)?.since ?? null,
      };
    },
  };
}
