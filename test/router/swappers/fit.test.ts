/** The fit swapper under the fifo scheduler, without processes: LRU from the router's own grants, busy models only through the drain, admission refusal, re-planning on a measurement, placements. */
import { describe, expect, test } from "bun:test";
import { createFifo } from "../../../src/router/fifo.ts";
import { createFitSwapper } from "../../../src/router/swappers/fit.ts";
import { createMemoryLedger } from "../../../src/placement/memory-ledger.ts";
import type { Device } from "../../../src/placement/types.ts";
import { FakeEffects, Harness, settings } from "../fake-effects.ts";
import { memoryLog } from "../fake-supervisor.ts";
import { RouteError } from "../../../src/router/types.ts";

const GiB = 1024 ** 3;
const gpu = (id: number, totalGiB: number): Device => ({ id: String(id), kind: "gpu", index: id, uuid: null, name: `GPU ${id}`, vendor: "nvidia", total: totalGiB * GiB, usedAtStart: 0, reserve: 0, source: "declared" });

function setup(sizes: Record<string, number>, devices: Device[] = [gpu(0, 16)], opts: { maxWaitSec?: number; persistent?: string[] } = {}) {
  const ledger = createMemoryLedger();
  for (const [m, g] of Object.entries(sizes)) ledger.declare(m, { kind: "any", bytes: g * GiB });
  const log = memoryLog();
  const swapper = createFitSwapper({ devices: () => devices, ledger, persistent: (m) => opts.persistent?.includes(m) ?? false, priority: () => 0, log });
  const eff = new FakeEffects(Object.fromEntries(Object.keys(sizes).map((m) => [m, "stopped" as const])));
  const h = new Harness(createFifo(settings(Object.keys(sizes), { maxWaitSec: opts.maxWaitSec ?? 0, drainTimeoutSec: () => 5 }), swapper, eff), eff);
  /** Load `m` with one request, serve it, finish it. */
  const use = (m: string): void => {
    const id = h.req(m);
    if (eff.outstanding.size > 0) h.stopsDone();
    if ([...eff.outstanding.values()].some((o) => o.target === m)) h.swapDone(m);
    h.done(id);
  };
  return { h, eff, ledger, log, use };
}

