/**
 * The serial scheduler: strict arrival order, one request at a time, a different model evicts all
 * others first, and the current request drains (bounded) when the next one wants another model.
 */
import { describe, expect, test } from "bun:test";
import { createSerial } from "../../src/router/serial.ts";
import type { ProcessState } from "../../src/process/types.ts";
import { RouteError } from "../../src/router/types.ts";
import { FakeEffects, Harness, settings } from "./fake-effects.ts";

function serial(states: Record<string, ProcessState>, over: Parameters<typeof settings>[1] = {}): Harness {
  const eff = new FakeEffects(states);
  return new Harness(createSerial(settings(Object.keys(states), over), eff), eff);
}

describe("order", () => {
  test("A B C A is served A B C A, reloading A", () => {
    const h = serial({ a: "stopped", b: "stopped", c: "stopped" });
    const ids = h.reqs("a", "b", "c", "a");
    for (const [i, m] of ["a", "b", "c", "a"].entries()) {
      h.swapDone(m);
      h.done(ids[i] as number);
    }
    expect(h.eff.serviceOrder()).toEqual(["a", "b", "c", "a"]);
    expect(h.eff.startsFor("a")).toBe(2);
    expect(h.eff.starts.map((s) => [s.target, s.evict])).toEqual([
      ["a", []],
      ["b", ["a"]],
      ["c", ["b"]],
      ["a", ["c"]],
    ]);
    expect(h.eff.violations).toEqual([]);
  });

  test("one request at a time, even for the loaded model", () => {
    const h = serial({ a: "ready" });
    const [r1, r2] = h.reqs("a", "a");
    expect(h.eff.resolutions.get(r1 as number)?.kind).toBe("served");
    expect(h.eff.resolutions.has(r2 as number)).toBe(false);
    expect(h.eff.lastUpdate(r2 as number)).toEqual({ position: 1, model: "a", loading: false });
    expect(h.eff.timer).toBeNull(); // same model next: no drain, no deadline
    h.done(r1 as number);
    expect(h.eff.resolutions.get(r2 as number)?.kind).toBe("served");
  });

  test("a different model evicts every other running model, whatever the groups say", () => {
    const h = serial({ a: "ready", b: "ready", c: "stopped" });
    h.req("c");
    expect(h.eff.starts[0]).toMatchObject({ target: "c", evict: ["a", "b"] });
    h.swapDone("c");
    expect(h.eff.runningModels()).toEqual(["c"]);
  });

  test("a ready model alone is served without a swap", () => {
    const h = serial({ a: "ready", b: "stopped" });
    h.req("a");
    expect(h.eff.starts).toHaveLength(0);
    expect(h.eff.served("a")).toBe(1);
  });
});

describe("bounded drain", () => {
  test("the next request for another model waits for the current one, bounded by drainTimeout", () => {
    const h = serial({ a: "ready", b: "stopped" }, { drain: { a: 3 } });
    const a = h.req("a");
    const b = h.req("b");
    expect(h.s.routing("a").drainingSince).toBe(h.eff.t);
    expect(h.eff.timer).toBe(h.eff.t + 3000);
    h.advance(2999);
    expect(h.eff.startsFor("b")).toBe(0);
    h.advance(1);
    expect(h.eff.severed.map((s) => s.ids)).toEqual([[a]]);
    expect(h.eff.startsFor("b")).toBe(1);
    h.done(a); // late done of the severed request: ignored
    h.swapDone("b");
    expect(h.eff.resolutions.get(b)?.kind).toBe("served");
    expect(h.eff.violations).toEqual([]);
  });

  test("a request that ends in time is not severed", () => {
    const h = serial({ a: "ready", b: "stopped" }, { drain: { a: 3 } });
    const a = h.req("a");
    h.req("b");
    h.advance(1000);
    h.done(a);
    expect(h.eff.startsFor("b")).toBe(1);
    h.advance(5000);
    expect(h.eff.severed).toHaveLength(0);
  });
});

describe("lifecycle", () => {
  test("unknown model is refused", () => {
    const h = serial({ a: "ready" });
    const r = h.eff.resolutions.get(h.req("x"));
    expect(r?.kind === "error" && r.error.kind).toBe("model_not_found");
  });

  test("a cancelled queued request is removed and the rest move up", () => {
    const h = serial({ a: "ready", b: "stopped" }, { drain: { a: 30 } });
    const a = h.req("a");
    const b = h.req("b");
    const a2 = h.req("a");
    h.cancel(b);
    expect(h.eff.resolutions.get(b)?.kind).toBe("error");
    expect(h.eff.lastUpdate(a2)?.position).toBe(1);
    expect(h.s.routing("a").drainingSince).toBeNull(); // the head is for a again
    h.done(a);
    expect(h.eff.resolutions.get(a2)?.kind).toBe("served");
    expect(h.eff.startsFor("b")).toBe(0);
  });

  test("a departed client's grant moves on to the next request", () => {
    const h = serial({ a: "stopped" });
    const [r1, r2] = h.reqs("a", "a");
    h.eff.left.add(r1 as number);
    h.swapDone("a");
    expect(h.eff.resolutions.get(r1 as number)?.kind).toBe("left");
    expect(h.eff.resolutions.get(r2 as number)?.kind).toBe("served");
  });

  test("a failed load fails only that request; the next one tries again", () => {
    const h = serial({ a: "stopped" });
    const [r1, r2] = h.reqs("a", "a");
    h.swapDone("a", { kind: "failed", error: new RouteError("health_timeout", "not ready in 5s") });
    const r = h.eff.resolutions.get(r1 as number);
    expect(r?.kind === "error" && r.error.kind).toBe("health_timeout");
    expect(h.eff.startsFor("a")).toBe(2);
    h.swapDone("a");
    expect(h.eff.resolutions.get(r2 as number)?.kind).toBe("served");
  });

  test("unload during a load fails the loading request, waits for the doomed swap", () => {
    const h = serial({ a: "stopped", b: "stopped" });
    const [a, b] = h.reqs("a", "b");
    h.s.onUnload({ id: 4, models: ["a"], onlyIfIdle: false });
    const r = h.eff.resolutions.get(a as number);
    expect(r?.kind === "error" && r.error.kind).toBe("unloaded");
    expect(h.eff.startsFor("b")).toBe(0); // one thing at a time: the doomed swap is still out
    h.stopsDone();
    expect(h.eff.finished).toEqual([4]);
    h.swapDone("a", { kind: "abandoned" });
    expect(h.eff.startsFor("b")).toBe(1);
    h.swapDone("b");
    expect(h.eff.resolutions.get(b as number)?.kind).toBe("served");
    expect(h.eff.violations).toEqual([]);
  });

  test("shutdown fails the queue and the loading request", () => {
    const h = serial({ a: "stopped", b: "stopped" });
    h.reqs("a", "b", "a");
    h.s.onShutdown(1);
    expect(h.eff.errors("shutting_down")).toHaveLength(3);
    h.stopsDone();
    expect(h.eff.finished).toEqual([1]);
  });
});
