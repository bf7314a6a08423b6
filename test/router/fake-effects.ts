/**
 * Test helpers for the pure schedulers: an in-memory `Effects` with a fake clock that records
 * every call and checks the router's safety rules as they happen, and a harness to drive events.
 */
import type { ObserveEvent } from "../../src/observe/events.ts";
import type { ProcessState } from "../../src/process/types.ts";
import type { RouteError, WaitUpdate } from "../../src/router/types.ts";
import type {
  Effects,
  RouteRequest,
  Scheduler,
  SchedulerSettings,
  StopReason,
  SwapOrder,
  SwapOutcome,
  Swapper,
} from "../../src/router/seams.ts";

/** How one request was resolved. */
export type Resolution =
  | { kind: "served"; model: string; at: number }
  | { kind: "left"; model: string }
  | { kind: "error"; error: RouteError };

/** An in-memory Effects that records calls and flags rule violations. */
export class FakeEffects implements Effects {
  t = 1_000_000;
  states = new Map<string, ProcessState>();
  /** Request ids whose client has left (grantServe returns false). */
  left = new Set<number>();
  resolutions = new Map<number, Resolution>();
  /** Every resolution in order, for order assertions. */
  log: { id: number; res: Resolution }[] = [];
  starts: SwapOrder[] = [];
  outstanding = new Map<number, SwapOrder>();
  wanted = new Map<number, boolean>();
  inFlight = new Map<string, Set<number>>();
  severed: { model: string; ids: number[]; error: RouteError }[] = [];
  /** Every observation, in order. */
  observed: ObserveEvent[] = [];
  /** Terminal observations per request (finished, refused, cancelled, severed): exactly one each. */
  private terminal = new Map<number, string>();
  /** The last busy edge reported per model. */
  busyEdges = new Map<string, boolean>();
  stops: { models: string[]; reason: StopReason }[] = [];
  pendingStops: { model: string; reason: StopReason }[] = [];
  finished: number[] = [];
  timer: number | null = null;
  updates = new Map<number, WaitUpdate[]>();
  violations: string[] = [];

  constructor(models: Record<string, ProcessState>) {
    for (const [m, st] of Object.entries(models)) this.states.set(m, st);
  }

  private resolve(id: number, res: Resolution): void {
    if (this.resolutions.has(id)) this.violations.push(`request ${id} resolved twice`);
    this.resolutions.set(id, res);
    this.log.push({ id, res });
  }

