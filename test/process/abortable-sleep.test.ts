/** The abortable sleep: resolves after its time, rejects on abort, and a wait longer than a timer takes (~24.8 days) is not cut to 1 ms. */
import { expect, test } from "bun:test";
import { settlesWithin, sleep } from "../../src/process/abortable-sleep.ts";

test("resolves after its time; an abort rejects at once with the reason", async () => {
  await sleep(1);
  const ac = new AbortController();
  const long = sleep(60_000, ac.signal);
  ac.abort(new Error("stop"));
  await expect(long).rejects.toThrow("stop");
  await expect(sleep(1, ac.signal)).rejects.toThrow("stop");
});

test("a wait beyond the longest timer (performance.every: 600h) does not fire at once", async () => {
  const ac = new AbortController();
  const long = sleep(600 * 3_600_000, ac.signal);
  // A timer given more than 2^31-1 ms fires after 1 ms; this one must still be waiting.
  expect(await settlesWithin(long, 50)).toBe(false);
  ac.abort(new Error("done"));
  await expect(long).rejects.toThrow("done");
});

test("settlesWithin a time beyond the longest timer (unloadTimeout: 2200000 s) does not give up at once", async () => {
  let settle!: () => void;
  const later = new Promise<void>((r) => (settle = r));
  const within = settlesWithin(later, 2_200_000_000);
  // An unsettled promise: the old timer fired after 1 ms and reported false.
  const raced = await Promise.race([within, sleep(50).then(() => "still waiting" as const)]);
  expect(raced).toBe("still waiting");
  settle();
  expect(await within).toBe(true);
});
