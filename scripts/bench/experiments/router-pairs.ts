/**
 * Issue 16 experiment (not part of `npm run bench`): CPU and wall time per acquire/done pair of the
 * real router over a fake ready supervisor, 64 requests in flight, with metrics and the event
 * broadcast attached as in serve mode. Usage: bun router-pairs.ts [pairs=200000].
 */
import { createBroadcast } from "../../../src/observe/broadcast.ts";
import type { ObserveEvent } from "../../../src/observe/events.ts";
import { createMetrics } from "../../../src/observe/metrics.ts";
import { createRouter } from "../../../src/router/router.ts";
import { fakeSupervisor, makeConfig, quietLogs } from "../../../test/http/helpers.ts";
import { simModel } from "../../../test/fixtures/sim-model.ts";

const pairs = Number(process.argv[2] ?? 200_000);
const config = makeConfig([simModel([], { id: "m", concurrencyLimit: 1000 })]);
const events = createBroadcast<ObserveEvent>();
const metrics = createMetrics({ models: () => [], rssBytes: () => 0, system: () => null, now: Date.now, memory: () => null });
const router = createRouter({
  config,
  supervisors: new Map([["m", fakeSupervisor("m", "ready")]]),
  log: quietLogs().log,
  observe: (ev) => {
    metrics.observe(ev);
    events.publish(ev);
  },
});

async function run(n: number): Promise<void> {
  let left = n;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (left-- > 0) {
        const grant = await router.acquire("m", { signal: new AbortController().signal });
        await Promise.resolve();
        grant.done();
      }
    }),
  );
  await router.settled();
}

await run(20_000);
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
await run(pairs);
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ pairs, cpuUsPerPair: +((cpu.user + cpu.system) / pairs).toFixed(2), wallUsPerPair: +(((performance.now() - wall0) * 1000) / pairs).toFixed(2) }));
process.exit(0);
