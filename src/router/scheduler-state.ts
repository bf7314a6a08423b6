/**
 * The routing state both schedulers share, and the moves that change it: where each admitted
 * request is (queued, waiting on a swap, serving), the swaps under way, the in-flight sets (the
 * only in-flight count there is), reservations against `concurrencyLimit`, drains, stops and
 * unload tickets. Only the scheduler core (scheduler-core.ts) holds one, and only the run loop
 * calls the core, so this state has exactly one writer. Pure: the world is reached through Effects.
 */
import type { ObserveEvent, RequestPhase } from "../observe/events.ts";
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
  /** When it last joined a swap's waiters (a counter, for the order positions are published in). */
  joinSeq?: number;
  /** In the queue now (set by enqueue, cleared when it leaves; its phase may lag behind). */
  inQueue?: boolean;
  /**
   * Set once it starved (fifo's maxWait bound, see Core.promote): the order it starved in. fifo
   * orders starved entries ahead of every other, in that order; it stays set until it resolves.
   */
  starved?: number;
}

/** A swap in progress. A doomed swap (its target was unloaded) takes no waiters and blocks its model. */
export interface SwapState {
  readonly id: number;
  readonly target: string;
  readonly evict: readonly string[];
  /** Epoch ms when it was committed. */
  readonly startedAt: number;
  /** Epoch ms the request it was committed for arrived. */
  readonly startedFor: number;
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
  /** Queued entries per model, each list in policy order (models with none are absent). */
  queuedByModel(): ReadonlyMap<string, readonly Entry[]>;
  /** The queued entry that arrived first (arrival time, then admission order), or undefined. */
  oldest(): Entry | undefined;
  swapFor(model: string): SwapState | undefined;
  swapCount(): number;
  /** Targets of every swap in progress. */
  swapTargets(): Set<string>;
  inFlightCount(model: string): number;
  /** What swappers may read: in-flight counts and last use. */
  readonly view: SwapView;
  /** Entries granted and not yet done, in admission order. */
  serving(): Entry[];
  drainOf(model: string): Drain | undefined;
  /** Being stopped outside a swap (unload, shutdown). */
  isStopping(model: string): boolean;
  /** Requests for this model must wait: it drains, is being stopped, its swap is doomed, or the core holds it (a reload's restart). */
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
  /**
   * When the model last became ready through a swap (its load ended and its waiters were granted),
   * and the arrival of the request that swap was started for; undefined when never. fifo's
   * starvation clock against a resident starts no earlier for a request that arrived after that one.
   */
  readySince(model: string): ReadySince | undefined;
  /**
   * The queued entry starved: mark it (`starved`, the next number) and put it where the policy's
   * order now places it (fifo: ahead of every entry that did not starve before it). No-op when it
   * is not queued or already marked.
   */
  promote(e: Entry): void;
  now(): number;
}

/** See Core.readySince. */
export interface ReadySince {
  /** Epoch ms its swap ended ready. */
  readonly at: number;
  /** Epoch ms the request that started that swap arrived. */
  readonly startedFor: number;
}

/** The empty answer of a drainWants call (one per pump pass), shared rather than allocated each time. */
export const NO_MODELS: ReadonlySet<string> = new Set();

/** A request observation (built without a spread, see observeRequest). */
type RequestObservation = Extract<ObserveEvent, { type: "request" }>;

/** The empty list of `takeChanges` when no entry joined a swap (shared, never written). */
const NO_ENTRIES: Entry[] = [];

/** What distinguishes fifo from serial. */
export interface Policy {
  /** Queue order (negative: a before b). */
  compare(a: Entry, b: Entry): number;
  /** Walk the queue: grant, join or start what can go now. True when anything moved. */
  dispatch(core: Core): boolean;
  /** Resident models that must stop taking new work so the queue can progress (starvation bound; `NO_MODELS` when none). */
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
  /**
   * Queued entries, kept in policy order; change it only through the moves here (enqueue,
   * remove, resort), which keep the per-model lists, the arrival index and the change marks.
   */
  readonly queue: readonly Entry[];
  /** Queued entries per model, in policy order (a model with none has no list). */
  readonly byModel: ReadonlyMap<string, readonly Entry[]>;
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
  /** Sort the queue again (the policy's order changed: a config reload). */
  resort(): void;
  /**
   * What changed for the waiters since the last call: the first queue index whose entries may
   * have a new position (queue.length when none), and the entries that began waiting on a swap
   * (in the order the swaps, then their waiters, are listed). Resets both.
   */
  takeChanges(): { from: number; joined: Entry[] };
  /** Drop a resolved entry for good. */
  remove(e: Entry): void;
  /** Refuse the entry with `error` and drop it. */
  fail(e: Entry, error: RouteError): void;
  grant(e: Entry): boolean;
  /** Tell observers where a request went. */
  observeRequest(req: RouteRequest, phase: RequestPhase, error?: RouteError): void;
}

