/**
 * The fifo scheduler as a pure state machine: llama-swap's FIFO scenario catalogue, plus
 * switchyard's starvation bound, bounded drain with severing, unload drain and abandonment.
 */
import { describe, expect, test } from "bun:test";
import { createFifo } from "../../src/router/fifo.ts";
import { createGroupSwapper } from "../../src/router/swappers/group.ts";
import type { ProcessState } from "../../src/process/types.ts";
import { RouteError } from "../../src/router/types.ts";
import type { SchedulerSettings, Swapper } from "../../src/router/seams.ts";
import { FakeEffects, Harness, settings, stubSwapper } from "./fake-effects.ts";

function fifo(
  states: Record<string, ProcessState>,
  swapper: Swapper = stubSwapper(),
  over: Parameters<typeof settings>[1] = {},
): Harness {
  const eff = new FakeEffects(states);
  const set: SchedulerSettings = settings(Object.keys(states), over);
  const h = new Harness(createFifo(set, swapper, eff), eff);
  return h;
}

function noViolations(h: Harness): void {
  expect(h.eff.violations).toEqual([]);
}

describe("basics", () => {
  test("fast path: a ready model is granted without a swap", () => {
    const h = fifo({ a: "ready" });
    const id = h.req("a");
    expect(h.eff.starts).toHaveLength(0);
    expect(h.eff.resolutions.get(id)).toMatchObject({ kind: "served", model: "a" });
    expect(h.s.routing("a")).toEqual({ inFlight: 1, queued: 0, drainingSince: null });
    h.done(id);
    expect(h.s.routing("a").inFlight).toBe(0);
    noViolations(h);
  });

  test("unknown model: model_not_found at admission, nothing started", () => {
    const h = fifo({ a: "stopped" });
    const id = h.req("ghost");
    expect(h.eff.starts).toHaveLength(0);
    const r = h.eff.resolutions.get(id);
    expect(r?.kind === "error" && r.error.kind).toBe("model_not_found");
  });

  test("on-demand start then serve", () => {
    const h = fifo({ a: "stopped" });
    const id = h.req("a");
    expect(h.eff.startsFor("a")).toBe(1);
    expect(h.eff.resolutions.has(id)).toBe(false);
    // The load's start (the harness's clock) comes with it: a request joining later counts from there.
    expect(h.eff.lastUpdate(id)).toEqual({ position: 0, model: "a", loading: true, loadingSince: expect.any(Number) });
    h.swapDone("a");
    expect(h.eff.served("a")).toBe(1);
  });
});

describe("collation and joins", () => {
  test("three requests for a loading model share one swap", () => {
    const h = fifo({ a: "stopped" });
    h.reqs("a", "a", "a");
    expect(h.eff.startsFor("a")).toBe(1);
    h.swapDone("a");
    expect(h.eff.served("a")).toBe(3);
  });

  test("a failed swap fails every waiter with its error", () => {
    const h = fifo({ a: "stopped" });
    h.reqs("a", "a");
    h.swapDone("a", { kind: "failed", error: new RouteError("start_failed", "boom: exited 1") });
    expect(h.eff.served("a")).toBe(0);
    expect(h.eff.errors("start_failed")).toHaveLength(2);
    expect(h.s.routing("a")).toEqual({ inFlight: 0, queued: 0, drainingSince: null });
  });

  test("A B C A B C is served A A B B C C with one swap per model", () => {
    const h = fifo(
      { a: "stopped", b: "stopped", c: "stopped" },
      stubSwapper({ a: ["b", "c"], b: ["a", "c"], c: ["a", "b"] }),
    );
    h.reqs("a", "b", "c", "a", "b", "c");
    for (const m of ["a", "b", "c"]) {
      h.swapDone(m);
      h.doneAll(m);
    }
    for (const m of ["a", "b", "c"]) {
      expect(h.eff.startsFor(m)).toBe(1);
      expect(h.eff.served(m)).toBe(2);
    }
    expect(h.eff.serviceOrder()).toEqual(["a", "a", "b", "b", "c", "c"]);
    noViolations(h);
  });

  test("new requests for the busy resident fast-path ahead of a queued swap (batching)", () => {
    const h = fifo({ a: "ready", b: "stopped" }, stubSwapper({ b: ["a"] }));
    const a1 = h.req("a");
    const b1 = h.req("b");
    const a2 = h.req("a");
    expect(h.eff.resolutions.get(a2)?.kind).toBe("served");
    expect(h.eff.lastUpdate(b1)).toEqual({ position: 1, model: "b", loading: false });
    h.done(a1);
    expect(h.eff.startsFor("b")).toBe(0);
    h.done(a2);
    expect(h.eff.startsFor("b")).toBe(1);
  });
});

