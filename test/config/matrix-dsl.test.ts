import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { compileMatrix, expandMatrix, MatrixDslError, parseMatrixExpression, projectMatrix, resolveEvictCosts, type ExpandedSet } from "../../src/config/matrix-dsl.ts";
import type { MatrixConfig } from "../../src/config/types.ts";
import { matrixExpression, naiveExpansion } from "../fixtures/matrix-naive.ts";

const models = new Set(["a", "b", "c", "d", "gemma-3.1", "qwen_2", "modèle"]);

function matrix(sets: Record<string, string>, vars: Record<string, string> = {}): Pick<MatrixConfig, "vars" | "sets" | "evictCosts"> {
  return { vars, evictCosts: {}, sets: Object.entries(sets).map(([name, dsl]) => ({ name, dsl })) };
}

function combos(sets: Record<string, string>, vars?: Record<string, string>): string[] {
  return expandMatrix(compileMatrix(matrix(sets, vars), models)).map((e) => `${e.set}:${e.models.join("+")}`);
}

function error(fn: () => unknown): MatrixDslError {
  try {
    fn();
  } catch (err) {
    if (err instanceof MatrixDslError) return err;
    throw err;
  }
  throw new Error("no error");
}

describe("matrix DSL", () => {
  test("a single model, AND, OR", () => {
    expect(combos({ s: "a" })).toEqual(["s:a"]);
    expect(combos({ s: "a & b" })).toEqual(["s:a+b"]);
    expect(combos({ s: "a | b" })).toEqual(["s:a", "s:b"]);
  });

  test("& binds tighter than |", () => {
    expect(combos({ s: "a | b & c" })).toEqual(["s:a", "s:b+c"]);
    expect(combos({ s: "a & b | c & d" })).toEqual(["s:a+b", "s:c+d"]);
  });

  test("parentheses", () => {
    expect(combos({ s: "(a | b) & c" })).toEqual(["s:a+c", "s:b+c"]);
    expect(combos({ s: "(a | b) & (c | d)" })).toEqual(["s:a+c", "s:a+d", "s:b+c", "s:b+d"]);
    expect(combos({ s: "((a))" })).toEqual(["s:a"]);
  });

  test("vars resolve to model IDs and shadow a model of the same name", () => {
    expect(combos({ s: "g & q" }, { g: "gemma-3.1", q: "qwen_2" })).toEqual(["s:gemma-3.1+qwen_2"]);
    expect(combos({ s: "a" }, { a: "b" })).toEqual(["s:b"]);
  });

  test("identifiers take letters of any script, digits, _ . -", () => {
    expect(combos({ s: "gemma-3.1&qwen_2|modèle" })).toEqual(["s:gemma-3.1+qwen_2", "s:modèle"]);
  });

  test("repeated models and combinations collapse", () => {
    expect(combos({ s: "a & a" })).toEqual(["s:a"]);
    expect(combos({ s: "a | a | (a & a)" })).toEqual(["s:a"]);
    expect(combos({ s: "(a & b) | (b & a)" })).toEqual(["s:a+b"]);
  });

  test("+references inline another set; referenced sets come first in compiled order", () => {
    const out: ExpandedSet[] = expandMatrix(compileMatrix(matrix({ top: "+llms & c", solo: "d", llms: "a | b" }), models));
    expect(out.map((e) => `${e.set}:${e.models.join("+")}`)).toEqual(["llms:a", "llms:b", "top:a+c", "top:b+c", "solo:d"]);
    expect(out[2].dsl).toBe("+llms & c");
  });

  test("compiled order: dependencies depth-first, otherwise definition order", () => {
    const out = compileMatrix(matrix({ x: "+y & +z", z: "c", y: "+w", w: "a", v: "d" }), models);
    expect(out.map((e) => e.set)).toEqual(["w", "y", "z", "x", "v"]);
    // Every model a set mentions, through its references too.
    expect(out.find((e) => e.set === "x")!.models).toEqual(["a", "c"]);
  });

  describe("errors carry the position", () => {
    const cases: [string, string, string, number | null][] = [
      ["empty", "   ", "empty expression", null],
      ["dangling &", "a &", 'unexpected end of expression', 3],
      ["leading |", "| a", 'unexpected "|"', 0],
      ["bad character", "a & b!", 'unexpected character "!"', 5],
      ["slash in a name", "org/model", 'unexpected character "/"', 3],
      ["missing )", "(a | b", "missing ')' (found end of expression)", 6],
      ["extra )", "a)", 'unexpected ")" after expression', 1],
      ["two names in a row", "a b", 'unexpected "b" after expression', 2],
      ["+ without a name", "a & +", "expected a set name after '+'", 5],
      ["unknown name", "a & zz", 'unknown var or model "zz"', 4],
      ["undefined reference", "a | +nope", 'reference to undefined set "nope"', 4],
    ];
    for (const [name, dsl, message, position] of cases) {
      test(name, () => {
        const e = error(() => compileMatrix(matrix({ s: dsl }), models));
        expect(e.set).toBe("s");
        expect(e.position).toBe(position);
        expect(e.detail).toBe(position === null ? message : `${message} at position ${position}`);
        expect(e.message).toBe(`set "s": ${e.detail}`);
      });
    }

    test("positions count characters, not bytes", () => {
      expect(error(() => parseMatrixExpression("modèle & !", "s")).position).toBe(9);
    });
  });

  test("circular references", () => {
    const e = error(() => compileMatrix(matrix({ a1: "+b1", b1: "c | +a1" }), models));
    expect(e.detail).toBe("circular reference: a1 -> b1 -> a1");
    expect(error(() => compileMatrix(matrix({ self: "a | +self" }), models)).detail).toBe("circular reference: self -> self");
  });

  test("no sets at all", () => {
    expect(error(() => compileMatrix(matrix({}), models)).detail).toBe("the matrix must define at least one set");
  });

  test("no cap: a matrix of a million combinations compiles (llama-swap's TestProgram_NoExpansionLimit), and projects onto a few models at once", () => {
    // 10 factors of 4 alternatives = 4^10 ≈ 1M combinations, never listed.
    const ids = Array.from({ length: 40 }, (_, i) => `m${i}`);
    const big = Array.from({ length: 10 }, (_, k) => `(${ids.slice(k * 4, k * 4 + 4).join(" | ")})`).join(" & ");
    const compiled = compileMatrix(matrix({ huge: big, other: "m0 & m39" }), new Set(ids));
    expect(compiled.map((s) => [s.set, s.models.length])).toEqual([["huge", 40], ["other", 2]]);
    // Onto m0, m1 (alternatives of one factor) and m4 (another factor).
    const onto = projectMatrix(compiled, ["m0", "m1", "m4"]).map((e) => `${e.set}:${e.models.join("+")}`);
    expect(onto).toEqual(["huge:m0+m4", "huge:m0", "huge:m1+m4", "huge:m1", "huge:m4", "huge:", "other:m0"]);
  });

  test("property: a projection is the full expansion projected, repeats removed, in the same order", () => {
    const names = ["a", "b", "c", "d"];
    const expr = matrixExpression(names);
    fc.assert(
      fc.property(fc.array(expr, { minLength: 1, maxLength: 3 }), fc.subarray(names), (dsls, universe) => {
        const sets = Object.fromEntries(dsls.map((d, i) => [`s${i}`, i > 0 && d.length % 2 === 0 ? `+s${i - 1} | ${d}` : d]));
        const compiled = compileMatrix(matrix(sets), models);
        const full = naiveExpansion(compiled);
        expect(expandMatrix(compiled).map((e) => `${e.set}:${e.models.join("+")}`)).toEqual(full.map((e) => `${e.set}:${e.models.join("+")}`));
        const want: string[] = [];
        const seen = new Set<string>();
        for (const e of full) {
          const p = e.models.filter((m) => universe.includes(m));
          const key = `${e.set}:${[...p].sort().join("+")}`;
          if (!seen.has(key)) want.push(key);
          seen.add(key);
        }
        expect(projectMatrix(compiled, universe).map((e) => `${e.set}:${[...e.models].sort().join("+")}`)).toEqual(want);
      }),
      { numRuns: 500 },
    );
  });
});

describe("resolveEvictCosts", () => {
  test("costs written for a var apply to the model it names", () => {
    expect(resolveEvictCosts({ vars: { big: "org/big-model" }, evictCosts: { big: 10, other: 3 } })).toEqual({
      "org/big-model": 10,
      other: 3,
    });
  });
});
