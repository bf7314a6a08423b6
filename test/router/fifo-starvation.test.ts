/**
 * fifo's starvation bound against slow loads and priorities (pure: fake Effects, fake clock):
 * a model gets `maxWait` of residency after its load, however long the other model's requests
 * waited during it; and a request that starved is served next, whatever the priorities.
 */
import { describe, expect, test } from "bun:test";
import { createFifo } from "../../src/router/fifo.ts";
import { createGroupSwapper } from "../../src/router/swappers/group.ts";
import type { ProcessState } from "../../src/process/types.ts";
import type { Swapper } from "../../src/router/seams.ts";
import { FakeEffects, Harness, settings } from "./fake-effects.ts";

function fifo(states: Record<string, ProcessState>, swapper: Swapper, over: Parameters<typeof settings>[1] = {}): Harness {
  const eff = new FakeEffects(states);
  return new Harness(createFifo(settings(Object.keys(states), over), swapper, eff), eff);
}

const served = (h: Harness, id: number): boolean => h.eff.resolutions.get(id)?.kind === "served";

describe("maxWait counts from the resident's swap, not from during its load", () => {
  const groups = createGroupSwapper([{ id: "g", members: ["a", "b"], swap: true, exclusive: true, persistent: false }]);

  test("a load as long as maxWait: the fresh model serves for maxWait before it drains, each turn", () => {
    const h = fifo({ a: "stopped", b: "stopped" }, groups, { maxWaitSec: 2, drain: { a: 1, b: 1 } });
    const a1 = h.req("a"); // a loads (2.5 s)
    h.advance(500);
    const b1 = h.req("b"); // queued behind a's load
    h.advance(2000);
    h.swapDone("a"); // b1 has waited 2 s already, all of it during a's load
    const aReady = h.eff.t;
    expect(served(h, a1)).toBe(true);
    expect(h.s.routing("a").drainingSince).toBeNull();
    expect(h.eff.timer).toBe(aReady + 2000);
    h.advance(1000);
    const a2 = h.req("a"); // a still takes new work
    expect(served(h, a2)).toBe(true);
    h.advance(999);
    expect(h.s.routing("a").drainingSince).toBeNull();
    h.advance(1); // maxWait after a turned ready: a drains for b1
    expect(h.s.routing("a").drainingSince).toBe(aReady + 2000);
    h.done(a1);
    h.done(a2);
    expect(h.eff.startsFor("b")).toBe(1);
    const a3 = h.req("a"); // queued behind b's load
    h.advance(2500);
    h.swapDone("b"); // a3 has waited 2.5 s, all of it during b's load
    const bReady = h.eff.t;
    expect(served(h, b1)).toBe(true);
    expect(h.s.routing("b").drainingSince).toBeNull();
    expect(h.eff.timer).toBe(bReady + 2000);
    h.advance(1999);
    expect(h.s.routing("b").drainingSince).toBeNull();
    h.advance(1);
    expect(h.s.routing("b").drainingSince).toBe(bReady + 2000);
    h.done(b1);
    expect(h.eff.startsFor("a")).toBe(2);
    h.swapDone("a");
    expect(served(h, a3)).toBe(true);
    expect(h.eff.severed).toEqual([]);
    expect(h.eff.violations).toEqual([]);
  });
});

