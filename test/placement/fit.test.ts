/** The fit plan as a pure function: fits beside, evicts idle LRU first, keeps persistent models, refuses what fits nowhere, picks among devices. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { budgetOf, planFit, relieve, usageOf, type FitView } from "../../src/placement/fit.ts";
import type { Device, Need } from "../../src/placement/types.ts";

const GiB = 1024 ** 3;
const gpu = (id: number, totalGiB: number, over: Partial<Device> = {}): Device => ({ id: String(id), kind: "gpu", index: id, uuid: null, name: `GPU ${id}`, vendor: "nvidia", total: totalGiB * GiB, usedAtStart: 0, reserve: 0, source: "declared", ...over });
const cpu = (totalGiB: number): Device => ({ id: "cpu", kind: "cpu", index: null, uuid: null, name: "RAM", vendor: null, total: totalGiB * GiB, usedAtStart: 0, reserve: 0, source: "declared" });

/** A view over fixed figures: `any` GiB per model, last-use times, in-flight counts, placements. */
function view(o: { needs: Record<string, number | Record<string, number>>; last?: Record<string, number>; busy?: Record<string, number>; persistent?: string[]; priority?: Record<string, number>; placed?: Record<string, string[]> }): FitView {
  return {
    need: (m): Need => {
      const n = o.needs[m];
      if (n === undefined) return { perDevice: {}, source: "unknown" };
      return typeof n === "number" ? { perDevice: {}, any: n * GiB, source: "declared" } : { perDevice: Object.fromEntries(Object.entries(n).map(([k, v]) => [k, v * GiB])), source: "declared" };
    },
    persistent: (m) => o.persistent?.includes(m) ?? false,
    priority: (m) => o.priority?.[m] ?? 0,
    inFlight: (m) => o.busy?.[m] ?? 0,
    lastUsed: (m) => o.last?.[m] ?? 0,
    placedOn: (m) => o.placed?.[m],
  };
}

