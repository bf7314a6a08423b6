import { describe, expect, test } from "bun:test";
import { createBroadcast, type Delivery } from "../../src/observe/broadcast.ts";

/** Resolves when `n` deliveries have been recorded. */
function recorder<E>(n: number) {
  const got: Delivery<E>[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const fn = (d: Delivery<E>): void => {
    got.push(d);
    if (got.length === n) resolve();
  };
  return { got, done, fn };
}

describe("broadcast", () => {
  test("publish never calls a subscriber synchronously; events arrive in order", async () => {
    const b = createBroadcast<number>();
    const r = recorder<number>(3);
    b.subscribe(r.fn);
    b.publish(1);
    b.publish(2);
    b.publish(3);
    expect(r.got).toEqual([]);
    await r.done;
    expect(r.got).toEqual([1, 2, 3].map((event) => ({ kind: "event", event })));
  });

  test("a subscriber whose queue is full loses events and gets one gap marker with the count", async () => {
    const b = createBroadcast<number>();
    const r = recorder<number>(3);
    b.subscribe(r.fn, { maxQueued: 2 });
    for (let i = 1; i <= 5; i++) b.publish(i);
    await r.done;
    expect(r.got).toEqual([{ kind: "gap", dropped: 3 }, { kind: "event", event: 1 }, { kind: "event", event: 2 }]);
  });

  test("a busy subscriber (a pending promise) drops beyond its queue; a fast one misses nothing", async () => {
    const b = createBroadcast<number>();
    let release!: () => void;
    const slowSeen: Delivery<number>[] = [];
    let slowDone!: () => void;
    const slowFinished = new Promise<void>((r) => (slowDone = r));
    b.subscribe(
      (d) => {
        slowSeen.push(d);
        if (slowSeen.length === 1) return new Promise<void>((r) => (release = r));
        if (slowSeen.length === 4) slowDone();
      },
      { maxQueued: 2 },
    );
    const fast = recorder<number>(1000);
    b.subscribe(fast.fn);
    b.publish(0);
    await new Promise<void>((r) => setTimeout(r, 0)); // let the first delivery start (and hang)
    for (let i = 1; i < 1000; i++) b.publish(i);
    await fast.done;
    expect(fast.got.every((d, i) => d.kind === "event" && d.event === i)).toBe(true);
    release();
    await slowFinished;
    expect(slowSeen).toEqual([
      { kind: "event", event: 0 },
      { kind: "gap", dropped: 997 },
      { kind: "event", event: 1 },
      { kind: "event", event: 2 },
    ]);
  });

  test("a throwing subscriber is reported and does not disturb the others; unsubscribe stops delivery", async () => {
    const errors: unknown[] = [];
    const b = createBroadcast<string>((e) => errors.push(e));
    b.subscribe(() => {
      throw new Error("boom");
    });
    const r = recorder<string>(1);
    const off = b.subscribe(r.fn);
    b.publish("x");
    await r.done;
    expect(errors).toHaveLength(1);
    off();
    expect(b.size).toBe(1);
    b.publish("y");
    await new Promise<void>((res) => setTimeout(res, 0));
    expect(r.got).toHaveLength(1);
  });
});
