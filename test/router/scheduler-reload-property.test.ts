/**
 * The scheduler under random event sequences with config reloads among them (models removed,
 * added back, restarted; limits, priorities and the policy switched) and crashes: the fake
 * Effects' safety rules hold after every step, every queued request's position is true (1..n with
 * no gap), every request resolves exactly once, and every unload ticket finishes.
 */
import { expect, test } from "bun:test";
import fc from "fast-check";
import { fifoPolicy } from "../../src/router/fifo.ts";
import { serialPolicy } from "../../src/router/serial.ts";
import { createSchedulerCore, type ReconfigurableScheduler } from "../../src/router/scheduler-core.ts";
import { createGroupSwapper } from "../../src/router/swappers/group.ts";
import type { SwapOutcome, Swapper } from "../../src/router/seams.ts";
import { RouteError } from "../../src/router/types.ts";
import { FakeEffects, settings } from "./fake-effects.ts";

const MODELS = ["a", "b", "c", "d"];
type Action =
  | { t: "req"; m: number } | { t: "done"; k: number } | { t: "cancel"; k: number } | { t: "leave"; k: number }
  | { t: "swap"; k: number; ok: boolean } | { t: "stop"; k: number }
  | { t: "unload"; models: number[] | null; idle: boolean } | { t: "tick"; ms: number } | { t: "crash"; m: number }
  | { t: "reload"; keep: boolean[]; restart: boolean[]; prio: number[]; limits: number[]; serial: boolean } | { t: "shutdown" };
const mi = fc.integer({ min: 0, max: 3 });
const k = fc.nat(20);
const bools = fc.array(fc.boolean(), { minLength: 4, maxLength: 4 });
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ t: fc.constant("req" as const), m: mi }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant("done" as const), k }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("cancel" as const), k }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("leave" as const), k }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant("swap" as const), k, ok: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("stop" as const), k }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("unload" as const), models: fc.option(fc.uniqueArray(mi, { maxLength: 2 }), { nil: null }), idle: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("tick" as const), ms: fc.integer({ min: 0, max: 2500 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("crash" as const), m: mi }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("reload" as const), keep: bools, restart: bools, prio: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 4, maxLength: 4 }), limits: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }), serial: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ t: "shutdown" as const }) },
);

