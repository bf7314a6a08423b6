/**
 * The routing state both schedulers share, and the moves that change it: where each admitted
 * request is (queued, waiting on a swap, serving), the swaps under way, the in-flight sets (the
 * only in-flight count there is), reservations against `concurrencyLimit`, drains, stops and
 * unload tickets. Only the scheduler core (scheduler-core.ts) holds one, and only the run loop
 * calls the core, so this state has exactly one writer. Pure: the world is reached through Effects.
 */
import type { RequestPhase } from "../observe/events.ts";
import type { Effects, RouteRequest, SchedulerSettings, Swapper, SwapView } from "./seams.ts";
import type { RouteError } from "./types.ts";

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
  /** Epoch ms when it was committed. */
  readonly startedAt: number;
  waiters: Entry[];
  doomed: boolean;
}

/** Why a model stops taking new work (`reload`: a config reload restarts or removes it). */
export type DrainCause = "evict" | "unload" | "reload" | "shutdown";

/** A model that takes no new work until its in-flight requests end or `deadline` passes. */
export interface Drain {
  since: number;
  deadline: number;
  cause: DrainCause;
  /** Requests cut at its deadline so far. */
  severed: number;
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
  /** What swappers may read: in-flight counts and last use. */
  readonly view: SwapView;
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
  /** Why `model` can never be served (checked at admission), or null. */
  refusal?(model: string): string | null;
  /** A start of `model` died of memory; true: retry its waiters once (the swapper raised its figure). */
  outOfMemory?(model: string): boolean;
}

/**
 * A validated config reload, applied in one step on the loop: new settings and policy (routing,
 * scheduler, priorities, limits, drain timeouts), and what happened to the models.
 */
export interface Reconfiguration {
  settings: SchedulerSettings;
  policy: Policy;
  /** New models: routable at once. */
  added: readonly string[];
  /** Gone models: their waiters get "model removed"; they drain, stop and are retired. */
  removed: readonly string[];
  /** Models whose process settings changed: they drain, stop and start anew on their next request. */
  restarted: readonly string[];
}

/** The tables, the policy's view of them, and the moves on them. */
export interface SchedulerState {
  /** Every live entry by request id. */
  readonly entries: Map<number, Entry>;
  /** Queued entries, kept in policy order. */
  readonly queue: Entry[];
  readonly swapsByModel: Map<string, SwapState>;
  readonly swapsById: Map<number, SwapState>;
  /** Request ids granted and not yet done or severed, per model: THE in-flight count. */
  readonly inFlight: Map<string, Set<number>>;
  /** Admitted and not yet resolved-and-done, per model (what concurrencyLimit bounds). */
  readonly reserved: Map<string, number>;
  readonly drains: Map<string, Drain>;
  /** Stops under way outside a swap (unload, shutdown), counted per model. */
  readonly stopping: Map<string, number>;
  /** Unload and shutdown tickets, with the models each still waits for. */
  readonly tickets: Map<number, Set<string>>;
  /** The last update published to each waiting request ("position/loading"). */
  readonly published: Map<number, string>;
  /** Start a drain of `m` (observed). */
  startDrain(m: string, cause: DrainCause, deadline: number): void;
  /** End the drain of `m` (observed); no-op when it has none. */
  endDrain(m: string): void;
  /** The policy's view. */
  readonly core: Core;
  inFlightCount(model: string): number;
  /** Admit a request: an entry, a reservation, a place in the queue. */
  admit(req: RouteRequest): Entry;
  /** Put the entry (back) in the queue, in policy order. */
  enqueue(e: Entry): void;
  /** Drop a resolved entry for good. */
  remove(e: Entry): void;
  /** Refuse the entry with `error` and drop it. */
  fail(e: Entry, error: RouteError): void;
  grant(e: Entry): boolean;
  /** Tell observers where a request went. */
  observeRequest(req: RouteRequest, phase: RequestPhase, error?: RouteError): void;
}

