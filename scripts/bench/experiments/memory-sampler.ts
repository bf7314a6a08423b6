/**
 * Issue 16 experiment (not part of `npm run bench`): a preload that samples the process's memory
 * every 50 ms and writes the maxima, and every figure at the RSS peak, as JSON (in MB) when the
 * process exits (switchyard exits through process.exit after SIGTERM, so the figures are
 * written). It tells native memory from the JavaScript heap.
 * Usage: MEMLOG=<out.json> bun --preload ./scripts/bench/experiments/memory-sampler.ts src/main.ts ...
 */
import { heapStats } from "bun:jsc";
import { writeFileSync } from "node:fs";

const out = process.env.MEMLOG ?? "memory-sampler.json";
const max: Record<string, number> = {};
const atPeak: Record<string, number> = {};
const timer = setInterval(() => {
  const m = process.memoryUsage();
  const h = heapStats();
  const now: Record<string, number> = { ...m, jscHeap: h.heapSize, jscCapacity: h.heapCapacity, jscExtra: h.extraMemorySize };
  const peak = m.rss >= (max.rss ?? 0);
  for (const [k, v] of Object.entries(now)) {
    if (v > (max[k] ?? -1)) max[k] = v;
    if (peak) atPeak[k] = v;
  }
}, 50);
timer.unref();
const mb = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v / 1048576)]));
process.on("exit", () => writeFileSync(out, JSON.stringify({ max: mb(max), atPeak: mb(atPeak) }) + "\n"));
