/**
 * Property test: random event sequences (requests, completions, cancellations, departures, swap
 * successes and failures, stops, unloads, timer ticks, crashes, config reloads, shutdown) against
 * both schedulers and both swappers. After every step: no request resolved twice, no model evicted,
 * stopped, replaced or retired with requests in flight (the fake flags it; severing is the only way
 * out, and only once the drain deadline passed), counts never negative and equal to what was
 * granted, at most one swap per model, the resident set allowed by the swapper, and every waiting
 * request's queue position true (the queued ones hold 1..n). After quiescing: every request
 * resolved exactly once and every count back to zero.
 */
import { expect, test } from "bun:test";
import fc from "fast-check";
import { fifoPolicy } from "../../src/router/fifo.ts";
import { createSchedulerCore, type ReconfigurableScheduler } from "../../src/router/scheduler-core.ts";
import { serialPolicy } from "../../src/router/serial.ts";
import { createGroupSwapper } from "../../src/router/swappers/group.ts";
import { createMatrixSwapper } from "../../src/router/swappers/matrix.ts";
import type { GroupConfig } from "../../src/config/types.ts";
import type { SchedulerSettings, SwapOutcome, Swapper } from "../../src/router/seams.ts";
import { RouteError } from "../../src/router/types.ts";
import { FakeEffects, settings } from "./fake-effects.ts";

const MODELS = ["a", "b", "c", "d"] as const;

type Action =
  | { t: "req"; m: number }
  | { t: "done"; k: number }
  | { t: "cancel"; k: number }
  | { t: "leave"; k: number }
  | { t: "swap"; k: number; ok: boolean }
  | { t: "stop"; k: number }
  | { t: "unload"; models: number[] | null; idle: boolean }
  | { t: "tick"; ms: number }
  | { t: "crash"; m: number }
  /** A config reload: the models kept (at least one), which of them restart, new limits and priorities. */
  | { t: "reload"; keep: boolean[]; restart: boolean[]; limits: number[]; priorities: number[] }
  | { t: "shutdown" };

const modelIdx = fc.integer({ min: 0, max: MODELS.length - 1 });
const k = fc.nat(20);
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ t: fc.constant("req" as const), m: modelIdx }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant("done" as const), k }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("cancel" as const), k }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("leave" as const), k }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant("swap" as const), k, ok: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("stop" as const), k }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("unload" as const),
      models: fc.option(fc.uniqueArray(modelIdx, { maxLength: 2 }), { nil: null }),
      idle: fc.boolean(),
    }),
  },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 2500 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("crash" as const), m: modelIdx }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("reload" as const),
      keep: fc.array(fc.boolean(), { minLength: MODELS.length, maxLength: MODELS.length }),
      restart: fc.array(fc.boolean(), { minLength: MODELS.length, maxLength: MODELS.length }),
      limits: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: MODELS.length, maxLength: MODELS.length }),
      priorities: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: MODELS.length, maxLength: MODELS.length }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: "shutdown" as const }) },
);

const groupsArb: fc.Arbitrary<GroupConfig[]> = fc
  .tuple(
    fc.array(fc.integer({ min: 0, max: 2 }), { minLength: MODELS.length, maxLength: MODELS.length }),
    fc.array(fc.record({ swap: fc.boolean(), exclusive: fc.boolean(), persistent: fc.boolean() }), {
      minLength: 3,
      maxLength: 3,
    }),
  )
  .map(([assign, flags]) =>
    flags
      .map((f, gi) => ({ id: `g${gi}`, members: MODELS.filter((_, mi) => assign[mi] === gi), ...f }))
      .filter((g) => g.members.length > 0),
  );

const matrixArb = fc.record({
  sets: fc.array(fc.subarray([...MODELS], { minLength: 1 }), { minLength: 1, maxLength: 3 }),
  costs: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: MODELS.length, maxLength: MODELS.length }),
});

