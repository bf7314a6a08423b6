/**
 * Config reload in the scheduler, as a pure state machine: new settings and policy in one step;
 * added models routable at once; removed ones refuse their waiters with "model removed", drain and
 * are retired once stopped; restarted ones take no new work, drain, stop, get their new settings
 * and start again for the requests that waited. The fake Effects check the safety rules as they go.
 */
import { describe, expect, test } from "bun:test";
import type { ProcessState } from "../../src/process/types.ts";
import { fifoPolicy } from "../../src/router/fifo.ts";
import { createSchedulerCore } from "../../src/router/scheduler-core.ts";
import { serialPolicy } from "../../src/router/serial.ts";
import { RouteError } from "../../src/router/types.ts";
import type { Swapper } from "../../src/router/seams.ts";
import { FakeEffects, Harness, settings, stubSwapper } from "./fake-effects.ts";

function setup(states: Record<string, ProcessState>, swapper: Swapper = stubSwapper(), over: Parameters<typeof settings>[1] = {}) {
  const eff = new FakeEffects(states);
  const set = settings(Object.keys(states), over);
  const s = createSchedulerCore(set, eff, fifoPolicy(swapper, (m) => set.priority(m)));
  const h = new Harness(s, eff);
  const reload = (models: string[], change: { added?: string[]; removed?: string[]; restarted?: string[] }, o: Parameters<typeof settings>[1] = {}, sw: Swapper = swapper) => {
    const next = settings(models, o);
    s.onReconfigure({ settings: next, policy: fifoPolicy(sw, (m) => next.priority(m)), added: change.added ?? [], removed: change.removed ?? [], restarted: change.restarted ?? [] });
  };
  return { eff, s, h, reload };
}