describe("a starved request is served next, whatever the priorities", () => {
  test("higher-priority models do not take the capacity its drain freed; its position only goes down", () => {
    const h = fifo(
      { a: "ready", b: "stopped", c: "stopped" },
      createGroupSwapper([{ id: "g", members: ["a", "b", "c"], swap: true, exclusive: true, persistent: false }]),
      { maxWaitSec: 2, drain: { a: 30, b: 30, c: 30 }, priorities: { a: 10, c: 10 } },
    );
    const a1 = h.req("a");
    const b1 = h.req("b");
    h.advance(2000); // b1 starved: a drains
    expect(h.s.routing("a").drainingSince).not.toBeNull();
    const c1 = h.req("c");
    const a2 = h.req("a");
    h.advance(500);
    const c2 = h.req("c");
    expect(h.eff.lastUpdate(b1)?.position).toBe(1);
    h.done(a1); // a idle: the freed capacity goes to b1, not to c1 (priority 10)
    expect(h.eff.startsFor("b")).toBe(1);
    expect(h.eff.startsFor("c")).toBe(0);
    h.swapDone("b");
    expect(served(h, b1)).toBe(true);
    const positions = (h.eff.updates.get(b1) ?? []).filter((u) => !u.loading).map((u) => u.position);
    expect(positions).toEqual([...positions].sort((x, y) => y - x));
    // Then priority again: c1 and c2 (priority 10) before a2's turn came to them.
    h.advance(2000);
    h.done(b1);
    expect(h.eff.startsFor("c")).toBe(1);
    h.swapDone("c");
    expect(served(h, c1) && served(h, c2)).toBe(true);
    expect(served(h, a2)).toBe(false);
    expect(h.eff.violations).toEqual([]);
  });

  test("higher-priority models taking turns do not restart its clock: it starves at maxWait after its arrival", () => {
    const h = fifo(
      { a: "stopped", b: "stopped", c: "stopped" },
      createGroupSwapper([{ id: "g", members: ["a", "b", "c"], swap: true, exclusive: true, persistent: false }]),
      { maxWaitSec: 2, drain: { a: 30, b: 30, c: 30 }, priorities: { a: 10, c: 10 } },
    );
    let busy = h.req("a");
    h.swapDone("a");
    h.advance(100);
    const b1 = h.req("b"); // queued: a is busy
    const arrived = h.eff.t;
    // a and c take turns, each load started for a request younger than b1 (it went ahead by
    // priority), each model busy for 900 ms, then idle, so the other's load can start at once.
    for (let turn = 0; turn < 8 && !served(h, b1); turn++) {
      const next = turn % 2 === 0 ? "c" : "a";
      h.advance(100);
      const r = h.req(next);
      h.advance(800);
      h.done(busy);
      if (h.eff.outstanding.size > 0 && [...h.eff.outstanding.values()].some((o) => o.target === next)) {
        h.advance(100);
        h.swapDone(next);
      }
      busy = r;
      if (h.eff.outstanding.size > 0 && [...h.eff.outstanding.values()].some((o) => o.target === "b")) {
        h.advance(100);
        h.swapDone("b");
      }
    }
    expect(served(h, b1)).toBe(true);
    const at = (h.eff.resolutions.get(b1) as { at: number }).at;
    // Starved at arrival + 2 s, then the resident's one request (900 ms at most) and b's load.
    expect(at - arrived).toBeLessThanOrEqual(2000 + 1000 + 200);
    expect(h.eff.violations).toEqual([]);
  });

  test("no other load starts into the room it needs while it waits for its drain", () => {
    // b (exclusive) must evict a; x (non-exclusive) starts beside a, but b would have to evict it too.
    const h = fifo(
      { a: "ready", b: "stopped", x: "stopped" },
      createGroupSwapper([
        { id: "g1", members: ["a", "b"], swap: true, exclusive: true, persistent: false },
        { id: "g2", members: ["x"], swap: false, exclusive: false, persistent: false },
      ]),
      { maxWaitSec: 2, drain: { a: 30 } },
    );
    const a1 = h.req("a");
    const b1 = h.req("b");
    h.advance(2000); // b1 starved: a drains
    const x1 = h.req("x");
    expect(h.eff.startsFor("x")).toBe(0); // would make b1 wait out x's load and residency
    h.done(a1);
    expect(h.eff.startsFor("b")).toBe(1);
    expect(h.eff.starts[0]).toMatchObject({ target: "b", evict: ["a"] });
    h.swapDone("b");
    expect(served(h, b1)).toBe(true);
    // b's swap is under way or done: x goes its own way (a non-exclusive model evicts nothing).
    expect(h.eff.startsFor("x")).toBe(1);
    h.swapDone("x");
    expect(served(h, x1)).toBe(true);
    expect(h.eff.violations).toEqual([]);
  });
});