const configArb = fc.record({
  scheduler: fc.constantFrom("fifo" as const, "serial" as const),
  swapper: fc.oneof(
    groupsArb.map((groups) => ({ kind: "group" as const, groups })),
    matrixArb.map((m) => ({ kind: "matrix" as const, ...m })),
  ),
  limits: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: MODELS.length, maxLength: MODELS.length }),
  drains: fc.array(fc.constantFrom(0, 0.5, 1, 2), { minLength: MODELS.length, maxLength: MODELS.length }),
  priorities: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: MODELS.length, maxLength: MODELS.length }),
  maxWait: fc.constantFrom(0, 0.3, 1, 3),
});

type Cfg = typeof configArb extends fc.Arbitrary<infer T> ? T : never;

function buildSwapper(cfg: Cfg): Swapper {
  if (cfg.swapper.kind === "group") return createGroupSwapper(cfg.swapper.groups);
  const { sets, costs } = cfg.swapper;
  return createMatrixSwapper({
    sets: sets.map((models, i) => ({ set: `s${i}`, dsl: models.join(" & "), models, expr: { kind: "and" as const, children: models.map((id) => ({ kind: "model" as const, id })) } })),
    evictCosts: Object.fromEntries(MODELS.map((m, i) => [m, costs[i] as number])),
  });
}

/** Some order exists in which each model could have started without evicting those before it. */
function allowed(resident: string[], swapper: Swapper): boolean {
  const perms = (xs: string[]): string[][] =>
    xs.length <= 1 ? [xs] : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
  return perms(resident).some((order) =>
    order.every((m, i) => {
      const before = order.slice(0, i);
      return swapper.evictionFor(m, before).every((e) => !before.includes(e));
    }),
  );
}

class World {
  readonly eff = new FakeEffects(Object.fromEntries(MODELS.map((m) => [m, "stopped" as const])));
  readonly swapper: Swapper;
  readonly s: ReconfigurableScheduler;
  readonly ids: number[] = [];
  private nextId = 1;
  private ticket = 100;
  readonly tickets: number[] = [];
  private shutdown = false;
  readonly drainSec: (m: string) => number;
  /** The models in the config now (a reload removes and adds them back). */
  private configured = new Set<string>(MODELS);

  constructor(readonly cfg: Cfg) {
    this.swapper = buildSwapper(cfg);
    const idx = (m: string) => MODELS.indexOf(m as (typeof MODELS)[number]);
    this.drainSec = (m) => cfg.drains[idx(m)] as number;
    const set = this.settingsFor([...MODELS], cfg.limits, cfg.priorities);
    this.s = createSchedulerCore(set, this.eff, this.policyFor(set));
  }

  private settingsFor(models: string[], limits: number[], priorities: number[]): SchedulerSettings {
    const idx = (m: string) => MODELS.indexOf(m as (typeof MODELS)[number]);
    return settings(models, {
      concurrencyLimit: (m) => limits[idx(m)] as number,
      drainTimeoutSec: this.drainSec,
      priority: (m) => priorities[idx(m)] as number,
      maxWaitSec: this.cfg.maxWait,
    });
  }

  private policyFor(set: SchedulerSettings) {
    return this.cfg.scheduler === "fifo" ? fifoPolicy(this.swapper, (m) => set.priority(m)) : serialPolicy();
  }

  private inFlightIds(): number[] {
    return [...this.eff.inFlight.values()].flatMap((s) => [...s]).sort((x, y) => x - y);
  }

  /** Finish one swap the way the real runner would report it. */
  private finishSwap(order: { id: number; target: string }, ok: boolean): void {
    const eff = this.eff;
    eff.outstanding.delete(order.id);
    const st = eff.states.get(order.target);
    let outcome: SwapOutcome;
    if (!eff.wanted.get(order.id) && st === "starting") outcome = { kind: "abandoned" };
    else if (ok && (st === "starting" || st === "ready")) outcome = { kind: "ready" };
    else outcome = { kind: "failed", error: new RouteError("start_failed", `${order.target} failed`) };
    if (outcome.kind === "ready") eff.states.set(order.target, "ready");
    else if (st === "starting") eff.states.set(order.target, "stopped");
    this.s.onSwapDone(order.id, outcome);
  }