describe("planFit", () => {
  test("fits beside: two 6 GiB models on 16 GiB, nothing evicted", () => {
    const plan = planFit("b", ["a"], [gpu(0, 16)], view({ needs: { a: 6, b: 6 } }));
    expect(plan).toMatchObject({ kind: "fit", devices: ["0"], evict: [] });
  });

  test("does not fit: the least recently used idle resident goes", () => {
    const plan = planFit("c", ["a", "b"], [gpu(0, 16)], view({ needs: { a: 6, b: 6, c: 10 }, last: { a: 200, b: 100 } }));
    expect(plan).toMatchObject({ kind: "fit", evict: ["b"] });
  });

  test("an idle model goes before a busy one even when the busy one was used longer ago", () => {
    const plan = planFit("c", ["a", "b"], [gpu(0, 16)], view({ needs: { a: 6, b: 6, c: 10 }, last: { a: 100, b: 200 }, busy: { a: 1 } }));
    expect(plan).toMatchObject({ kind: "fit", evict: ["b"] });
  });

  test("a lower priority goes first; persistent models never go", () => {
    expect(planFit("c", ["a", "b"], [gpu(0, 16)], view({ needs: { a: 6, b: 6, c: 10 }, last: { a: 100, b: 200 }, priority: { a: 5 } }))).toMatchObject({ evict: ["b"] });
    expect(planFit("c", ["a", "b"], [gpu(0, 16)], view({ needs: { a: 6, b: 6, c: 10 }, last: { a: 100, b: 200 }, persistent: ["a"] }))).toMatchObject({ evict: ["b"] });
    // Both persistent: it cannot be placed.
    expect(planFit("c", ["a", "b"], [gpu(0, 16)], view({ needs: { a: 6, b: 6, c: 10 }, persistent: ["a", "b"] })).kind).toBe("blocked");
  });

  test("evicts as many as needed, oldest first", () => {
    const plan = planFit("big", ["a", "b", "c"], [gpu(0, 16)], view({ needs: { a: 5, b: 5, c: 5, big: 14 }, last: { a: 3, b: 1, c: 2 } }));
    expect(plan).toMatchObject({ kind: "fit", evict: ["b", "c", "a"] });
  });

  test("fits nowhere: more than any device holds even empty, with the numbers", () => {
    const plan = planFit("huge", [], [gpu(0, 16), gpu(1, 24)], view({ needs: { huge: 30 } }));
    expect(plan.kind).toBe("never");
    expect(plan.kind === "never" && plan.message).toBe("model huge needs 30.00 GiB on one device, more than any device holds even when empty (largest budget 24.00 GiB)");
    const missing = planFit("m", [], [gpu(0, 16)], view({ needs: { m: { "3": 1 } } }));
    expect(missing.kind === "never" && missing.message).toContain("needs device 3, which does not exist");
  });

  test("evicts only what the target needs: 2 + 10 GiB resident on 16, a 12 GiB model evicts the 10 alone", () => {
    // The greedy pass takes the least recently used (the small one) first, then the big one; the small one goes back.
    const plan = planFit("new", ["small", "big"], [gpu(0, 16)], view({ needs: { small: 2, big: 10, new: 12 }, last: { small: 100, big: 200 } }));
    expect(plan).toMatchObject({ kind: "fit", evict: ["big"] });
  });

  test("property, several GPUs and idle or busy residents: no evictee of the plan can be put back", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ size: fc.integer({ min: 1, max: 12 }), last: fc.nat(1000), busy: fc.boolean(), on: fc.integer({ min: 0, max: 1 }) }), { maxLength: 7 }),
        fc.integer({ min: 1, max: 16 }),
        (res, need) => {
          const names = res.map((_, i) => `m${i}`);
          const needs: Record<string, number> = { t: need };
          names.forEach((n, i) => (needs[n] = res[i].size));
          const v = view({ needs, last: Object.fromEntries(names.map((n, i) => [n, res[i].last])), busy: Object.fromEntries(names.map((n, i) => [n, res[i].busy ? 1 : 0])), placed: Object.fromEntries(names.map((n, i) => [n, [String(res[i].on)]])) });
          const devices = [gpu(0, 16), gpu(1, 16)];
          const plan = planFit("t", names, devices, v);
          if (plan.kind !== "fit") return;
          const [on] = plan.devices;
          const usedBy = (ms: string[]) => ms.reduce((a, n) => a + (usageOf(n, v, devices)[on] ?? 0), 0);
          const left = names.filter((n) => !plan.evict.includes(n));
          expect(usedBy(left) + need * GiB).toBeLessThanOrEqual(16 * GiB);
          for (const m of plan.evict) expect(usedBy([...left, m]) + need * GiB).toBeGreaterThan(16 * GiB);
        },
      ),
    );
  });

  test("fits nowhere: the plan still says where it would go if started anyway (the largest budget)", () => {
    const plan = planFit("huge", [], [gpu(0, 16), gpu(1, 24)], view({ needs: { huge: 30 } }));
    expect(plan).toMatchObject({ kind: "never", devices: ["1"] });
    expect(planFit("m", [], [gpu(0, 16)], view({ needs: { m: { "3": 1 } } }))).toMatchObject({ kind: "never", devices: ["0"] });
  });

  test("a reserve and memory used by others shrink the budget", () => {
    const d = gpu(0, 16, { reserve: 1 * GiB, usedAtStart: 2 * GiB });
    expect(budgetOf(d)).toBe(13 * GiB);
    expect(planFit("b", ["a"], [d], view({ needs: { a: 6, b: 7.5 } }))).toMatchObject({ evict: ["a"] });
    expect(planFit("b", ["a"], [d], view({ needs: { a: 6, b: 7 } }))).toMatchObject({ evict: [] });
  });

  test("several GPUs: the one with room wins; without room anywhere, the one whose eviction is least recent", () => {
    const devices = [gpu(0, 16), gpu(1, 16)];
    const placed = { a: ["0"], b: ["1"] };
    expect(planFit("c", ["a"], devices, view({ needs: { a: 10, c: 10 }, placed }))).toMatchObject({ devices: ["1"], evict: [] });
    expect(planFit("c", ["a", "b"], devices, view({ needs: { a: 10, b: 10, c: 10 }, placed, last: { a: 50, b: 10 } }))).toMatchObject({ devices: ["1"], evict: ["b"] });
  });

  test("several GPUs: two idle evictions on one beat one busy eviction on another", () => {
    const v = view({ needs: { busy: 10, x: 7, y: 7, t: 10 }, busy: { busy: 1 }, placed: { busy: ["0"], x: ["1"], y: ["1"] } });
    expect(planFit("t", ["busy", "x", "y"], [gpu(0, 16), gpu(1, 16)], v)).toMatchObject({ kind: "fit", devices: ["1"], evict: ["x", "y"] });
  });

  test("a model spanning two GPUs needs room on both; the CPU is a device of its own", () => {
    const devices = [gpu(0, 16), gpu(1, 16), cpu(32)];
    const placed = { a: ["0"], r: ["cpu"] };
    const plan = planFit("wide", ["a", "r"], devices, view({ needs: { a: 10, r: { cpu: 20 }, wide: { "0": 8, "1": 8 } }, placed }));
    expect(plan).toMatchObject({ kind: "fit", devices: ["0", "1"], evict: ["a"] });
    expect(planFit("r2", ["r"], devices, view({ needs: { r: { cpu: 20 }, r2: { cpu: 20 } }, placed }))).toMatchObject({ devices: ["cpu"], evict: ["r"] });
  });

  test("no GPU: an `any` model goes to the CPU", () => {
    expect(planFit("a", [], [cpu(8)], view({ needs: { a: 4 } }))).toMatchObject({ kind: "fit", devices: ["cpu"] });
  });

  test("an unknown figure fits beside anything (it is learned after the load)", () => {
    expect(planFit("new", ["a"], [gpu(0, 16)], view({ needs: { a: 16 } }))).toMatchObject({ kind: "fit", evict: [] });
  });

  test("a running target needs no room", () => {
    expect(planFit("a", ["a", "b"], [gpu(0, 16)], view({ needs: { a: 10, b: 6 } }))).toMatchObject({ kind: "fit", evict: [] });
  });

  test("property: after the evictions the target fits, nothing persistent is evicted, and nothing is evicted needlessly", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ size: fc.integer({ min: 1, max: 12 }), last: fc.nat(1000), busy: fc.boolean(), persistent: fc.boolean() }), { maxLength: 6 }),
        fc.integer({ min: 1, max: 16 }),
        (res, need) => {
          const names = res.map((_, i) => `m${i}`);
          const needs: Record<string, number> = { t: need };
          names.forEach((n, i) => (needs[n] = res[i].size));
          const v = view({ needs, last: Object.fromEntries(names.map((n, i) => [n, res[i].last])), busy: Object.fromEntries(names.map((n, i) => [n, res[i].busy ? 1 : 0])), persistent: names.filter((_, i) => res[i].persistent) });
          const devices = [gpu(0, 16)];
          const plan = planFit("t", names, devices, v);
          if (plan.kind !== "fit") return;
          const left = names.filter((n) => !plan.evict.includes(n));
          const used = left.reduce((a, n) => a + (usageOf(n, v, devices)["0"] ?? 0), 0);
          expect(used + need * GiB).toBeLessThanOrEqual(16 * GiB);
          expect(plan.evict.some((m) => v.persistent(m))).toBe(false);
          // Minimal: putting back any one evictee would not fit any more.
          for (const m of plan.evict) expect(used + (usageOf(m, v, devices)["0"] ?? 0) + need * GiB).toBeGreaterThan(16 * GiB);
        },
      ),
    );
  });
});

describe("relieve", () => {
  test("a measurement over the budget: idle residents go, least recently used first, until it fits; never the measured one, a busy or a persistent one", () => {
    const devices = [gpu(0, 16)];
    // a was planned at 6 but measures 9: 9 + 6 + 6 = 21 > 16.
    const v = view({ needs: { a: 9, b: 6, c: 6 }, last: { b: 10, c: 20 } });
    expect(relieve(["a", "b", "c"], devices, v, "a")).toEqual(["b"]);
    expect(relieve(["a", "b", "c"], devices, view({ needs: { a: 9, b: 6, c: 6 }, last: { b: 10, c: 20 }, busy: { b: 1 } }), "a")).toEqual(["c"]);
    expect(relieve(["a", "b", "c"], devices, view({ needs: { a: 9, b: 6, c: 6 }, persistent: ["b", "c"] }), "a")).toEqual([]);
    expect(relieve(["a", "b"], devices, view({ needs: { a: 10, b: 6 } }), "a")).toEqual([]);
  });
});
