import { describe, expect, test } from "bun:test";
import { deletePath, parseJsonExact, setPath, splitPath } from "../../src/http/json-path.ts";

describe("json paths", () => {
  test("split on dots, honour \\. escapes", () => {
    expect(splitPath("a.b.c")).toEqual(["a", "b", "c"]);
    expect(splitPath("a\\.b.c")).toEqual(["a.b", "c"]);
    expect(splitPath("plain")).toEqual(["plain"]);
  });

  test("setPath creates nested objects, indexes arrays, reports changes", () => {
    const doc: Record<string, unknown> = { a: 1, list: [{ x: 1 }] };
    expect(setPath(doc, "b.c.d", 2)).toBe(true);
    expect(setPath(doc, "list.0.x", 5)).toBe(true);
    expect(setPath(doc, "a", 1)).toBe(false);
    expect(setPath(doc, "obj", { k: [1] })).toBe(true);
    expect(setPath(doc, "obj", { k: [1] })).toBe(false);
    expect(setPath(doc, "list.name", 1)).toBe(false);
    expect(doc).toEqual({ a: 1, list: [{ x: 5 }], b: { c: { d: 2 } }, obj: { k: [1] } });
  });

  test("setPath replaces a scalar in the way of a nested key", () => {
    const doc: Record<string, unknown> = { a: 3 };
    expect(setPath(doc, "a.b", true)).toBe(true);
    expect(doc).toEqual({ a: { b: true } });
  });

  test("deletePath removes nested keys and array items, reports changes", () => {
    const doc: Record<string, unknown> = { a: { b: 1, c: 2 }, l: [1, 2, 3] };
    expect(deletePath(doc, "a.b")).toBe(true);
    expect(deletePath(doc, "a.zz")).toBe(false);
    expect(deletePath(doc, "x.y")).toBe(false);
    expect(deletePath(doc, "l.1")).toBe(true);
    expect(deletePath(doc, "l.9")).toBe(false);
    expect(doc).toEqual({ a: { c: 2 }, l: [1, 3] });
  });

  test("parseJsonExact keeps numbers a JS number would change; edits treat them as leaves", () => {
    const doc = parseJsonExact('{"seed":18446744073709551615,"t":0.5,"x":1.0,"o":{"k":2}}') as Record<string, unknown>;
    expect(JSON.stringify(doc)).toBe('{"seed":18446744073709551615,"t":0.5,"x":1.0,"o":{"k":2}}');
    // a raw number is replaced, never written into
    expect(setPath(doc, "x.y", 1)).toBe(true);
    expect(deletePath(doc, "seed.rawJSON")).toBe(false);
    expect(setPath(doc, "t", 0.5)).toBe(false);
    expect(JSON.stringify(doc)).toBe('{"seed":18446744073709551615,"t":0.5,"x":{"y":1},"o":{"k":2}}');
  });
});
