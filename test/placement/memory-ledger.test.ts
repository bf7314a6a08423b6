/** The ledger of model sizes: which source wins, and what a measurement becomes. */
import { describe, expect, test } from "bun:test";
import { planFit, type FitView } from "../../src/placement/fit.ts";
import { createMemoryLedger, type MemoryLedger } from "../../src/placement/memory-ledger.ts";
import type { Device } from "../../src/placement/types.ts";

const GiB = 1024 ** 3;
const gpu = (id: number, totalGiB: number): Device => ({ id: String(id), kind: "gpu", index: id, uuid: null, name: `GPU ${id}`, vendor: "nvidia", total: totalGiB * GiB, usedAtStart: 0, reserve: 0, source: "declared" });
const viewOf = (ledger: MemoryLedger): FitView => ({ need: (m) => ledger.need(m), persistent: () => false, priority: () => 0, inFlight: () => 0, lastUsed: () => 0, placedOn: (m) => ledger.placedOn(m) });

describe("memory ledger", () => {
  test("a measurement above the declared figure replaces it; one below does not; it replaces a guess either way", () => {
    const ledger = createMemoryLedger();
    ledger.declare("a", { kind: "any", bytes: 10 * GiB });
    expect(ledger.measure({ model: "a", perDevice: { "0": 9 * GiB }, method: "nvidia-per-process", at: 1 })).toBeNull();
    expect(ledger.need("a")).toMatchObject({ any: 10 * GiB, source: "declared" });
    expect(ledger.measure({ model: "a", perDevice: { "0": 11 * GiB }, method: "nvidia-per-process", at: 2 })).toMatchObject({ raised: true });
    expect(ledger.need("a")).toMatchObject({ any: 11 * GiB, source: "measured" });
    ledger.guess("b", 8 * GiB);
    ledger.measure({ model: "b", perDevice: { "1": 6 * GiB }, method: "nvidia-per-process", at: 3 });
    expect(ledger.need("b")).toMatchObject({ any: 6 * GiB, source: "measured" });
  });

  test("a model that may run on any GPU, measured once on GPU 1, still goes to an empty GPU 0 instead of evicting on GPU 1", () => {
    const ledger = createMemoryLedger();
    ledger.declare("a", { kind: "any", bytes: 10 * GiB });
    ledger.declare("c", { kind: "any", bytes: 10 * GiB });
    ledger.measure({ model: "a", perDevice: { "1": 10.5 * GiB }, method: "nvidia-per-process", at: 1 });
    ledger.place("c", ["1"]);
    expect(planFit("a", ["c"], [gpu(0, 16), gpu(1, 16)], viewOf(ledger))).toMatchObject({ kind: "fit", devices: ["0"], evict: [] });
  });

  test("a measurement stays per device where it is a place: declared per device, split over GPUs, or on the CPU", () => {
    const ledger = createMemoryLedger();
    ledger.declare("pinned", { kind: "devices", perDevice: { "1": 4 * GiB } });
    ledger.measure({ model: "pinned", perDevice: { "1": 5 * GiB }, method: "nvidia-per-process", at: 1 });
    expect(ledger.need("pinned")).toEqual({ perDevice: { "1": 5 * GiB }, source: "measured" });
    ledger.measure({ model: "split", perDevice: { "0": 3 * GiB, "1": 3 * GiB }, method: "nvidia-per-process", at: 1 });
    expect(ledger.need("split")).toEqual({ perDevice: { "0": 3 * GiB, "1": 3 * GiB }, source: "measured" });
    ledger.measure({ model: "ram", perDevice: { cpu: 2 * GiB }, method: "pss", at: 1 });
    expect(ledger.need("ram")).toEqual({ perDevice: { cpu: 2 * GiB }, source: "measured" });
  });

  test("an out-of-memory raise is capped; at the cap nothing is raised; it is used by one start and dropped at the start after", () => {
    const ledger = createMemoryLedger();
    const cap = { any: 16 * GiB, perDevice: { "0": 16 * GiB } };
    ledger.declare("b", { kind: "any", bytes: 12 * GiB });
    expect(ledger.raise("b", 1.5, cap)).toMatchObject({ any: 16 * GiB });
    expect(ledger.need("b").any).toBe(16 * GiB);
    // The retry starts with it, and while it loads it occupies the raised figure.
    expect(ledger.startNeed("b").any).toBe(16 * GiB);
    expect(ledger.starting("b")).toBeNull();
    expect(ledger.need("b").any).toBe(16 * GiB);
    // Already at the cap: a second raise has nowhere to go.
    expect(ledger.raise("b", 1.5, cap)).toBeNull();
    // The retry did not turn ready and measured: the next start plans with the figure before the raise.
    expect(ledger.startNeed("b").any).toBe(12 * GiB);
    expect(ledger.starting("b")).toMatchObject({ any: 16 * GiB });
    expect(ledger.need("b")).toMatchObject({ any: 12 * GiB, source: "declared" });
    // Per device, each part is capped at its device's budget.
    ledger.declare("p", { kind: "devices", perDevice: { "0": 10 * GiB, cpu: 4 * GiB } });
    expect(ledger.raise("p", 2, { any: 16 * GiB, perDevice: { "0": 16 * GiB, cpu: 64 * GiB } })?.perDevice).toEqual({ "0": 16 * GiB, cpu: 8 * GiB });
  });

  test("a held figure (a draining process after its command changed) is reported until the model next starts", () => {
    const ledger = createMemoryLedger();
    ledger.measure({ model: "a", perDevice: { "0": 10 * GiB }, method: "nvidia-per-process", at: 1 });
    ledger.hold("a");
    ledger.forget("a");
    expect(ledger.need("a")).toMatchObject({ any: 10 * GiB, source: "measured" });
    expect(ledger.startNeed("a").source).toBe("unknown");
    // Another model on the same 16 GiB GPU is planned around the draining process.
    ledger.declare("b", { kind: "any", bytes: 10 * GiB });
    expect(planFit("b", ["a"], [gpu(0, 16)], viewOf(ledger))).toMatchObject({ kind: "fit", evict: ["a"] });
    ledger.starting("a");
    expect(ledger.need("a").source).toBe("unknown");
  });
});