describe("collisions and parallelism", () => {
  test("B evicting a loading A waits for A's swap and A's request", () => {
    const h = fifo({ a: "stopped", b: "stopped" }, stubSwapper({ b: ["a"] }));
    const a = h.req("a");
    h.req("b");
    expect(h.eff.startsFor("b")).toBe(0);
    h.swapDone("a");
    expect(h.eff.startsFor("b")).toBe(0);
    h.done(a);
    expect(h.eff.startsFor("b")).toBe(1);
    expect(h.eff.starts.at(-1)?.evict).toEqual(["a"]);
    noViolations(h);
  });

  test("disjoint swaps run in parallel", () => {
    const h = fifo({ a: "stopped", b: "stopped" });
    h.reqs("a", "b");
    expect(h.eff.startsFor("a")).toBe(1);
    expect(h.eff.startsFor("b")).toBe(1);
  });

  test("swaps with overlapping evict sets are serialised", () => {
    const h = fifo({ a: "stopped", b: "stopped", x: "ready" }, stubSwapper({ a: ["x"], b: ["x"] }));
    h.reqs("a", "b");
    expect(h.eff.startsFor("a")).toBe(1);
    expect(h.eff.startsFor("b")).toBe(0);
    h.swapDone("a");
    expect(h.eff.startsFor("b")).toBe(1);
  });

  test("one swap done promotes several queued requests at once", () => {
    const h = fifo({ a: "stopped", b: "stopped", c: "stopped" }, stubSwapper({ a: ["b", "c"] }));
    h.reqs("a", "b", "c");
    expect(h.eff.startsFor("b") + h.eff.startsFor("c")).toBe(0);
    h.swapDone("a");
    expect(h.eff.startsFor("b")).toBe(1);
    expect(h.eff.startsFor("c")).toBe(1);
    expect(h.eff.served("a")).toBe(1);
  });
});

describe("busy protection", () => {
  test("no swap while the evictee serves", () => {
    const h = fifo({ a: "ready", b: "stopped" }, stubSwapper({ b: ["a"] }));
    const [a1, a2] = h.reqs("a", "a");
    h.req("b");
    expect(h.eff.startsFor("b")).toBe(0);
    h.done(a1 as number);
    expect(h.eff.startsFor("b")).toBe(0);
    h.done(a2 as number);
    expect(h.eff.startsFor("b")).toBe(1);
    noViolations(h);
  });

  test("a grant to a departed client is not counted in flight", () => {
    const h = fifo({ a: "stopped", b: "stopped" }, stubSwapper({ b: ["a"] }));
    const a = h.req("a");
    h.eff.left.add(a); // gone by grant time; its cancel event has not been handled yet
    h.swapDone("a");
    expect(h.eff.resolutions.get(a)?.kind).toBe("left");
    expect(h.s.routing("a").inFlight).toBe(0);
    h.req("b");
    expect(h.eff.startsFor("b")).toBe(1);
    h.s.onCancel(a); // the late cancel is harmless
    noViolations(h);
  });
});