  modelState(model: string): ProcessState | null {
    return this.states.get(model) ?? null;
  }
  runningModels(): string[] {
    return [...this.states].filter(([, s]) => s !== "stopped" && s !== "shutdown").map(([m]) => m);
  }
  startSwap(order: SwapOrder): void {
    for (const o of this.outstanding.values()) {
      if (o.target === order.target) this.violations.push(`second swap for ${order.target}`);
      // Overlapping swaps must be serialised: never evict a loading model, never load an evictee,
      // never evict the same model twice at once.
      if (order.evict.includes(o.target)) this.violations.push(`${order.target} evicts loading ${o.target}`);
      if (o.evict.includes(order.target)) this.violations.push(`${order.target} loads while ${o.target} evicts it`);
      for (const m of order.evict) if (o.evict.includes(m)) this.violations.push(`${m} evicted by two swaps`);
    }
    for (const m of order.evict) {
      if (this.busy(m) > 0) this.violations.push(`${m} evicted with ${this.busy(m)} in flight`);
      if (this.states.has(m)) this.states.set(m, "stopped");
    }
    if (this.pendingStops.some((p) => p.model === order.target)) this.violations.push(`${order.target} loads while being stopped`);
    this.starts.push(order);
    this.outstanding.set(order.id, order);
    this.wanted.set(order.id, true);
    if (this.states.get(order.target) !== "ready") this.states.set(order.target, "starting");
  }
  setSwapWanted(swapId: number, wanted: boolean): void {
    this.wanted.set(swapId, wanted);
  }
  grantServe(req: RouteRequest, model: string): boolean {
    if (this.left.has(req.id)) {
      this.resolve(req.id, { kind: "left", model });
      return false;
    }
    if (this.states.get(model) !== "ready") this.violations.push(`${req.id} granted on ${model} while ${this.states.get(model)}`);
    this.resolve(req.id, { kind: "served", model, at: this.t });
    let set = this.inFlight.get(model);
    if (!set) this.inFlight.set(model, (set = new Set()));
    set.add(req.id);
    return true;
  }
  grantError(req: RouteRequest, error: RouteError): void {
    if (error.kind === "cancelled" && !this.left.has(req.id)) this.violations.push(`${req.id} cancelled but its client is there`);
    this.resolve(req.id, { kind: "error", error });
  }
  publish(req: RouteRequest, update: WaitUpdate): void {
    let list = this.updates.get(req.id);
    if (!list) this.updates.set(req.id, (list = []));
    list.push(update);
  }
  observe(event: ObserveEvent): void {
    this.observed.push(event);
    if (event.type !== "request") return;
    if (event.phase === "granted" && this.observed.every((e) => !(e.type === "request" && e.id === event.id && e.phase === "admitted"))) {
      this.violations.push(`request ${event.id} observed granted before admitted`);
    }
    if (event.phase === "admitted" || event.phase === "granted") return;
    const prior = this.terminal.get(event.id);
    if (prior) this.violations.push(`request ${event.id} observed ${event.phase} after ${prior}`);
    this.terminal.set(event.id, event.phase);
  }
  modelBusy(model: string, busy: boolean): void {
    // The one in-flight count (the scheduler's) and its busy edges must agree with what was granted.
    if (busy !== this.busy(model) > 0) this.violations.push(`${model} reported busy=${busy} with ${this.busy(model)} in flight`);
    if (this.busyEdges.get(model) === busy) this.violations.push(`${model} reported busy=${busy} twice in a row`);
    this.busyEdges.set(model, busy);
  }
  sever(model: string, reqs: RouteRequest[], error: RouteError): void {
    for (const r of reqs) {
      if (!this.inFlight.get(model)?.delete(r.id)) this.violations.push(`severed ${r.id} not in flight on ${model}`);
    }
    this.severed.push({ model, ids: reqs.map((r) => r.id), error });
  }
  stopModels(models: string[], reason: StopReason): void {
    for (const m of models) {
      if (this.busy(m) > 0) this.violations.push(`${m} stopped with ${this.busy(m)} in flight`);
      const st = this.states.get(m);
      if (st && st !== "stopped" && st !== "shutdown") this.states.set(m, "stopping");
      this.pendingStops.push({ model: m, reason });
    }
    this.stops.push({ models: [...models], reason });
  }
  unloadFinished(ticket: number): void {
    this.finished.push(ticket);
  }
  setTimer(atMs: number | null): void {
    this.timer = atMs;
  }
  now(): number {
    return this.t;
  }
  /** Models given their new settings by a reload, in order. */
  replaced: string[] = [];
  /** Models removed by a reload and forgotten, in order. */
  retired: string[] = [];
  replaceModel(model: string): void {
    const st = this.states.get(model);
    if (st !== "stopped") this.violations.push(`${model} replaced while ${st}`);
    if (this.busy(model) > 0) this.violations.push(`${model} replaced with ${this.busy(model)} in flight`);
    this.replaced.push(model);
  }
  /** Loads stopped because a reload removed their model. */
  aborted: string[] = [];
  abortStart(model: string): void {
    // Only a load the scheduler started and has not heard the end of. The process may have moved on
    // meanwhile (a stop under way, a load that just ended), and stopping it then is harmless: no
    // request was granted on it yet (one still in flight belongs to a process that crashed).
    if (![...this.outstanding.values()].some((o) => o.target === model)) this.violations.push(`${model} load aborted with no load of it open`);
    this.aborted.push(model);
  }
  retireModel(model: string): void {
    const st = this.states.get(model);
    if (st !== undefined && st !== "stopped" && st !== "shutdown") this.violations.push(`${model} retired while ${st}`);
    if (this.busy(model) > 0) this.violations.push(`${model} retired with ${this.busy(model)} in flight`);
    this.states.delete(model);
    this.retired.push(model);
  }

