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