class World {
  eff = new FakeEffects(Object.fromEntries(MODELS.map((m) => [m, "stopped" as const])));
  swapper: Swapper = createGroupSwapper([{ id: "g", members: MODELS, swap: true, exclusive: true, persistent: false }]);
  s: ReconfigurableScheduler;
  ids: number[] = []; nextId = 1; ticket = 100; tickets: number[] = []; down = false;
  configured = new Set(MODELS);
  constructor(readonly maxWait: number, readonly serial: boolean) {
    const set = settings([...MODELS], { maxWaitSec: maxWait, drainTimeoutSec: () => 1 });
    this.s = createSchedulerCore(set, this.eff, serial ? serialPolicy() : fifoPolicy(this.swapper, (m) => set.priority(m)));
  }
  inFlightIds() { return [...this.eff.inFlight.values()].flatMap((s) => [...s]).sort((x, y) => x - y); }
  finishSwap(order: { id: number; target: string }, ok: boolean) {
    const eff = this.eff; eff.outstanding.delete(order.id);
    const st = eff.states.get(order.target);
    let outcome: SwapOutcome;
    if (!eff.wanted.get(order.id) && st === "starting") outcome = { kind: "abandoned" };
    else if (ok && (st === "starting" || st === "ready")) outcome = { kind: "ready" };
    else outcome = { kind: "failed", error: new RouteError("start_failed", `${order.target} failed`) };
    if (outcome.kind === "ready") eff.states.set(order.target, "ready");
    else if (st === "starting") eff.states.set(order.target, "stopped");
    this.s.onSwapDone(order.id, outcome);
  }
  apply(a: Action) {
    const eff = this.eff;
    switch (a.t) {
      case "req": { const id = this.nextId++; this.ids.push(id); this.s.onRequest({ id, model: MODELS[a.m]!, arrivedAt: eff.t }); return; }
      case "done": { const live = this.inFlightIds(); if (!live.length) return; const id = live[a.k % live.length]!; for (const s of eff.inFlight.values()) s.delete(id); this.s.onServeDone(id); return; }
      case "cancel": case "leave": { if (!this.ids.length) return; const id = this.ids[a.k % this.ids.length]!; eff.left.add(id); if (a.t === "cancel") this.s.onCancel(id); return; }
      case "swap": { const out = [...eff.outstanding.values()]; if (!out.length) return; this.finishSwap(out[a.k % out.length]!, a.ok); return; }
      case "stop": { if (!eff.pendingStops.length) return; const [p] = eff.pendingStops.splice(a.k % eff.pendingStops.length, 1); if (!p) return; if (eff.states.has(p.model)) eff.states.set(p.model, p.reason === "shutdown" ? "shutdown" : "stopped"); this.s.onUnloadDone(p.model); return; }
      case "unload": this.tickets.push(this.ticket); this.s.onUnload({ id: this.ticket++, models: a.models === null ? null : a.models.map((i) => MODELS[i]!), onlyIfIdle: a.idle }); return;
      case "tick": eff.t += a.ms; if (eff.timer !== null && eff.timer <= eff.t) { eff.timer = null; this.s.onTimer(); } return;
      case "crash": { const m = MODELS[a.m]!; if (eff.states.get(m) !== "ready") return; eff.states.set(m, "stopped"); this.s.onStateChange(m); return; }
      case "reload": {
        if (this.down) return;
        const next = new Set(MODELS.filter((_, i) => a.keep[i]));
        if (next.size === 0) return;
        const removed = [...this.configured].filter((m) => !next.has(m));
        const added = [...next].filter((m) => !this.configured.has(m));
        const restarted = [...next].filter((m, i) => this.configured.has(m) && a.restart[MODELS.indexOf(m)]);
        for (const m of added) if (!eff.states.has(m)) eff.states.set(m, "stopped");
        this.configured = next;
        const models = [...next].filter((m) => eff.states.has(m));
        const set = settings(models, { maxWaitSec: this.maxWait, drainTimeoutSec: () => 1, concurrencyLimit: (m) => a.limits[MODELS.indexOf(m)]!, priority: (m) => a.prio[MODELS.indexOf(m)]! });
        this.s.onReconfigure({ settings: set, policy: a.serial ? serialPolicy() : fifoPolicy(this.swapper, (m) => set.priority(m)), added, removed, restarted });
        return;
      }
      case "shutdown": if (this.down) return; this.down = true; this.tickets.push(this.ticket); this.s.onShutdown(this.ticket++); return;
    }
  }
  checkPositions() {
    const eff = this.eff;
    const pend = this.ids.filter((id) => !eff.resolutions.has(id));
    const queued: number[] = [];
    for (const id of pend) {
      const u = eff.lastUpdate(id);
      expect(u, `request ${id} pending without any update`).toBeDefined();
      if (!u!.loading) queued.push(u!.position);
      else expect([...eff.outstanding.values()].some((o) => o.target === u!.model), `request ${id} told loading ${u!.model} but no swap`).toBe(true);
    }
    queued.sort((x, y) => x - y);
    expect(queued).toEqual(queued.map((_, i) => i + 1));
  }
  step(a: Action) {
    this.apply(a);
    expect(this.eff.violations).toEqual([]);
    this.checkPositions();
    for (const m of MODELS) expect(this.s.routing(m).inFlight).toBe(this.eff.busy(m));
  }
  quiesce() {
    const eff = this.eff;
    for (let r = 0; r < 300; r++) {
      const out = [...eff.outstanding.values()];
      if (out.length) this.step({ t: "swap", k: 0, ok: true });
      else if (eff.pendingStops.length) this.step({ t: "stop", k: 0 });
      else if (this.inFlightIds().length) this.step({ t: "done", k: 0 });
      else {
        const un = this.ids.filter((id) => eff.left.has(id) && !eff.resolutions.has(id));
        if (un.length) this.s.onCancel(un[0]!);
        else if (this.ids.some((id) => !eff.resolutions.has(id)) || eff.timer !== null) this.step({ t: "tick", ms: 5000 });
        else return;
      }
    }
    throw new Error("did not quiesce: unresolved " + JSON.stringify(this.ids.filter((id) => !eff.resolutions.has(id))));
  }
}

test("random sequences with reloads and crashes keep the safety rules and true queue positions", () => {
  fc.assert(
    fc.property(fc.constantFrom(0, 0.3, 1), fc.boolean(), fc.array(action, { minLength: 5, maxLength: 60, size: "max" }), (mw, serial, actions) => {
      const w = new World(mw, serial);
      for (const a of actions) w.step(a);
      w.quiesce();
      expect(w.eff.violations).toEqual([]);
      for (const id of w.ids) expect(w.eff.resolutions.has(id)).toBe(true);
      expect([...w.eff.finished].sort((x, y) => x - y)).toEqual(w.tickets);
      for (const m of MODELS) expect(w.s.routing(m)).toEqual({ inFlight: 0, queued: 0, drainingSince: null });
    }),
    { numRuns: 1000 },
  );
}, 120_000);