describe("shutdown and unload", () => {
  test("shutdown fails every waiter and refuses new work", () => {
    const h = fifo({ a: "stopped", b: "stopped", c: "stopped" }, stubSwapper({ c: ["a", "b"] }));
    h.reqs("a", "a", "b", "b", "c");
    h.s.onShutdown(99);
    expect(h.eff.errors("shutting_down")).toHaveLength(5);
    const late = h.req("a");
    const r = h.eff.resolutions.get(late);
    expect(r?.kind === "error" && r.error.kind).toBe("shutting_down");
    expect(h.eff.stops.flatMap((s) => (s.reason === "shutdown" ? s.models : [])).sort()).toEqual(["a", "b", "c"]);
    for (const id of h.eff.wanted.keys()) expect(h.eff.wanted.get(id)).toBe(false);
    expect(h.eff.finished).toEqual([]);
    h.stopsDone();
    expect(h.eff.finished).toEqual([99]);
  });

  test("shutdown drains in-flight requests (bounded) before stopping their model", () => {
    const h = fifo({ a: "ready" }, stubSwapper(), { drain: { a: 2 } });
    const id = h.req("a");
    h.s.onShutdown(7);
    expect(h.eff.stops).toHaveLength(0);
    expect(h.s.routing("a").drainingSince).toBe(h.eff.t);
    h.advance(2000);
    expect(h.eff.severed).toEqual([{ model: "a", ids: [id], error: expect.any(RouteError) }]);
    expect(h.eff.stops).toEqual([{ models: ["a"], reason: "shutdown" }]);
    h.done(id); // the late done() of a severed request is ignored
    h.stopsDone();
    expect(h.eff.finished).toEqual([7]);
    noViolations(h);
  });

  test("unload releases the waiters of the model's swap and stops it", () => {
    const h = fifo({ a: "stopped" });
    h.reqs("a", "a");
    h.s.onUnload({ id: 5, models: ["a"], onlyIfIdle: false });
    expect(h.eff.errors("unloaded")).toHaveLength(2);
    expect(h.eff.stops).toEqual([{ models: ["a"], reason: "unload" }]);
    const swapId = h.eff.starts[0]?.id as number;
    expect(h.eff.wanted.get(swapId)).toBe(false);
    // A request during the unload queues behind it (it must not join the doomed swap).
    const again = h.req("a");
    expect(h.eff.startsFor("a")).toBe(1);
    h.stopsDone();
    expect(h.eff.finished).toEqual([5]);
    h.swapDone("a", { kind: "failed", error: new RouteError("start_failed", "aborted") });
    expect(h.eff.startsFor("a")).toBe(2);
    h.swapDone("a");
    expect(h.eff.resolutions.get(again)?.kind).toBe("served");
    noViolations(h);
  });

  test("unload drops queued requests for the model; other swaps are untouched", () => {
    const h = fifo({ a: "stopped", b: "stopped" }, stubSwapper({ b: ["a"] }));
    const [a, b] = h.reqs("a", "b");
    h.s.onUnload({ id: 1, models: ["b"], onlyIfIdle: false });
    const rb = h.eff.resolutions.get(b as number);
    expect(rb?.kind === "error" && rb.error.kind).toBe("unloaded");
    expect(h.eff.startsFor("b")).toBe(0);
    expect(h.eff.resolutions.has(a as number)).toBe(false);
    expect(h.eff.finished).toEqual([1]); // b was not running: nothing to stop
  });

  test("admin unload drains the model: waits for in-flight, severs at the deadline", () => {
    const h = fifo({ a: "ready" }, stubSwapper(), { drain: { a: 5 } });
    const [r1, r2] = h.reqs("a", "a");
    h.s.onUnload({ id: 3, models: ["a"], onlyIfIdle: false });
    const since = h.eff.t;
    expect(h.s.routing("a").drainingSince).toBe(since);
    const late = h.req("a"); // queues behind the unload
    expect(h.eff.resolutions.has(late)).toBe(false);
    h.done(r1 as number);
    expect(h.eff.stops).toHaveLength(0);
    expect(h.eff.timer).toBe(since + 5000);
    h.advance(4999);
    expect(h.eff.severed).toHaveLength(0);
    h.advance(1);
    expect(h.eff.severed).toHaveLength(1);
    expect(h.eff.severed[0]?.ids).toEqual([r2 as number]);
    expect(h.eff.severed[0]?.error.kind).toBe("severed");
    expect(h.eff.stops).toEqual([{ models: ["a"], reason: "unload" }]);
    h.stopsDone();
    expect(h.eff.finished).toEqual([3]);
    // The queued request reloads the model.
    expect(h.eff.startsFor("a")).toBe(1);
    h.swapDone("a");
    expect(h.eff.resolutions.get(late)?.kind).toBe("served");
    noViolations(h);
  });

  test("a swap that would evict a model being stopped waits for the stop", () => {
    const h = fifo({ a: "ready", b: "stopped" }, createGroupSwapper([
      { id: "g", members: ["a", "b"], swap: true, exclusive: true, persistent: false },
    ]));
    h.s.onUnload({ id: 1, models: ["a"], onlyIfIdle: false });
    expect(h.eff.stops).toEqual([{ models: ["a"], reason: "unload" }]);
    const b = h.req("b");
    expect(h.eff.startsFor("b")).toBe(0);
    h.stopsDone();
    expect(h.eff.starts).toMatchObject([{ id: 1, target: "b", evict: [] }]);
    h.swapDone("b");
    expect(h.eff.resolutions.get(b)?.kind).toBe("served");
  });

  test("TTL unload only stops an idle model", () => {
    const h = fifo({ a: "ready", b: "ready" }, stubSwapper());
    const id = h.req("a");
    h.s.onUnload({ id: 1, models: ["a", "b"], onlyIfIdle: true });
    expect(h.eff.stops).toEqual([{ models: ["b"], reason: "unload" }]);
    h.stopsDone();
    expect(h.eff.finished).toEqual([1]);
    h.done(id);
    h.s.onUnload({ id: 2, models: ["a"], onlyIfIdle: true });
    expect(h.eff.stops.at(-1)).toEqual({ models: ["a"], reason: "unload" });
  });

  test("TTL unload never races a grant: a queued request keeps the model", () => {
    const h = fifo({ a: "ready", b: "stopped" }, stubSwapper({ a: ["b"] }));
    h.req("b"); // b loading; a's requests wait for it
    h.req("a");
    h.s.onUnload({ id: 1, models: ["a"], onlyIfIdle: true });
    expect(h.eff.stops).toHaveLength(0);
    expect(h.eff.finished).toEqual([1]);
  });
});