/** Create empty state over `effects`; `policy` orders the queue; `held` models take no new work (isBlockedTarget). */
export function createSchedulerState(settings: SchedulerSettings, effects: Effects, policy: Policy, held: (model: string) => boolean = () => false): SchedulerState {
  const entries = new Map<number, Entry>();
  const queue: Entry[] = [];
  const byModel = new Map<string, Entry[]>();
  /** Queued entries by arrival (a min-heap; entries that left are dropped when they surface). */
  let arrivals: Entry[] = [];
  /** The first queue index whose position may have changed since takeChanges(). */
  let dirtyFrom = Infinity;
  /** Entries that joined a swap since takeChanges(). */
  let joined: Entry[] = [];
  let joinSeq = 0;
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
  /** When each model last became ready through a swap (see Core.readySince). */
  const readySince = new Map<string, ReadySince>();
  /** Per model: the arrival of the request its latest swap was started for. */
  const swapStartedFor = new Map<string, number>();
  let seq = 0;
  let starvedSeq = 0;
  let swapSeq = 0;

  const now = (): number => effects.now();
  const inFlightCount = (m: string): number => inFlight.get(m)?.size ?? 0;
  // A model still loading counts as busy: evicting it would make the request wait out its load.
  const view: SwapView = { inFlight: (m) => inFlightCount(m) + (swapsByModel.has(m) ? 1 : 0), lastUsed: (m) => lastUsed.get(m) ?? 0 };

  /** Where `e` goes in `list` (sorted by the policy): after every entry that does not come after it. */
  function insertionPoint(list: readonly Entry[], e: Entry): number {
    let lo = 0;
    let hi = list.length;
    // The common case, an arrival behind everything queued, without a search.
    if (hi === 0 || policy.compare(list[hi - 1] as Entry, e) <= 0) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (policy.compare(list[mid] as Entry, e) > 0) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Where `e` is in `list` (sorted by the policy), or -1. */
  function indexIn(list: readonly Entry[], e: Entry): number {
    if (list[0] === e) return 0;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (policy.compare(list[mid] as Entry, e) < 0) lo = mid + 1;
      else hi = mid;
    }
    // The list is sorted by the current policy; indexOf only if it were not (it always is).
    return list[lo] === e ? lo : list.indexOf(e);
  }

  const earlier = (a: Entry, b: Entry): boolean => a.req.arrivedAt < b.req.arrivedAt || (a.req.arrivedAt === b.req.arrivedAt && a.seq < b.seq);

  function heapPush(e: Entry): void {
    const h = arrivals;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!earlier(e, h[p] as Entry)) break;
      h[i] = h[p] as Entry;
      i = p;
    }
    h[i] = e;
  }

  function heapPop(): void {
    const h = arrivals;
    const last = h.pop() as Entry;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && earlier(h[r] as Entry, h[l] as Entry) ? r : l;
      if (!earlier(h[c] as Entry, last)) break;
      h[i] = h[c] as Entry;
      i = c;
    }
    h[i] = last;
  }

  /** The first queued entry by arrival; entries that left the queue are dropped on the way. */
  function oldest(): Entry | undefined {
    // Keep the heap near the queue's size: entries that left stay in it until they surface.
    if (arrivals.length > 2 * queue.length + 32) {
      const keep = [...new Set(arrivals.filter((e) => e.inQueue === true))];
      arrivals = [];
      for (const e of keep) heapPush(e);
    }
    while (arrivals.length > 0 && (arrivals[0] as Entry).inQueue !== true) heapPop();
    return arrivals[0];
  }

  function enqueue(e: Entry): void {
    e.phase = "queued";
    e.swap = null;
    e.inQueue = true;
    const i = insertionPoint(queue, e);
    queue.splice(i, 0, e);
    if (i < dirtyFrom) dirtyFrom = i;
    const m = e.req.model;
    let list = byModel.get(m);
    if (!list) byModel.set(m, (list = []));
    list.splice(insertionPoint(list, e), 0, e);
    heapPush(e);
  }

  function promote(e: Entry): void {
    if (e.inQueue !== true || e.phase !== "queued" || e.starved !== undefined) return;
    // Out at its place in the order as it was, back in at its place in the order with the mark.
    const i = indexIn(queue, e);
    if (i >= 0) queue.splice(i, 1);
    const m = e.req.model;
    const list = byModel.get(m);
    const j = list ? indexIn(list, e) : -1;
    if (list && j >= 0) list.splice(j, 1);
    e.starved = ++starvedSeq;
    const at = insertionPoint(queue, e);
    queue.splice(at, 0, e);
    const from = i >= 0 ? Math.min(i, at) : at;
    if (from < dirtyFrom) dirtyFrom = from;
    if (list) list.splice(insertionPoint(list, e), 0, e);
    // Its place in the arrival heap is unchanged: it never left the queue.
  }

  function resort(): void {
    queue.sort((a, b) => policy.compare(a, b));
    for (const list of byModel.values()) list.sort((a, b) => policy.compare(a, b));
    dirtyFrom = 0;
  }

  /** Take the entry out of the queue, its swap or the in-flight set (its phase is left as is). */
  function detach(e: Entry): void {
    if (e.phase === "queued") {
      e.inQueue = false;
      const i = indexIn(queue, e);
      if (i >= 0) {
        queue.splice(i, 1);
        if (i < dirtyFrom) dirtyFrom = i;
      }
      const list = byModel.get(e.req.model);
      if (list) {
        const j = indexIn(list, e);
        if (j >= 0) list.splice(j, 1);
        if (list.length === 0) byModel.delete(e.req.model);
      }
      // Its place in the arrival heap goes when it surfaces.
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
    // No spread for the optional field: it copied the object on every request (issue 16).
    const ev: RequestObservation = { type: "request", id: req.id, model: req.model, phase, at: now() };
    if (error) ev.error = { kind: error.kind, message: error.message };
    effects.observe(ev);
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
    // A swap's waiter is granted only when its swap ended ready (onSwapDone): the model turned
    // ready now. (The core's swap-done handler has no move of its own here; this is that moment.)
    if (e.phase === "waiting") readySince.set(e.req.model, { at: now(), startedFor: swapStartedFor.get(e.req.model) ?? e.req.arrivedAt });
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

  /** `e` is now the last waiter of `sw`. */
  function noteJoined(e: Entry): void {
    e.joinSeq = ++joinSeq;
    joined.push(e);
  }

  function join(e: Entry, sw: SwapState): void {
    detach(e);
    e.phase = "waiting";
    e.swap = sw;
    sw.waiters.push(e);
    noteJoined(e);
    if (sw.waiters.length === 1) effects.setSwapWanted(sw.id, true);
  }

  function startSwap(e: Entry, evict: readonly string[], running: readonly string[], swapper: Swapper | null): void {
    const target = e.req.model;
    const sw: SwapState = { id: ++swapSeq, target, evict: [...evict], startedAt: now(), startedFor: e.req.arrivedAt, waiters: [], doomed: false };
    swapsByModel.set(target, sw);
    swapsById.set(sw.id, sw);
    swapStartedFor.set(target, e.req.arrivedAt);
    detach(e);
    e.phase = "waiting";
    e.swap = sw;
    sw.waiters.push(e);
    noteJoined(e);
    // The evictees are idle now (drained or severed): their evict-drain has done its job.
    for (const m of evict) if (drains.get(m)?.cause === "evict") endDrain(m);
    const placement = swapper?.onSwapStart(target, running, view) ?? undefined;
    effects.observe({ type: "swap-start", swapId: sw.id, target, evict: [...evict], reason: evict.length > 0 ? "evict" : "cold-start", at: now(), ...(placement ? { devices: [...placement.devices] } : {}) });
    effects.startSwap({ id: sw.id, target, evict: [...evict], requests: [e.req.id], ...(placement ? { placement } : {}) });
  }

  function runningSet(): string[] {
    const running = effects.runningModels();
    // The common case, nothing loading: the resident models as they are (no set, no copy).
    if (swapsByModel.size === 0) return running.length > 1 ? running.slice().sort() : running;
    const out = new Set(running);
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
    queuedByModel: () => byModel,
    oldest,
    swapFor: (m) => swapsByModel.get(m),
    swapCount: () => swapsById.size,
    swapTargets: () => new Set(swapsByModel.keys()),
    inFlightCount,
    view,
    serving: () => {
      // From the in-flight sets (exactly the serving entries), not a walk over every entry.
      const out: Entry[] = [];
      for (const ids of inFlight.values()) for (const id of ids) {
        const e = entries.get(id);
        if (e) out.push(e);
      }
      return out.length > 1 ? out.sort((a, b) => a.seq - b.seq) : out;
    },
    drainOf: (m) => drains.get(m),
    isStopping: (m) => stopping.has(m),
    isBlockedTarget: (m) => drains.has(m) || stopping.has(m) || swapsByModel.get(m)?.doomed === true || held(m),
    runningSet,
    collides,
    grant,
    join,
    startSwap,
    readySince: (m) => readySince.get(m),
    promote,
    now,
  };

  return {
    entries,
    queue,
    byModel,
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
    resort,
    takeChanges() {
      const from = Math.min(dirtyFrom, queue.length);
      dirtyFrom = Infinity;
      // Nothing joined a swap (every pump of a ready model): no allocation.
      if (joined.length === 0) return { from, joined: NO_ENTRIES };
      const out = joined;
      joined = [];
      // Dedupe (an entry may have joined twice), then the order the swaps and their waiters are listed in.
      const live = [...new Set(out)].filter((e) => e.phase === "waiting" && e.swap !== null);
      live.sort((a, b) => (a.swap as SwapState).id - (b.swap as SwapState).id || (a.joinSeq ?? 0) - (b.joinSeq ?? 0));
      return { from, joined: live };
    },
    remove,
    fail,
    grant,
  };
}
