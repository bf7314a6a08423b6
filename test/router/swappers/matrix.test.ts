/**
 * The matrix eviction policy: cheapest set, ties to the earlier set, subset semantics.
 */
import { describe, expect, test } from "bun:test";
import { createMatrixSwapper, solveMatrix } from "../../../src/router/swappers/matrix.ts";
import { createFifo } from "../../../src/router/fifo.ts";
import fc from "fast-check";
import { compileMatrix, type CompiledMatrixSet, type ExpandedSet } from "../../../src/config/matrix-dsl.ts";
import { matrixExpression, naiveExpansion } from "../../fixtures/matrix-naive.ts";
import type { Logger } from "../../../src/log/types.ts";
import { FakeEffects, Harness, settings } from "../fake-effects.ts";

/** A set of exactly these models together. */
const set = (name: string, models: string[]): CompiledMatrixSet => ({ set: name, dsl: models.join(" & "), models, expr: { kind: "and", children: models.map((id) => ({ kind: "model", id })) } });

/** The decision over every combination listed (switchyard before projections): the first cheapest set containing the target. */
function solveOverAll(all: readonly ExpandedSet[], costs: Record<string, number>, target: string, running: string[]): string[] {
  if (running.includes(target)) return [];
  const cost = (m: string): number => costs[m] ?? 1;
  let best: { set: ExpandedSet; cost: number } | null = null;
  for (const s of all) {
    if (!s.models.includes(target)) continue;
    const c = running.filter((m) => !s.models.includes(m)).reduce((t, m) => t + cost(m), 0);
    if (!best || c < best.cost) best = { set: s, cost: c };
  }
  return best ? running.filter((m) => !best.set.models.includes(m)) : [...running];
}

describe("solve", () => {
  const sets = [set("chat", ["l", "e"]), set("code", ["c", "e"]), set("big", ["x"])];

  test("evicts running models outside the chosen set", () => {
    expect(solveMatrix(sets, {}, "c", ["l", "e"]).evict).toEqual(["l"]);
  });

  test("models of one set coexist", () => {
    expect(solveMatrix(sets, {}, "e", ["l"]).evict).toEqual([]);
  });

  test("a running target evicts nothing", () => {
    expect(solveMatrix(sets, {}, "l", ["l", "c"]).evict).toEqual([]);
  });

  test("a model in no set runs alone", () => {
    expect(solveMatrix(sets, {}, "solo", ["l", "e"]).evict).toEqual(["l", "e"]);
  });

  test("ties go to the earlier set", () => {
    const tie = [set("first", ["t", "a"]), set("second", ["t", "b"])];
    const d = solveMatrix(tie, {}, "t", ["a", "b"]);
    expect(d.chosen?.set).toBe("first");
    expect(d.evict).toEqual(["b"]);
  });

  test("evict costs steer to the cheaper set", () => {
    const tie = [set("first", ["t", "a"]), set("second", ["t", "b"])];
    const d = solveMatrix(tie, { b: 5 }, "t", ["a", "b"]);
    expect(d.chosen?.set).toBe("second");
    expect(d.evict).toEqual(["a"]);
    expect(d.cost).toBe(1);
  });
});

describe("solve over projections", () => {
  const ids = ["a", "b", "c", "d", "e"];
  const expr = matrixExpression(ids);

  test("property: the same eviction as over the full expansion, for any matrix, costs, target and running models", () => {
    fc.assert(
      fc.property(
        fc.array(expr, { minLength: 1, maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: ids.length, maxLength: ids.length }),
        fc.constantFrom(...ids, "solo"),
        fc.subarray(ids),
        (dsls, costList, target, running) => {
          const sets = dsls.map((dsl, i) => ({ name: `s${i}`, dsl: i > 0 && dsl.length % 3 === 0 ? `+s${i - 1} & ${dsl}` : dsl }));
          const compiled = compileMatrix({ vars: {}, sets }, new Set(ids));
          const costs = Object.fromEntries(ids.map((m, i) => [m, costList[i]!]));
          expect(solveMatrix(compiled, costs, target, running).evict).toEqual(solveOverAll(naiveExpansion(compiled), costs, target, running));
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("a matrix of 7^5 combinations (one slot per GPU, seven models each) decides at once", () => {
    const slots = Array.from({ length: 5 }, (_, g) => Array.from({ length: 7 }, (_, k) => `g${g}m${k}`));
    const compiled = compileMatrix({ vars: {}, sets: [{ name: "gpus", dsl: slots.map((s) => `(${s.join(" | ")})`).join(" & ") }] }, new Set(slots.flat()));
    expect(solveMatrix(compiled, {}, "g2m3", ["g0m1", "g2m0", "g4m6"]).evict).toEqual(["g2m0"]);
    expect(solveMatrix(compiled, {}, "g2m3", ["g0m1", "g2m0", "g4m6"]).chosen?.models.sort()).toEqual(["g0m1", "g2m3", "g4m6"]);
  });
});

describe("swapper", () => {
  test("onSwapStart logs the decision once; evictionFor never logs", () => {
    const lines: string[] = [];
    const log: Logger = { debug: (m) => lines.push(m), info: (m) => lines.push(m), warn: () => {}, error: () => {} };
    const s = createMatrixSwapper({ sets: [set("chat", ["l", "e"]), set("code", ["c", "e"])], evictCosts: {}, log });
    expect(s.evictionFor("c", ["l", "e"])).toEqual(["l"]);
    expect(lines).toEqual([]);
    s.onSwapStart("c", ["e", "l"]);
    expect(lines).toEqual(['matrix: model=c set=code dsl="c & e" evict=[l] cost=1']);
  });

  test("under fifo: coexisting models load in parallel, incompatible ones queue", () => {
    const sw = createMatrixSwapper({ sets: [set("pair", ["a", "b"]), set("solo", ["c"])], evictCosts: {} });
    const eff = new FakeEffects({ a: "stopped", b: "stopped", c: "stopped" });
    const h = new Harness(createFifo(settings(["a", "b", "c"]), sw, eff), eff);
    const [a, b] = h.reqs("a", "b", "c");
    expect(h.eff.startsFor("a")).toBe(1);
    expect(h.eff.startsFor("b")).toBe(1);
    expect(h.eff.startsFor("c")).toBe(0);
    h.swapDone("a");
    h.swapDone("b");
    h.done(a as number);
    expect(h.eff.startsFor("c")).toBe(0);
    h.done(b as number);
    expect(h.eff.starts.at(-1)).toMatchObject({ target: "c", evict: ["a", "b"] });
    expect(h.eff.violations).toEqual([]);
  });
});