describe("priority and positions", () => {
  test("queue ordered by priority, then arrival", () => {
    const h = fifo(
      { z: "stopped", A: "stopped", B: "stopped", C: "stopped", D: "stopped" },
      stubSwapper({ z: ["A", "B", "C", "D"] }),
      { priorities: { A: 10, B: 5, C: 5, D: 1 } },
    );
    h.req("z");
    const ids = Object.fromEntries(["B", "D", "C", "A"].map((m) => [m, h.req(m)]));
    const pos = (m: string) => h.eff.lastUpdate(ids[m] as number)?.position;
    expect(["A", "B", "C", "D"].map(pos)).toEqual([1, 2, 3, 4]);
  });

  test("positions are republished on every change, once per change", () => {
    const h = fifo({ a: "ready", b: "stopped", c: "stopped" }, stubSwapper({ b: ["a"], c: ["a"] }));
    const a = h.req("a");
    const b = h.req("b");
    const c = h.req("c");
    expect(h.eff.updates.get(b)).toEqual([{ position: 1, model: "b", loading: false }]);
    expect(h.eff.updates.get(c)).toEqual([{ position: 2, model: "c", loading: false }]);
    h.cancel(b);
    expect(h.eff.updates.get(c)?.map((u) => u.position)).toEqual([2, 1]);
    h.done(a);
    expect(h.eff.lastUpdate(c)).toEqual({ position: 0, model: "c", loading: true, loadingSince: expect.any(Number) });
  });
});

describe("cancellation", () => {
  test("a cancelled queued request never costs a load", () => {
    const h = fifo({ a: "stopped", b: "stopped" }, stubSwapper({ b: ["a"] }));
    h.req("a");
    const b = h.req("b");
    h.cancel(b);
    const r = h.eff.resolutions.get(b);
    expect(r?.kind === "error" && r.error.kind).toBe("cancelled");
    h.swapDone("a");
    h.doneAll("a");
    expect(h.eff.startsFor("b")).toBe(0);
  });

  test("a cancelled swap waiter is not granted", () => {
    const h = fifo({ a: "stopped" });
    const live = h.req("a");
    const gone = h.req("a");
    h.cancel(gone);
    h.swapDone("a");
    expect(h.eff.resolutions.get(live)?.kind).toBe("served");
    expect(h.eff.resolutions.get(gone)?.kind).toBe("error");
    expect(h.s.routing("a").inFlight).toBe(1);
  });

  test("cancelling a granted or unknown request is a no-op", () => {
    const h = fifo({ a: "ready" });
    const id = h.req("a");
    h.s.onCancel(id);
    h.s.onCancel(12345);
    expect(h.eff.resolutions.get(id)?.kind).toBe("served");
    expect(h.s.routing("a").inFlight).toBe(1);
    noViolations(h);
  });

  test("a swap whose every waiter left is abandoned; a later joiner is re-routed", () => {
    const h = fifo({ a: "stopped" });
    const first = h.req("a");
    const swapId = h.eff.starts[0]?.id as number;
    h.cancel(first);
    expect(h.eff.wanted.get(swapId)).toBe(false);
    const second = h.req("a"); // joins: the swap is wanted again
    expect(h.eff.wanted.get(swapId)).toBe(true);
    // The runner had already looked and skipped the start: the joiner gets a fresh swap.
    h.swapDone("a", { kind: "abandoned" });
    expect(h.eff.startsFor("a")).toBe(2);
    h.swapDone("a");
    expect(h.eff.resolutions.get(second)?.kind).toBe("served");
    noViolations(h);
  });
});