describe("fit under fifo", () => {
  test("6 + 6 GiB stay resident together on 16 GiB; 10 GiB evicts the least recently used", () => {
    const { h, eff, use } = setup({ a: 6, b: 6, c: 10 });
    use("a");
    eff.t += 10;
    use("b");
    expect(eff.starts.map((s) => [s.target, s.evict])).toEqual([
      ["a", []],
      ["b", []],
    ]);
    eff.t += 10;
    use("a"); // a is now the most recent
    h.req("c");
    expect(eff.starts.at(-1)).toMatchObject({ target: "c", evict: ["b"], placement: { devices: ["0"], gpus: [0] } });
    expect(eff.violations).toEqual([]);
  });

  test("a busy model is not evicted before its drain: the request waits, then maxWait drains it", () => {
    const { h, eff } = setup({ a: 10, c: 10 }, [gpu(0, 16)], { maxWaitSec: 1 });
    const a = h.req("a");
    h.swapDone("a");
    h.req("c");
    expect(eff.starts.map((s) => s.target)).toEqual(["a"]);
    h.advance(1000);
    // The starvation bound: a drains (no new work), its request finishes, then c loads in its place.
    h.done(a);
    expect(eff.starts.at(-1)).toMatchObject({ target: "c", evict: ["a"] });
  });

  test("a model bigger than any device is refused at admission with the numbers (503 does_not_fit)", () => {
    const { h, eff } = setup({ huge: 40 });
    const id = h.req("huge");
    expect(eff.resolutions.get(id)).toMatchObject({ kind: "error", error: { kind: "does_not_fit", message: expect.stringContaining("needs 40.00 GiB") } });
    expect(eff.starts).toEqual([]);
  });

  test("a persistent model is kept; the other one goes", () => {
    const { h, eff, use } = setup({ a: 6, b: 6, c: 6 }, [gpu(0, 12)], { persistent: ["a"] });
    use("a");
    eff.t += 10;
    use("b");
    eff.t += 10;
    h.req("c");
    expect(eff.starts.at(-1)).toMatchObject({ target: "c", evict: ["b"] });
  });

  test("a measurement above the declared figure re-plans the next decision", () => {
    const { h, eff, ledger, use } = setup({ a: 6, b: 6 });
    use("a");
    const change = ledger.measure({ model: "a", perDevice: { "0": 12 * GiB }, method: "nvidia-per-process", at: 0 });
    expect(change).toMatchObject({ raised: true, before: { source: "declared" }, after: { source: "measured" } });
    h.req("b");
    expect(eff.starts.at(-1)).toMatchObject({ target: "b", evict: ["a"] });
  });

  test("a measurement below the declared figure keeps the declared one", () => {
    const { ledger } = setup({ a: 6 });
    expect(ledger.measure({ model: "a", perDevice: { "0": 2 * GiB }, method: "rss", at: 0 })).toBeNull();
    expect(ledger.need("a")).toMatchObject({ source: "declared", any: 6 * GiB });
  });

  test("several GPUs: a model goes where there is room, and its placement names the GPU", () => {
    const { h, eff, use } = setup({ a: 10, b: 10 }, [gpu(0, 16), gpu(1, 16)]);
    use("a");
    h.req("b");
    expect(eff.starts.at(-1)).toMatchObject({ target: "b", evict: [], placement: { devices: ["1"], gpus: [1] } });
  });

  test("each decision is logged with its numbers", () => {
    const { h, log, use, eff } = setup({ a: 6, b: 6, c: 10 });
    use("a");
    eff.t += 10;
    use("b");
    h.req("c");
    expect(log.lines.some((l) => l.includes("fit: c needs 10.00 GiB on GPU 0 (4.00 GiB free) [declared]; evicting a (6.00 GiB, idle"))).toBe(true);
  });

  test("a start that dies of memory raises the figure and retries once, evicting more; a second death fails the request", () => {
    const { h, eff, ledger, use } = setup({ a: 6, b: 8 });
    use("a");
    const id = h.req("b");
    expect(eff.starts.at(-1)).toMatchObject({ target: "b", evict: [] });
    const oom = { kind: "failed" as const, error: new RouteError("start_failed", "model b could not start: CUDA error: out of memory"), outOfMemory: true };
    h.swapDone("b", oom);
    expect(ledger.need("b").any).toBe(12 * GiB);
    expect(eff.resolutions.get(id)).toBeUndefined();
    expect(eff.starts.at(-1)).toMatchObject({ target: "b", evict: ["a"] });
    h.stopsDone();
    h.swapDone("b", oom);
    expect(eff.resolutions.get(id)).toMatchObject({ kind: "error", error: { kind: "start_failed" } });
    expect(eff.violations).toEqual([]);
  });

  test("an ordinary start failure is not retried", () => {
    const { h, eff } = setup({ b: 8 });
    const id = h.req("b");
    h.swapDone("b", { kind: "failed", error: new RouteError("start_failed", "exit 1") });
    expect(eff.resolutions.get(id)).toMatchObject({ kind: "error" });
    expect(eff.starts).toHaveLength(1);
  });

  const oomOf = (m: string) => ({ kind: "failed" as const, error: new RouteError("start_failed", `model ${m} could not start: CUDA error: out of memory`), outOfMemory: true });

  test("an out-of-memory death near the device's size: the raise stops at the budget and the retry is placed; after the retry failed, a later request is admitted and tries again at the figure before the raise", () => {
    const { h, eff, ledger, log } = setup({ b: 12 });
    const id = h.req("b");
    h.swapDone("b", oomOf("b"));
    expect(ledger.need("b").any).toBe(16 * GiB);
    expect(eff.starts).toHaveLength(2);
    expect(eff.starts.at(-1)).toMatchObject({ target: "b", placement: { devices: ["0"], gpus: [0] } });
    h.swapDone("b", oomOf("b"));
    expect(eff.resolutions.get(id)).toMatchObject({ kind: "error", error: { kind: "start_failed" } });
    const again = h.req("b");
    expect(eff.resolutions.get(again)).toBeUndefined();
    expect(eff.starts).toHaveLength(3);
    expect(eff.starts.at(-1)).toMatchObject({ target: "b", placement: { devices: ["0"], gpus: [0] } });
    expect(ledger.need("b")).toMatchObject({ any: 12 * GiB, source: "declared" });
    expect(log.lines.some((l) => l.includes("fit: b's retry at 16.00 GiB did not turn ready and measured; planning with 12.00 GiB [declared] again"))).toBe(true);
    expect(eff.violations).toEqual([]);
  });

  test("a death at what the largest device offers is not retried: its waiters fail once, and the next request starts it again", () => {
    const { h, eff, log } = setup({ b: 16 });
    const id = h.req("b");
    h.swapDone("b", oomOf("b"));
    expect(eff.resolutions.get(id)).toMatchObject({ kind: "error", error: { kind: "start_failed", message: expect.stringContaining("out of memory") } });
    expect(eff.starts).toHaveLength(1);
    expect(log.lines.some((l) => l.includes("fit: b died of memory at 16.00 GiB [declared], already as much as the largest device offers; not retrying"))).toBe(true);
    const again = h.req("b");
    expect(eff.resolutions.get(again)).toBeUndefined();
    expect(eff.starts).toHaveLength(2);
    expect(eff.starts.at(-1)).toMatchObject({ target: "b", placement: { devices: ["0"], gpus: [0] } });
  });

  test("a model whose figure grew past every device after it was admitted is still started with a placement", () => {
    const { h, eff, ledger } = setup({ a: 10, b: 8 });
    const a = h.req("a");
    h.swapDone("a");
    h.req("b"); // a must go, and is busy: b waits
    expect(eff.starts).toHaveLength(1);
    ledger.measure({ model: "b", perDevice: { "0": 20 * GiB }, method: "nvidia-per-process", at: 0 });
    h.done(a);
    expect(eff.starts.at(-1)).toMatchObject({ target: "b", placement: { devices: ["0"], gpus: [0] } });
  });

  test("a model still loading is not the victim: the other GPU's idle model goes, and the request does not wait out the load", () => {
    const { h, eff, use } = setup({ a: 10, b: 10, c: 10 }, [gpu(0, 16), gpu(1, 16)]);
    eff.t += 10;
    use("b");
    h.req("a"); // loads on GPU 1, never used yet
    expect(eff.starts.at(-1)).toMatchObject({ target: "a", placement: { devices: ["1"] } });
    h.req("c");
    expect(eff.starts.at(-1)).toMatchObject({ target: "c", evict: ["b"], placement: { devices: ["0"] } });
    expect(eff.violations).toEqual([]);
  });
});
