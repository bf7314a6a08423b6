import { describe, expect, test } from "bun:test";
import { compileMatrix, MatrixDslError, MAX_EXPANDED_SETS, parseMatrixExpression, resolveEvictCosts, type ExpandedSet } from "../../src/config/matrix-dsl.ts";
import type { MatrixConfig } from "../../src/config/types.ts";

const models = new Set(["a", "b", "c", "d", "gemma-3.1", "qwen_2", "modèle"]);

function matrix(sets: Record<string, string>, vars: Record<string, string> = {}): Pick<MatrixConfig, "vars" | "sets" | "evictCosts"> {
  return { vars, evictCosts: {}, sets: Object.entries(sets).map(([name, dsl]) => ({ name, dsl })) };
}

function combos(sets: Record<string, string>, vars?: Record<string, string>): string[] {
  return compileMatrix(matrix(sets, vars), models).map((e) => `${e.set}:${e.models.join("+")}`);
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
    const out: ExpandedSet[] = compileMatrix(matrix({ top: "+llms & c", solo: "d", llms: "a | b" }), models);
    expect(out.map((e) => `${e.set}:${e.models.join("+")}`)).toEqual(["llms:a", "llms:b", "top:a+c", "top:b+c", "solo:d"]);
    expect(out[2].dsl).toBe("+llms & c");
  });

  test("compiled order: dependencies depth-first, otherwise definition order", () => {
    const out = compileMatrix(matrix({ x: "+y & +z", z: "c", y: "+w", w: "a", v: "d" }), models);
    expect([...new Set(out.map((e) => e.set))]).toEqual(["w", "y", "z", "x", "v"]);
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

  test("expansion is capped with a clear error instead of blowing up", () => {
    // 10 factors of 4 alternatives = 4^10 ≈ 1M combinations.
    const ids = Array.from({ length: 40 }, (_, i) => `m${i}`);
    const big = Array.from({ length: 10 }, (_, k) => `(${ids.slice(k * 4, k * 4 + 4).join(" | ")})`).join(" & ");
    const e = error(() => compileMatrix(matrix({ huge: big }), new Set(ids)));
    expect(e.set).toBe("huge");
    expect(e.detail).toContain(`more than ${MAX_EXPANDED_SETS} combinations`);
  });

  test("the cap also bounds the total across sets", () => {
    const ids = Array.from({ length: 20 }, (_, i) => `m${i}`);
    const sixK = `(${ids.slice(0, 10).join("|")}) & (${ids.slice(10, 20).join("|")}) & (a | b | c | d | gemma-3.1 | qwen_2)`;
    const all = new Set([...ids, ...models]);
    expect(compileMatrix(matrix({ one: sixK }), all)).toHaveLength(600);
    const sets: Record<string, string> = {};
    for (let i = 0; i < 17; i++) sets[`s${i}`] = sixK;
    expect(error(() => compileMatrix(matrix(sets), all)).detail).toContain("in total");
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