describe("concurrency limit", () => {
  const limit429 = (h: Harness, id: number) => {
    const r = h.eff.resolutions.get(id);
    expect(r?.kind).toBe("error");
    if (r?.kind === "error") {
      expect(r.error.kind).toBe("concurrency_limit");
      expect(r.error.retryAfterSec).toBe(1);
    }
  };

  test("over the limit is refused with retry-after; capacity returns after done", () => {
    const h = fifo({ a: "ready" }, stubSwapper(), { limits: { a: 1 } });
    const r1 = h.req("a");
    limit429(h, h.req("a"));
    h.done(r1);
    expect(h.eff.resolutions.get(h.req("a"))?.kind).toBe("served");
  });

  test("the default limit is ten", () => {
    const h = fifo({ a: "ready" });
    for (let i = 0; i < 10; i++) expect(h.eff.resolutions.get(h.req("a"))?.kind).toBe("served");
    limit429(h, h.req("a"));
  });

  test("a custom limit overrides the default", () => {
    const h = fifo({ a: "ready" }, stubSwapper(), { limits: { a: 2 } });
    h.reqs("a", "a");
    limit429(h, h.req("a"));
    expect(h.eff.served("a")).toBe(2);
  });

  test("swap waiters count toward the limit", () => {
    const h = fifo({ a: "stopped" }, stubSwapper(), { limits: { a: 2 } });
    h.reqs("a", "a");
    limit429(h, h.req("a"));
    expect(h.eff.startsFor("a")).toBe(1);
    h.swapDone("a");
    expect(h.eff.served("a")).toBe(2);
  });

  test("queued requests reserve capacity", () => {
    const h = fifo({ a: "stopped", b: "stopped" }, stubSwapper({ a: ["b"] }), { limits: { a: 2 } });
    const b = h.req("b");
    h.reqs("a", "a");
    limit429(h, h.req("a"));
    expect(h.s.routing("a").queued).toBe(2);
    h.swapDone("b");
    h.done(b);
    expect(h.eff.startsFor("a")).toBe(1);
    h.swapDone("a");
    expect(h.eff.served("a")).toBe(2);
  });

  test("a cancelled queued request releases its reservation", () => {
    const h = fifo({ a: "stopped", b: "stopped" }, stubSwapper({ a: ["b"] }), { limits: { a: 1 } });
    h.req("b");
    const gone = h.req("a");
    limit429(h, h.req("a"));
    h.cancel(gone);
    const retry = h.req("a");
    expect(h.eff.resolutions.has(retry)).toBe(false);
    expect(h.s.routing("a").queued).toBe(1);
  });
});

