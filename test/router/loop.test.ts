/**
 * The run loop: one event at a time, in order, to the scheduler; survives a throwing handler;
 * settled() waits for everything pushed so far.
 */
import { expect, test } from "bun:test";
import { createChannel } from "../../src/router/channel.ts";
import { createLoop, type LoopEvent } from "../../src/router/loop.ts";
import type { Scheduler } from "../../src/router/seams.ts";

function recorder(): Scheduler & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    onRequest: (r) => {
      if (r.model === "boom") throw new Error("boom");
      calls.push(`request ${r.id}`);
    },
    onCancel: (id) => calls.push(`cancel ${id}`),
    onSwapDone: (id, o) => calls.push(`swap-done ${id} ${o.kind}`),
    onServeDone: (id) => calls.push(`serve-done ${id}`),
    onUnload: (o) => calls.push(`unload ${o.id}`),
    onUnloadDone: (m) => calls.push(`unload-done ${m}`),
    onShutdown: (t) => calls.push(`shutdown ${t}`),
    onTimer: () => calls.push("timer"),
    onStateChange: (m) => calls.push(`state-change ${m}`),
    routing: () => ({ inFlight: 0, queued: 0, drainingSince: null }),
  };
}

test("every event kind reaches the scheduler, in order", async () => {
  const ch = createChannel<LoopEvent>();
  const s = recorder();
  const loop = createLoop(ch, s, () => {});
  const events: LoopEvent[] = [
    { type: "request", req: { id: 1, model: "a", arrivedAt: 0 } },
    { type: "cancel", id: 1 },
    { type: "swap-done", swapId: 2, outcome: { kind: "ready" } },
    { type: "serve-done", id: 3 },
    { type: "unload", order: { id: 4, models: null, onlyIfIdle: false } },
    { type: "unload-done", model: "a" },
    { type: "timer" },
    { type: "state-change", model: "b" },
    { type: "shutdown", ticket: 5 },
  ];
  for (const ev of events) ch.push(ev);
  await loop.settled();
  expect(s.calls).toEqual([
    "request 1",
    "cancel 1",
    "swap-done 2 ready",
    "serve-done 3",
    "unload 4",
    "unload-done a",
    "timer",
    "state-change b",
    "shutdown 5",
  ]);
  ch.close();
  await loop.stopped;
});

test("a throwing handler is reported and the loop carries on", async () => {
  const ch = createChannel<LoopEvent>();
  const s = recorder();
  const errors: string[] = [];
  const loop = createLoop(ch, s, (err, ev) => errors.push(`${ev.type}: ${(err as Error).message}`));
  ch.push({ type: "request", req: { id: 1, model: "boom", arrivedAt: 0 } });
  ch.push({ type: "request", req: { id: 2, model: "a", arrivedAt: 0 } });
  await loop.settled();
  expect(errors).toEqual(["request: boom"]);
  expect(s.calls).toEqual(["request 2"]);
});

test("settled() resolves at once when idle and waits for events pushed later", async () => {
  const ch = createChannel<LoopEvent>();
  const s = recorder();
  const loop = createLoop(ch, s, () => {});
  await loop.settled();
  ch.push({ type: "timer" });
  const settled = loop.settled();
  ch.push({ type: "timer" });
  await settled;
  expect(s.calls).toEqual(["timer", "timer"]);
});

test("handleNow: handled on the caller's stack only while the loop is parked with nothing queued", async () => {
  const ch = createChannel<LoopEvent>();
  const s = recorder();
  const loop = createLoop(ch, s, () => {});
  // Parked and empty: handled before handleNow returns.
  expect(loop.handleNow({ type: "request", req: { id: 1, model: "a", arrivedAt: 0 } })).toBe(true);
  expect(s.calls).toEqual(["request 1"]);
  // Something queued ahead: refused, so a posted event is never overtaken.
  ch.push({ type: "cancel", id: 1 });
  expect(loop.handleNow({ type: "serve-done", id: 2 })).toBe(false);
  ch.push({ type: "serve-done", id: 2 });
  await loop.settled();
  expect(s.calls).toEqual(["request 1", "cancel 1", "serve-done 2"]);
  // Parked again once the queue is drained.
  expect(loop.handleNow({ type: "serve-done", id: 3 })).toBe(true);
  expect(s.calls.at(-1)).toBe("serve-done 3");
  ch.close();
  await loop.stopped;
  expect(loop.handleNow({ type: "serve-done", id: 4 })).toBe(false);
  expect(s.calls.at(-1)).toBe("serve-done 3");
});

test("handleNow: refused while an event is being handled, so the scheduler is never re-entered", async () => {
  const ch = createChannel<LoopEvent>();
  const s = recorder();
  let depth = 0;
  let maxDepth = 0;
  let nested = null as boolean | null;
  let loop: ReturnType<typeof createLoop>;
  const inner = s.onRequest;
  s.onRequest = (r) => {
    depth++;
    maxDepth = Math.max(maxDepth, depth);
    inner(r);
    // An effect that finishes a serve synchronously: it must go through the channel.
    if (r.id === 1) {
      nested = loop.handleNow({ type: "serve-done", id: 1 });
      if (!nested) ch.push({ type: "serve-done", id: 1 });
    }
    depth--;
  };
  loop = createLoop(ch, s, () => {});
  expect(loop.handleNow({ type: "request", req: { id: 1, model: "a", arrivedAt: 0 } })).toBe(true);
  expect(nested).toBe(false);
  await loop.settled();
  expect(s.calls).toEqual(["request 1", "serve-done 1"]);
  expect(maxDepth).toBe(1);
});

test("handleNow: a handler that throws is reported and the loop goes on", () => {
  const errors: string[] = [];
  const ch = createChannel<LoopEvent>();
  const s = recorder();
  const loop = createLoop(ch, s, (err) => errors.push((err as Error).message));
  expect(loop.handleNow({ type: "request", req: { id: 9, model: "boom", arrivedAt: 0 } })).toBe(true);
  expect(errors).toEqual(["boom"]);
  expect(loop.handleNow({ type: "request", req: { id: 10, model: "a", arrivedAt: 0 } })).toBe(true);
  expect(s.calls).toEqual(["request 10"]);
});
