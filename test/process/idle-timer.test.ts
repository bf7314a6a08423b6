/** The TTL clock: a TTL beyond a timer's reach (about 24.8 days) does not fire at once. */
import { expect, test } from "bun:test";
import { sleep } from "../../src/process/abortable-sleep.ts";
import { createIdleTimer } from "../../src/process/idle-timer.ts";
import { waitFor } from "../fixtures/wait.ts";

test("a 30-day ttl does not unload the model 1 ms after its last response", async () => {
  let idle = 0;
  const t = createIdleTimer({ ttlSeconds: 30 * 86_400, isReady: () => true, onIdle: () => void idle++ });
  t.restart();
  // The old timer, given more than 2^31-1 ms, fired after 1 ms: a short window shows it (what must not happen has no event to wait on).
  await sleep(50);
  expect(idle).toBe(0);
  t.cancel();
});

test("a short ttl still fires", async () => {
  let idle = 0;
  const t = createIdleTimer({ ttlSeconds: 0.01, isReady: () => true, onIdle: () => void idle++ });
  t.restart();
  await waitFor(() => idle === 1, 2000, "the ttl");
});