describe("starvation bound and bounded drain", () => {
  const groups = createGroupSwapper([
    { id: "(default)", members: ["a", "b"], swap: true, exclusive: true, persistent: false },
  ]);

  test("maxWait 0: a steady stream on the resident starves the queue (llama-swap behaviour)", () => {
    const h = fifo({ a: "ready", b: "stopped" }, groups, { maxWaitSec: 0 });
    let prev = h.req("a");
    h.req("b");
    for (let i = 0; i < 5; i++) {
      h.advance(10_000);
      const next = h.req("a");
      h.done(prev);
      prev = next;
    }
    expect(h.eff.startsFor("b")).toBe(0);
    expect(h.eff.timer).toBeNull();
  });

  test("after maxWait the resident stops taking new work, drains, and the swap proceeds", () => {
    const h = fifo({ a: "ready", b: "stopped" }, groups, { maxWaitSec: 2, drain: { a: 30 } });
    const a1 = h.req("a");
    const b = h.req("b");
    expect(h.eff.timer).toBe(h.eff.t + 2000);
    h.advance(1000);
    const a2 = h.req("a"); // before maxWait: still fast-pathed
    expect(h.eff.resolutions.get(a2)?.kind).toBe("served");
    h.advance(1000); // maxWait reached: a drains
    expect(h.s.routing("a").drainingSince).toBe(h.eff.t);
    const a3 = h.req("a"); // new work for a queues behind b
    expect(h.eff.resolutions.has(a3)).toBe(false);
    h.done(a1);
    expect(h.eff.startsFor("b")).toBe(0);
    h.done(a2); // drained: b's swap goes, a3 waits for a again
    expect(h.eff.startsFor("b")).toBe(1);
    expect(h.s.routing("a").drainingSince).toBeNull();
    h.swapDone("b");
    expect(h.eff.resolutions.get(b)?.kind).toBe("served");
    expect(h.eff.lastUpdate(a3)?.position).toBe(1);
    expect(h.eff.severed).toHaveLength(0);
    noViolations(h);
  });

  test("a laggard is severed at the drain deadline; its late done() is ignored", () => {
    const h = fifo({ a: "ready", b: "stopped" }, groups, { maxWaitSec: 0.2, drain: { a: 1 } });
    const a1 = h.req("a");
    const b = h.req("b");
    h.advance(200);
    expect(h.s.routing("a").drainingSince).not.toBeNull();
    expect(h.eff.timer).toBe(h.eff.t + 1000);
    h.advance(999);
    expect(h.eff.severed).toHaveLength(0);
    h.advance(1);
    expect(h.eff.severed).toEqual([{ model: "a", ids: [a1], error: expect.any(RouteError) }]);
    expect(h.eff.severed[0]?.error.kind).toBe("severed");
    expect(h.eff.startsFor("b")).toBe(1);
    expect(h.s.routing("a").inFlight).toBe(0);
    h.done(a1);
    h.swapDone("b");
    expect(h.eff.resolutions.get(b)?.kind).toBe("served");
    expect(h.s.routing("b").inFlight).toBe(1);
    noViolations(h);
  });

  test("drainTimeout 0 severs at once when the bound is reached", () => {
    const h = fifo({ a: "ready", b: "stopped" }, groups, { maxWaitSec: 1, drain: { a: 0 } });
    const a1 = h.req("a");
    h.req("b");
    h.advance(1000);
    expect(h.eff.severed[0]?.ids).toEqual([a1]);
    expect(h.eff.startsFor("b")).toBe(1);
  });

  test("an unload of a model the oldest request wants evicted still finishes", () => {
    const h = fifo({ a: "ready", b: "stopped" }, groups, { maxWaitSec: 1, drain: { a: 30 } });
    const a1 = h.req("a");
    const b = h.req("b");
    h.advance(1000); // a drains for b
    h.s.onUnload({ id: 9, models: ["a"], onlyIfIdle: false });
    h.done(a1);
    expect(h.eff.stops).toEqual([{ models: ["a"], reason: "unload" }]);
    expect(h.eff.startsFor("b")).toBe(0); // waits for the stop under way
    h.stopsDone();
    expect(h.eff.finished).toEqual([9]);
    expect(h.eff.startsFor("b")).toBe(1);
    h.swapDone("b");
    expect(h.eff.resolutions.get(b)?.kind).toBe("served");
    expect(h.s.routing("a").drainingSince).toBeNull();
    noViolations(h);
  });

  test("the drain is lifted when the request that forced it leaves", () => {
    const h = fifo({ a: "ready", b: "stopped" }, groups, { maxWaitSec: 1, drain: { a: 30 } });
    h.req("a");
    const b = h.req("b");
    h.advance(1000);
    const a2 = h.req("a");
    expect(h.eff.resolutions.has(a2)).toBe(false);
    h.cancel(b);
    expect(h.s.routing("a").drainingSince).toBeNull();
    expect(h.eff.resolutions.get(a2)?.kind).toBe("served");
  });
});

describe("crash", () => {
  test("a crashed resident no longer needs evicting", () => {
    const h = fifo({ a: "ready", b: "stopped" }, createGroupSwapper([
      { id: "g", members: ["a", "b"], swap: true, exclusive: true, persistent: false },
    ]));
    const a = h.req("a");
    h.req("b");
    expect(h.eff.startsFor("b")).toBe(0);
    h.eff.states.set("a", "stopped");
    h.s.onStateChange("a");
    // a still has a request in flight (its HTTP side will end it), but a is gone: nothing to evict.
    expect(h.eff.startsFor("b")).toBe(1);
    expect(h.eff.starts.at(-1)?.evict).toEqual([]);
    h.done(a);
  });
});