/** Create empty state over `effects`; `policy` orders the queue. */
export function createSchedulerState(settings: SchedulerSettings, effects: Effects, policy: Policy): SchedulerState {
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
  /** Epoch ms of each model's last grant or finished request (the fit router evicts the least recent). */
  const lastUsed = new Map<string, number>();
  let seq = 0;
  let swapSeq = 0;

  const now = (): number => effects.now();
  const inFlightCount = (m: string): number => inFlight.get(m)?.size ?? 0;
  const view: SwapView = { inFlight: inFlightCount, lastUsed: (m) => lastUsed.get(m) ?? 0 };

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
      lastUsed.set(e.req.model, now());
      const set = inFlight.get(e.req.model);
      if (!set?.delete(e.req.id) || set.size > 0) return;
      inFlight.delete(e.req.model);
      effects.modelBusy(e.req.model, false);
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

  function remove(e: Entry): void {
    detach(e);
    forget(e);
  }

  function fail(e: Entry, error: RouteError): void {
    remove(e);
    effects.grantError(e.req, error);
    observeRequest(e.req, error.kind === "cancelled" ? "cancelled" : "refused", error);
  }

  function observeRequest(req: RouteRequest, phase: RequestPhase, error?: RouteError): void {
    effects.observe({ type: "request", id: req.id, model: req.model, phase, at: now(), ...(error ? { error: { kind: error.kind, message: error.message } } : {}) });
  }

  function startDrain(m: string, cause: DrainCause, deadline: number): void {
    drains.set(m, { since: now(), deadline, cause, severed: 0 });
    effects.observe({ type: "drain-start", model: m, cause, inFlight: inFlightCount(m), deadline, at: now() });
  }

  function endDrain(m: string): void {
    const d = drains.get(m);
    if (!d) return;
    drains.delete(m);
    effects.observe({ type: "drain-end", model: m, severed: d.severed, at: now() });
  }

  function grant(e: Entry): boolean {
    detach(e);
    if (!effects.grantServe(e.req, e.req.model)) {
      // The client left: nobody will call done(), so it must not count as in flight.
      forget(e);
      observeRequest(e.req, "cancelled");
      return false;
    }
    observeRequest(e.req, "granted");
    e.phase = "serving";
    e.swap = null;
    published.delete(e.req.id);
    lastUsed.set(e.req.model, now());
    let set = inFlight.get(e.req.model);
    if (!set) inFlight.set(e.req.model, (set = new Set()));
    set.add(e.req.id);
    if (set.size === 1) effects.modelBusy(e.req.model, true);
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
    const sw: SwapState = { id: ++swapSeq, target, evict: [...evict], startedAt: now(), waiters: [], doomed: false };
    swapsByModel.set(target, sw);
    swapsById.set(sw.id, sw);
    detach(e);
    e.phase = "waiting";
    e.swap = sw;
    sw.waiters.push(e);
    // The evictees are idle now (drained or severed): their evict-drain has done its job.
    for (const m of evict) if (drains.get(m)?.cause === "evict") endDrain(m);
    const placement = swapper?.onSwapStart(target, running, view) ?? undefined;
    effects.observe({ type: "swap-start", swapId: sw.id, target, evict: [...evict], reason: evict.length > 0 ? "evict" : "cold-start", at: now(), ...(placement ? { devices: [...placement.devices] } : {}) });
    effects.startSwap({ id: sw.id, target, evict: [...evict], requests: [e.req.id], ...(placement ? { placement } : {}) });
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
    view,
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

  return {
    entries,
    queue,
    swapsByModel,
    swapsById,
    inFlight,
    reserved,
    drains,
    stopping,
    tickets,
    published,
    startDrain,
    endDrain,
    core,
    inFlightCount,
    admit(req) {
      const e: Entry = { req, seq: ++seq, phase: "queued", swap: null };
      entries.set(req.id, e);
      reserved.set(req.model, (reserved.get(req.model) ?? 0) + 1);
      enqueue(e);
      observeRequest(req, "admitted");
      return e;
    },
    observeRequest,
    enqueue,
    remove,
    fail,
    grant,
  };
}
