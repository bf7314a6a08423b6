/**
 * Per-event work does not grow with the queue: the scheduler's calls into the world (Effects), into
 * the swapper and into the settings are counted for one event of each kind with 1,000 and with
 * 4,000 requests admitted, half of them in flight and half queued behind them (the shape of a burst
 * over two models that cannot run together). Counting, never timing: the counts must be the same
 * for both sizes (the queue's order is searched by halving, so its comparisons may grow by a few
 * steps, never in proportion).
 */
import { describe, expect, test } from "bun:test";
import { createFifo } from "../../src/router/fifo.ts";
import { createSerial } from "../../src/router/serial.ts";
import { createGroupSwapper } from "../../src/router/swappers/group.ts";
import type { ProcessState } from "../../src/process/types.ts";
import type { Effects, RouteRequest, Scheduler, SwapView, Swapper } from "../../src/router/seams.ts";
import type { WaitUpdate } from "../../src/router/types.ts";
import type { ObserveEvent } from "../../src/observe/events.ts";
import { FakeEffects, settings } from "./fake-effects.ts";

/** Calls made by the scheduler, by kind. */
type Counts = Record<string, number>;

class CountingEffects extends FakeEffects {
  counts: Counts = {};
  count(k: string): void {
    this.counts[k] = (this.counts[k] ?? 0) + 1;
  }
  override modelState(m: string): ProcessState | null {
    this.count("modelState");
    return super.modelState(m);
  }
  override runningModels(): string[] {
    this.count("runningModels");
    return super.runningModels();
  }
  override publish(req: RouteRequest, u: WaitUpdate): void {
    this.count("publish");
    super.publish(req, u);
  }
  override observe(ev: ObserveEvent): void {
    this.count(`observe:${ev.type}`);
    // The fake's own checks scan everything observed so far; keep only what the assertions read.
    if (ev.type === "request" && ev.phase !== "admitted") return;
    super.observe(ev);
  }
  override grantServe(req: RouteRequest, model: string): boolean {
    this.count("grantServe");
    return super.grantServe(req, model);
  }
  override setTimer(at: number | null): void {
    this.count("setTimer");
    super.setTimer(at);
  }
}

function countingSwapper(inner: Swapper, fx: CountingEffects): Swapper {
  return {
    evictionFor(target: string, running: readonly string[], view?: SwapView) {
      fx.count("evictionFor");
      return inner.evictionFor(target, running, view);
    },
    onSwapStart: (t, r, v) => inner.onSwapStart(t, r, v),
  };
}

interface World {
  s: Scheduler;
  fx: CountingEffects;
  /** The ids granted on `a` and the ids queued for `b`. */
  serving: number[];
  queued: number[];
  nextId: number;
}

/** `n` requests alternating a and b: a is loaded, b must evict it, so every b request queues. */
function build(kind: "fifo" | "serial", n: number): World {
  const fx = new CountingEffects({ a: "ready", b: "stopped" });
  const set = settings(["a", "b"], {
    concurrencyLimit: () => 1_000_000,
    // The starvation bound set, but far away: its oldest-entry look-up runs on every event.
    maxWaitSec: 3600,
    priority: () => {
      fx.count("priority");
      return 0;
    },
  });
  const swapper = countingSwapper(createGroupSwapper([{ id: "g", members: ["a", "b"], swap: true, exclusive: true, persistent: false }]), fx);
  const s = kind === "fifo" ? createFifo(set, swapper, fx as Effects) : createSerial(set, fx as Effects);
  const w: World = { s, fx, serving: [], queued: [], nextId: 1 };
  for (let i = 0; i < n; i++) {
    const model = kind === "serial" ? (i < n / 2 ? "a" : "b") : i % 2 === 0 ? "a" : "b";
    const id = w.nextId++;
    s.onRequest({ id, model, arrivedAt: fx.t + i });
    if (fx.resolutions.get(id)?.kind === "served") w.serving.push(id);
    else w.queued.push(id);
  }
  return w;
}