  apply(a: Action): void {
    const eff = this.eff;
    switch (a.t) {
      case "req": {
        const id = this.nextId++;
        this.ids.push(id);
        this.s.onRequest({ id, model: MODELS[a.m] as string, arrivedAt: eff.t });
        return;
      }
      case "done": {
        const live = this.inFlightIds();
        if (live.length === 0) return;
        const id = live[a.k % live.length] as number;
        for (const set of eff.inFlight.values()) set.delete(id);
        this.s.onServeDone(id);
        return;
      }
      case "cancel":
      case "leave": {
        if (this.ids.length === 0) return;
        const id = this.ids[a.k % this.ids.length] as number;
        eff.left.add(id);
        if (a.t === "cancel") this.s.onCancel(id);
        return;
      }
      case "swap": {
        const out = [...eff.outstanding.values()];
        if (out.length === 0) return;
        this.finishSwap(out[a.k % out.length] as { id: number; target: string }, a.ok);
        return;
      }
      case "stop": {
        if (eff.pendingStops.length === 0) return;
        const [p] = eff.pendingStops.splice(a.k % eff.pendingStops.length, 1);
        if (!p) return;
        eff.states.set(p.model, p.reason === "shutdown" ? "shutdown" : "stopped");
        this.s.onUnloadDone(p.model);
        return;
      }
      case "unload":
        this.tickets.push(this.ticket);
        this.s.onUnload({
          id: this.ticket++,
          models: a.models === null ? null : a.models.map((i) => MODELS[i] as string),
          onlyIfIdle: a.idle,
        });
        return;
      case "tick":
        eff.t += a.ms;
        if (eff.timer !== null && eff.timer <= eff.t) {
          eff.timer = null;
          this.s.onTimer();
        }
        return;
      case "crash": {
        const m = MODELS[a.m] as string;
        if (eff.states.get(m) !== "ready") return;
        eff.states.set(m, "stopped");
        this.s.onStateChange(m);
        return;
      }
      case "reload": {
        // As the reloader and the router do: a diff of the model sets, and settings for the
        // models that have a supervisor (a removed one keeps its own until it is retired).
        if (this.shutdown) return;
        const next = new Set<string>(MODELS.filter((_, i) => a.keep[i]));
        if (next.size === 0) return;
        const removed = [...this.configured].filter((m) => !next.has(m));
        const added = [...next].filter((m) => !this.configured.has(m));
        const restarted = [...next].filter((m) => this.configured.has(m) && a.restart[MODELS.indexOf(m as (typeof MODELS)[number])]);
        for (const m of added) if (!eff.states.has(m)) eff.states.set(m, "stopped");
        this.configured = next;
        const set = this.settingsFor([...next].filter((m) => eff.states.has(m)), a.limits, a.priorities);
        this.s.onReconfigure({ settings: set, policy: this.policyFor(set), added, removed, restarted });
        return;
      }
      case "shutdown":
        if (this.shutdown) return;
        this.shutdown = true;
        this.tickets.push(this.ticket);
        this.s.onShutdown(this.ticket++);
        return;
    }
  }

