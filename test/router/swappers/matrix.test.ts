/**
 * The matrix eviction policy: cheapest set, ties to the earlier set, subset semantics.
 */
import { describe, expect, test } from "bun:test";
import { createMatrixSwapper, solveMatrix } from "../../../src/router/swappers/matrix.ts";
import { createFifo } from "../../../src/router/fifo.ts";
import type { ExpandedSet } from "../../../src/config/matrix-dsl.ts";
import type { Logger } from "../../../src/log/types.ts";
import { FakeEffects, Harness, settings } from "../fake-effects.ts";

const set = (name: string, models: string[]): ExpandedSet => ({ set: name, dsl: models.join(" & "), models });

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