describe("config reload in the scheduler", () => {
  test("an added model is routable at once; an unchanged one is untouched", () => {
    const { eff, h, reload } = setup({ a: "ready" });
    const a = h.req("a");
    eff.states.set("c", "stopped");
    reload(["a", "c"], { added: ["c"] });
    const c = h.req("c");
    expect(eff.startsFor("c")).toBe(1);
    h.swapDone("c");
    expect(eff.resolutions.get(c)).toMatchObject({ kind: "served", model: "c" });
    // a's stream never noticed: still in flight, no drain, no stop.
    expect(h.s.routing("a")).toEqual({ inFlight: 1, queued: 0, drainingSince: null });
    expect(eff.stops).toEqual([]);
    h.done(a);
    expect(eff.violations).toEqual([]);
  });

  test("a removed model: its queued requests get model_removed, new ones 404, its stream finishes, then it stops and is retired", () => {
    const { eff, h, reload } = setup({ a: "stopped", d: "ready" }, stubSwapper({ a: ["d"] }), { limits: { d: 10 } });
    const inFlight = h.req("d");
    // a needs d gone: it queues while d's request is in flight.
    const queuedA = h.req("a");
    expect(eff.startsFor("a")).toBe(0);
    reload(["a"], { removed: ["d"] });
    // New requests for d: not found.
    const late = h.req("d");
    const r = eff.resolutions.get(late);
    expect(r?.kind === "error" && r.error.kind).toBe("model_not_found");
    // d drains: its request in flight is not cut; no stop yet.
    expect(h.s.routing("d").drainingSince).not.toBeNull();
    expect(eff.stops).toEqual([]);
    h.done(inFlight);
    expect(eff.stops).toEqual([{ models: ["d"], reason: "unload" }]);
    h.stopsDone();
    expect(eff.retired).toEqual(["d"]);
    // a was waiting for d to go: it loads now.
    expect(eff.startsFor("a")).toBe(1);
    h.swapDone("a");
    expect(eff.resolutions.get(queuedA)).toMatchObject({ kind: "served", model: "a" });
    expect(eff.violations).toEqual([]);
  });

  test("requests queued for a removed model get a clear model_removed error", () => {
    const { eff, h, reload } = setup({ a: "ready", d: "stopped" }, stubSwapper({ d: ["a"] }));
    const busy = h.req("a");
    const queued = [h.req("d"), h.req("d")];
    expect(queued.every((id) => !eff.resolutions.has(id))).toBe(true);
    reload(["a"], { removed: ["d"] });
    for (const id of queued) {
      const r = eff.resolutions.get(id);
      expect(r?.kind === "error" && r.error.kind).toBe("model_removed");
      expect(r?.kind === "error" && r.error.message).toContain("removed from the configuration");
    }
    expect(eff.retired).toEqual(["d"]);
    h.done(busy);
    expect(eff.violations).toEqual([]);
  });

  test("a model removed while it loads: its waiters get model_removed and its load is stopped, not waited out", () => {
    const { eff, h, reload } = setup({ a: "stopped", d: "stopped" });
    const waiting = h.req("d");
    expect(eff.states.get("d")).toBe("starting");
    reload(["a"], { removed: ["d"] });
    const r = eff.resolutions.get(waiting);
    expect(r?.kind === "error" && r.error.kind).toBe("model_removed");
    expect(eff.aborted).toEqual(["d"]);
    // The aborted load comes back as a failed swap; then d is stopped and retired.
    h.swapDone("d", { kind: "failed", error: new RouteError("start_failed", "aborted") });
    expect(eff.retired).toEqual(["d"]);
    expect(eff.violations).toEqual([]);
  });

  test("a restarted model drains its stream, stops, gets its new settings, then starts for the requests that waited", () => {
    const { eff, h, reload } = setup({ b: "ready" });
    const streaming = h.req("b");
    reload(["b"], { restarted: ["b"] });
    expect(h.s.routing("b").drainingSince).not.toBeNull();
    // New work waits; nothing is cut.
    const next = h.req("b");
    expect(eff.resolutions.has(next)).toBe(false);
    expect(eff.stops).toEqual([]);
    h.done(streaming);
    expect(eff.stops).toEqual([{ models: ["b"], reason: "unload" }]);
    expect(eff.replaced).toEqual([]);
    h.stopsDone();
    expect(eff.replaced).toEqual(["b"]);
    expect(eff.startsFor("b")).toBe(1);
    h.swapDone("b");
    expect(eff.resolutions.get(next)).toMatchObject({ kind: "served", model: "b" });
    expect(eff.violations).toEqual([]);
  });

  test("a model removed and added back before it stopped is restarted, not retired: its old stream finishes, then the new one serves", () => {
    const { eff, h, reload } = setup({ a: "ready", d: "ready" }, stubSwapper(), { limits: { d: 10 } });
    const streaming = h.req("d");
    reload(["a"], { removed: ["d"] });
    // The user undoes the edit while d still drains its stream.
    reload(["a", "d"], { added: ["d"] });
    const next = h.req("d");
    expect(eff.resolutions.has(next)).toBe(false);
    expect(eff.stops).toEqual([]);
    h.done(streaming);
    expect(eff.stops).toEqual([{ models: ["d"], reason: "unload" }]);
    h.stopsDone();
    expect(eff.retired).toEqual([]);
    expect(eff.replaced).toEqual(["d"]);
    expect(eff.startsFor("d")).toBe(1);
    h.swapDone("d");
    expect(eff.resolutions.get(next)).toMatchObject({ kind: "served", model: "d" });
    expect(eff.violations).toEqual([]);
  });

  test("a restarted model that is not running gets its new settings at once; one loading finishes its load first", () => {
    const { eff, h, reload } = setup({ a: "stopped", b: "stopped" });
    const loading = h.req("b");
    reload(["a", "b"], { restarted: ["a", "b"] });
    expect(eff.replaced).toEqual(["a"]);
    h.swapDone("b");
    // The waiter of the load is served by the old process, then b drains for its new settings.
    expect(eff.resolutions.get(loading)).toMatchObject({ kind: "served", model: "b" });
    expect(h.s.routing("b").drainingSince).not.toBeNull();
    h.done(loading);
    h.stopsDone();
    expect(eff.replaced).toEqual(["a", "b"]);
    expect(eff.violations).toEqual([]);
  });

  test("a request that arrives after the reload does not join the old settings' load: it waits for the new process", () => {
    const { eff, h, reload } = setup({ b: "stopped" });
    const before = h.req("b");
    reload(["b"], { restarted: ["b"] });
    const after = h.req("b");
    h.swapDone("b");
    expect(eff.resolutions.get(before)).toMatchObject({ kind: "served", model: "b" });
    // Still queued: the old process serves only what waited for it before the reload.
    expect(eff.resolutions.has(after)).toBe(false);
    h.done(before);
    h.stopsDone();
    expect(eff.replaced).toEqual(["b"]);
    // The new process loads for it, and serves it.
    expect(eff.startsFor("b")).toBe(2);
    h.swapDone("b");
    expect(eff.resolutions.get(after)).toMatchObject({ kind: "served", model: "b" });
    expect(eff.violations).toEqual([]);
  });

  test("a restart's drain is bounded: a laggard is severed at the new drainTimeout", () => {
    const { eff, h, reload } = setup({ b: "ready" }, stubSwapper(), { drain: { b: 30 } });
    const laggard = h.req("b");
    reload(["b"], { restarted: ["b"] }, { drain: { b: 10 } });
    h.advance(9_999);
    expect(eff.severed).toEqual([]);
    h.advance(1);
    expect(eff.severed).toHaveLength(1);
    expect(eff.severed[0]!.ids).toEqual([laggard]);
    expect(eff.severed[0]!.error.message).toContain("restarted by a config reload");
    h.stopsDone();
    expect(eff.replaced).toEqual(["b"]);
    expect(eff.violations).toEqual([]);
  });

  test("limits, priorities and the swapper switch in one step", () => {
    const { eff, h, reload } = setup({ a: "ready", b: "stopped", c: "stopped" }, stubSwapper({ b: ["a"], c: ["a"] }), { limits: { a: 1 } });
    const first = h.req("a");
    const refused = h.req("a");
    expect(eff.errors("concurrency_limit")).toHaveLength(1);
    expect(refused).toBeGreaterThan(first);
    // b then c queue behind a's request; after the reload c outranks b, and neither evicts a any more.
    const qb = h.req("b");
    const qc = h.req("c");
    expect(eff.startsFor("b") + eff.startsFor("c")).toBe(0);
    reload(["a", "b", "c"], {}, { limits: { a: 5 }, priorities: { c: 10 } }, stubSwapper({}));
    expect(eff.starts.map((s) => s.target)).toEqual(["c", "b"]);
    expect(h.req("a")).toBeGreaterThan(qc);
    expect(h.s.routing("a").inFlight).toBe(2);
    h.swapDone("c");
    h.swapDone("b");
    expect(eff.resolutions.get(qb)).toMatchObject({ kind: "served" });
    expect(eff.violations).toEqual([]);
  });

  test("fifo to serial: the policy switches with the queue kept", () => {
    const eff = new FakeEffects({ a: "ready", b: "stopped" });
    const set = settings(["a", "b"]);
    const s = createSchedulerCore(set, eff, fifoPolicy(stubSwapper({ b: ["a"] }), () => 0));
    const h = new Harness(s, eff);
    const a = h.req("a");
    const b = h.req("b");
    s.onReconfigure({ settings: set, policy: serialPolicy(), added: [], removed: [], restarted: [] });
    // Serial: b waits for a's request, then a is evicted (drained first).
    expect(eff.startsFor("b")).toBe(0);
    h.done(a);
    expect(eff.startsFor("b")).toBe(1);
    h.swapDone("b");
    expect(eff.resolutions.get(b)).toMatchObject({ kind: "served", model: "b" });
    expect(eff.violations).toEqual([]);
  });

  test("a crashed model with a request still in flight is retired only once that request is done", () => {
    const { eff, h, s, reload } = setup({ a: "ready", d: "ready" }, stubSwapper(), { limits: { d: 1 } });
    const open = h.req("d");
    // d's process dies; its client has not finished reading yet.
    eff.states.set("d", "stopped");
    s.onStateChange("d");
    reload(["a"], { removed: ["d"] });
    expect(eff.retired).toEqual([]);
    h.done(open);
    // The drain ends with a stop (of a process already gone), then the retirement.
    h.stopsDone();
    expect(eff.retired).toEqual(["d"]);
    expect(h.s.routing("d")).toEqual({ inFlight: 0, queued: 0, drainingSince: null });
    expect(eff.violations).toEqual([]);
  });

  test("a crashed model with a request in flight is replaced only once that request is done; a laggard is severed at the drain deadline", () => {
    const { eff, h, s, reload } = setup({ d: "ready" }, stubSwapper(), { drain: { d: 1 } });
    const open = h.req("d");
    eff.states.set("d", "stopped");
    s.onStateChange("d");
    reload(["d"], { restarted: ["d"] }, { drain: { d: 1 } });
    expect(eff.replaced).toEqual([]);
    h.advance(1000);
    expect(eff.severed.map((x) => x.model)).toEqual(["d"]);
    h.stopsDone();
    expect(eff.replaced).toEqual(["d"]);
    h.done(open); // a late done after the sever is ignored
    expect(eff.violations).toEqual([]);
  });

  test("a restart still pending at shutdown installs no new supervisor", () => {
    const { eff, h, s, reload } = setup({ b: "ready" });
    const open = h.req("b");
    reload(["b"], { restarted: ["b"] });
    s.onShutdown(1);
    h.done(open);
    h.stopsDone();
    expect(eff.finished).toEqual([1]);
    expect(eff.replaced).toEqual([]);
    expect(eff.violations).toEqual([]);
  });

  test("shutdown during a removal still stops the removed model", () => {
    const { eff, h, s, reload } = setup({ a: "ready", d: "ready" });
    const id = h.req("d");
    reload(["a"], { removed: ["d"] });
    s.onShutdown(1);
    h.done(id);
    expect(eff.stops.flatMap((x) => x.models).sort()).toEqual(["a", "d"]);
    h.stopsDone();
    expect(eff.finished).toEqual([1]);
    expect(eff.violations).toEqual([]);
  });
});