/** The calls one event makes. */
function cost(w: World, event: (w: World) => void): Counts {
  w.fx.counts = {};
  event(w);
  expect(w.fx.violations).toEqual([]);
  return w.fx.counts;
}

function serveDone(w: World): void {
  const id = w.serving.shift() as number;
  for (const set of w.fx.inFlight.values()) set.delete(id);
  w.s.onServeDone(id);
}

function arrive(model: string): (w: World) => void {
  return (w) => {
    const id = w.nextId++;
    w.s.onRequest({ id, model, arrivedAt: w.fx.t });
    if (w.fx.resolutions.get(id)?.kind === "served") w.serving.push(id);
    else w.queued.push(id);
  };
}

function cancelLast(w: World): void {
  const id = w.queued.pop() as number;
  w.fx.left.add(id);
  w.s.onCancel(id);
}

function tick(w: World): void {
  w.fx.t += 1000;
  w.s.onTimer();
}

/** Counts for each event, the comparisons (priority look-ups) set apart. */
function profile(kind: "fifo" | "serial", n: number, events: [string, (w: World) => void][]): { calls: Record<string, Counts>; compares: Record<string, number> } {
  const w = build(kind, n);
  expect(w.serving.length).toBeGreaterThan(0);
  expect(w.queued.length).toBeGreaterThanOrEqual(n / 2);
  const calls: Record<string, Counts> = {};
  const compares: Record<string, number> = {};
  for (const [name, ev] of events) {
    const { priority = 0, ...rest } = cost(w, ev);
    calls[name] = rest;
    compares[name] = priority;
  }
  return { calls, compares };
}

describe("per-event work does not grow with the queue", () => {
  test("fifo: a burst over two models that cannot run together", () => {
    const events: [string, (w: World) => void][] = [
      ["serve-done", serveDone],
      ["arrival (served at once)", arrive("a")],
      ["arrival (queued)", arrive("b")],
      ["cancel (last queued)", cancelLast],
      ["timer", tick],
      ["serve-done again", serveDone],
    ];
    const small = profile("fifo", 1000, events);
    const large = profile("fifo", 4000, events);
    expect(large.calls).toEqual(small.calls);
    // Exactly what each event needs: one route (one eviction question) for the queue's one model,
    // and a queued arrival is told its position once.
    expect(small.calls["serve-done"]?.evictionFor).toBe(1);
    expect(small.calls["arrival (queued)"]?.publish).toBe(1);
    expect(small.calls["serve-done"]?.publish).toBeUndefined();
    for (const [name, c] of Object.entries(large.compares)) expect(c).toBeLessThanOrEqual((small.compares[name] ?? 0) + 16);
  });

  test("fifo: when the model frees, the queue moves in one walk with one route per entry", () => {
    for (const n of [1000, 4000]) {
      const w = build("fifo", n);
      const queued = w.queued.length;
      const counts = cost(w, (x) => {
        while (x.serving.length > 0) serveDone(x);
      });
      // The last serve-done starts b's swap and every queued b joins it: each told "loading" once.
      expect(w.fx.startsFor("b")).toBe(1);
      expect(counts.publish).toBe(queued);
      // One eviction question per serve-done (b's head; the last one starts the swap), none per join.
      expect(counts.evictionFor).toBe(n / 2);
    }
  });

  test("serial: one request at a time, the rest queued", () => {
    // (A serve-done there grants the head, which moves every waiter up one place: each is told,
    // which is work in proportion to the queue by definition, so it is not among these events.)
    const events: [string, (w: World) => void][] = [
      ["arrival (queued)", arrive("b")],
      ["cancel (last queued)", cancelLast],
      ["timer", tick],
    ];
    const small = profile("serial", 1000, events);
    const large = profile("serial", 4000, events);
    expect(large.calls).toEqual(small.calls);
    for (const [name, c] of Object.entries(large.compares)) expect(c).toBeLessThanOrEqual((small.compares[name] ?? 0) + 16);
  });
});