  /** Run a step and check the invariants around it. */
  step(a: Action): void {
    const since = new Map(MODELS.map((m) => [m as string, this.s.routing(m).drainingSince]));
    const severedBefore = this.eff.severed.length;
    const logBefore = this.eff.log.length;
    this.apply(a);
    const eff = this.eff;
    expect(eff.violations).toEqual([]);
    // A model that drains takes no new work (the drain was there before and is still there).
    for (const { res } of eff.log.slice(logBefore)) {
      if (res.kind !== "served") continue;
      const before = since.get(res.model) ?? null;
      expect(before === null || this.s.routing(res.model).drainingSince !== before).toBe(true);
    }
    for (const cut of eff.severed.slice(severedBefore)) {
      const d = this.drainSec(cut.model) * 1000;
      const s = since.get(cut.model) ?? null;
      // Severed only at the deadline of a drain (or at once with drainTimeout 0).
      expect(d === 0 || (s !== null && s + d <= eff.t)).toBe(true);
      expect(cut.error.kind).toBe("severed");
    }
    for (const m of MODELS) {
      const r = this.s.routing(m);
      expect(r.inFlight).toBe(eff.busy(m));
      expect(r.queued).toBeGreaterThanOrEqual(0);
    }
    const resident = eff.runningModels();
    if (this.cfg.scheduler === "serial") expect(resident.length).toBeLessThanOrEqual(1);
    expect(allowed(resident, this.swapper)).toBe(true);
    this.checkPositions();
  }

  /** Every waiting request was told where it stands: the queued ones hold 1..n, a loading one has its load open. */
  private checkPositions(): void {
    const eff = this.eff;
    const queued: number[] = [];
    for (const id of this.ids) {
      if (eff.resolutions.has(id)) continue;
      const u = eff.lastUpdate(id);
      expect(u).toBeDefined();
      if (!u!.loading) queued.push(u!.position);
      else expect([...eff.outstanding.values()].some((o) => o.target === u!.model)).toBe(true);
    }
    queued.sort((x, y) => x - y);
    expect(queued).toEqual(queued.map((_, i) => i + 1));
  }

  /** Let everything finish: loads, stops, requests, timers, late cancels. */
  quiesce(): void {
    const eff = this.eff;
    for (let round = 0; round < 200; round++) {
      const out = [...eff.outstanding.values()];
      const live = this.inFlightIds();
      if (out.length > 0) this.step({ t: "swap", k: 0, ok: true });
      else if (eff.pendingStops.length > 0) this.step({ t: "stop", k: 0 });
      else if (live.length > 0) this.step({ t: "done", k: 0 });
      else {
        const unresolved = this.ids.filter((id) => eff.left.has(id) && !eff.resolutions.has(id));
        if (unresolved.length > 0) this.s.onCancel(unresolved[0] as number);
        else if (this.ids.some((id) => !eff.resolutions.has(id)) || eff.timer !== null) this.step({ t: "tick", ms: 5000 });
        else return;
      }
    }
    throw new Error("did not quiesce");
  }
}

test("random event sequences keep the router's invariants (both schedulers, both swappers)", () => {
  fc.assert(
    fc.property(configArb, fc.array(action, { minLength: 5, maxLength: 80, size: "max" }), (cfg, actions) => {
      const w = new World(cfg);
      for (const a of actions) w.step(a);
      w.quiesce();
      const eff = w.eff;
      expect(eff.violations).toEqual([]);
      for (const id of w.ids) expect(eff.resolutions.has(id)).toBe(true);
      expect(eff.log.length).toBe(w.ids.length);
      for (const m of MODELS) expect(w.s.routing(m)).toEqual({ inFlight: 0, queued: 0, drainingSince: null });
      expect(eff.outstanding.size).toBe(0);
      // Every unload and shutdown ticket was answered, exactly once.
      expect([...eff.finished].sort((x, y) => x - y)).toEqual(w.tickets);
      // Observers heard one way out for every request (finished, refused, cancelled or severed;
      // a second one would already be a violation above), and every drain that began ended.
      const ends = new Set(eff.observed.flatMap((e) => (e.type === "request" && !["admitted", "granted"].includes(e.phase) ? [e.id] : [])));
      for (const id of w.ids) expect(ends.has(id)).toBe(true);
      const drains = eff.observed.filter((e) => e.type === "drain-start").length;
      expect(eff.observed.filter((e) => e.type === "drain-end").length).toBe(drains);
    }),
    { numRuns: 1000 },
  );
}, 30_000);
