/**
 * The async channel: push never blocks, one consumer, order kept, close drains then ends.
 */
import { expect, test } from "bun:test";
import { createChannel } from "../../src/router/channel.ts";

test("items come out in order, whether pushed before or after next()", async () => {
  const ch = createChannel<number>();
  ch.push(1);
  ch.push(2);
  expect(ch.size).toBe(2);
  expect(await ch.next()).toBe(1);
  const pending = ch.next();
  expect(await pending).toBe(2);
  const waiting = ch.next();
  ch.push(3);
  expect(await waiting).toBe(3);
  expect(ch.pushed).toBe(3);
  expect(ch.size).toBe(0);
});

test("a second concurrent next() is refused", async () => {
  const ch = createChannel<number>();
  const first = ch.next();
  await expect(ch.next()).rejects.toThrow("already pending");
  ch.push(1);
  expect(await first).toBe(1);
});

test("close: queued items still come out, then null; later pushes are dropped", async () => {
  const ch = createChannel<string>();
  ch.push("a");
  ch.close();
  ch.push("b");
  expect(ch.closed).toBe(true);
  expect(await ch.next()).toBe("a");
  expect(await ch.next()).toBeNull();
  const ch2 = createChannel<string>();
  const waiting = ch2.next();
  ch2.close();
  expect(await waiting).toBeNull();
});

test("many items keep their order across the internal compaction", async () => {
  const ch = createChannel<number>();
  const got: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 100; i++) ch.push(round * 100 + i);
    for (let i = 0; i < 100; i++) got.push((await ch.next()) as number);
  }
  expect(got).toEqual(Array.from({ length: 300 }, (_, i) => i));
});

test("idle: true only while the consumer waits in next() and nothing is queued", async () => {
  const ch = createChannel<number>();
  expect(ch.idle).toBe(false); // nobody waits yet
  const first = ch.next();
  expect(ch.idle).toBe(true);
  ch.push(1); // handed straight to the waiter
  expect(ch.idle).toBe(false);
  expect(await first).toBe(1);
  ch.push(2);
  expect(ch.idle).toBe(false); // queued, nobody waits
  expect(await ch.next()).toBe(2);
  const third = ch.next();
  expect(ch.idle).toBe(true);
  ch.close();
  expect(await third).toBeNull();
  expect(ch.idle).toBe(false);
});
