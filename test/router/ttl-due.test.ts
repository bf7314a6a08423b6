/**
 * A TTL that comes due while a drain or a swap holds its model is kept until the model is idle:
 * the supervisor's idle clock fires once per idle period, so a dropped TTL would leave the model
 * loaded for good.
 */
import { describe, expect, test } from "bun:test";
import { fifoPolicy } from "../../src/router/fifo.ts";
import { createSchedulerCore } from "../../src/router/scheduler-core.ts";
import { FakeEffects, Harness, settings, stubSwapper } from "./fake-effects.ts";

function setup() {
  // b needs a and c gone (an exclusive group); c streams, a sits idle with its TTL ticking.
  const eff = new FakeEffects({ a: "ready", b: "stopped", c: "ready" });
  const set = settings(["a", "b", "c"], { maxWaitSec: 2, drain: { a: 30, c: 30 } });
  const s = createSchedulerCore(set, eff, fifoPolicy(stubSwapper({ b: ["a", "c"] }), (m) => set.priority(m)));
  return new Harness(s, eff);
}

describe("a TTL due during a drain", () => {
  test("is carried out once the drain is lifted and the model is idle", () => {
    const h = setup();
    const stream = h.req("c");
    const b = h.req("b");
    h.advance(2000); // maxWait: a and c drain for b
    expect(h.s.routing("a").drainingSince).not.toBeNull();
    h.s.onUnload({ id: 1, models: ["a"], onlyIfIdle: true }); // a's TTL: held by the drain
    expect(h.eff.pendingStops.map((p) => p.model)).toEqual([]);
    h.cancel(b); // b's client leaves: the drains are lifted, b's swap never happens
    expect(h.s.routing("a").drainingSince).toBeNull();
    expect(h.eff.pendingStops.map((p) => [p.model, p.reason])).toEqual([["a", "unload"]]);
    h.done(stream);
    expect(h.eff.violations).toEqual([]);
  });

  test("is forgotten when the model takes work again before it is idle (its idle clock starts anew then)", () => {
    const h = setup();
    const stream = h.req("c");
    const b = h.req("b");
    h.advance(2000);
    h.s.onUnload({ id: 1, models: ["a"], onlyIfIdle: true });
    const forA = h.req("a"); // queued behind the drain: a has work of its own now
    h.cancel(b);
    expect(h.eff.resolutions.get(forA)).toMatchObject({ kind: "served", model: "a" });
    h.done(forA);
    h.done(stream);
    expect(h.eff.pendingStops).toEqual([]);
    expect(h.eff.violations).toEqual([]);
  });
});