  /** Requests granted and not yet done or severed on `model`. */
  busy(model: string): number {
    return this.inFlight.get(model)?.size ?? 0;
  }
  /** Swaps started for `model`. */
  startsFor(model: string): number {
    return this.starts.filter((s) => s.target === model).length;
  }
  served(model: string): number {
    return [...this.resolutions.values()].filter((r) => r.kind === "served" && r.model === model).length;
  }
  errors(kind?: string): RouteError[] {
    const out: RouteError[] = [];
    for (const r of this.resolutions.values()) if (r.kind === "error" && (!kind || r.error.kind === kind)) out.push(r.error);
    return out;
  }
  /** The latest update published to a request. */
  lastUpdate(id: number): WaitUpdate | undefined {
    return this.updates.get(id)?.at(-1);
  }
  /** Models served, in order of grant. */
  serviceOrder(): string[] {
    return this.log.filter((l) => l.res.kind === "served").map((l) => (l.res as { model: string }).model);
  }
}

/** Settings with sensible test defaults. */
export function settings(models: string[], over: Partial<Omit<SchedulerSettings, "models">> & {
  limits?: Record<string, number>;
  drain?: Record<string, number>;
  priorities?: Record<string, number>;
} = {}): SchedulerSettings {
  const limits = over.limits ?? {};
  const drain = over.drain ?? {};
  const priorities = over.priorities ?? {};
  return {
    models,
    concurrencyLimit: over.concurrencyLimit ?? ((m) => limits[m] ?? 0),
    drainTimeoutSec: over.drainTimeoutSec ?? ((m) => drain[m] ?? 30),
    priority: over.priority ?? ((m) => priorities[m] ?? 0),
    maxWaitSec: over.maxWaitSec ?? 0,
  };
}

/** A swapper with a fixed evict list per target (llama-swap's stubPlanner). */
export function stubSwapper(evict: Record<string, string[]> = {}): Swapper & { starts: string[] } {
  const starts: string[] = [];
  return {
    starts,
    evictionFor: (target) => [...(evict[target] ?? [])],
    onSwapStart: (target) => {
      starts.push(target);
    },
  };
}

/** Drives a scheduler the way the run loop would. */
export class Harness {
  private nextId = 1;
  constructor(
    readonly s: Scheduler,
    readonly eff: FakeEffects,
  ) {}

  /** A new request for `model`; returns its id. */
  req(model: string): number {
    const id = this.nextId++;
    this.s.onRequest({ id, model, arrivedAt: this.eff.t });
    return id;
  }
  /** Several requests in order. */
  reqs(...models: string[]): number[] {
    return models.map((m) => this.req(m));
  }
  /** The swap in progress for `model` finishes. */
  swapDone(model: string, outcome: SwapOutcome = { kind: "ready" }): void {
    const order = [...this.eff.outstanding.values()].find((o) => o.target === model);
    if (!order) throw new Error(`no swap in progress for ${model}`);
    this.eff.outstanding.delete(order.id);
    if (outcome.kind === "ready") this.eff.states.set(model, "ready");
    else if (this.eff.states.get(model) === "starting") this.eff.states.set(model, "stopped");
    this.s.onSwapDone(order.id, outcome);
  }
  /** A granted request ends (its done()). */
  done(id: number): void {
    const r = this.eff.resolutions.get(id);
    if (r?.kind === "served") this.eff.inFlight.get(r.model)?.delete(id);
    this.s.onServeDone(id);
  }
  /** Every granted request on `model` ends. */
  doneAll(model: string): void {
    for (const id of [...(this.eff.inFlight.get(model) ?? [])]) this.done(id);
  }
  cancel(id: number): void {
    this.eff.left.add(id);
    this.s.onCancel(id);
  }
  /** Move the clock; fire the timer when due. */
  advance(ms: number): void {
    this.eff.t += ms;
    if (this.eff.timer !== null && this.eff.timer <= this.eff.t) {
      this.eff.timer = null;
      this.s.onTimer();
    }
  }
  /** Finish every pending stop. */
  stopsDone(): void {
    const pending = this.eff.pendingStops;
    this.eff.pendingStops = [];
    for (const p of pending) {
      this.eff.states.set(p.model, p.reason === "shutdown" ? "shutdown" : "stopped");
      this.s.onUnloadDone(p.model);
    }
  }
}
