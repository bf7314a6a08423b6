import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { utf8Length, utf8Tail } from "../../src/log/utf8.ts";

const enc = new TextEncoder();

/** Any code points, lone surrogates included (fc.string's "binary" unit costs ~1.5 s to set up). */
const anyString = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 0x7ff }), fc.integer({ min: 0, max: 0x10ffff })), { maxLength: 64 })
  .map((cps) => cps.map((c) => (c >= 0xd800 && c <= 0xdfff ? String.fromCharCode(c) : String.fromCodePoint(c))).join(""));

describe("utf8Length", () => {
  test("counts ASCII, 2-, 3- and 4-byte characters", () => {
    expect(utf8Length("")).toBe(0);
    expect(utf8Length("abc")).toBe(3);
    expect(utf8Length("é")).toBe(2);
    expect(utf8Length("€")).toBe(3);
    expect(utf8Length("🚀")).toBe(4);
    expect(utf8Length("\ud800")).toBe(3); // lone surrogate → U+FFFD
  });

  test("matches TextEncoder on any string", () => {
    fc.assert(fc.property(anyString, (s) => utf8Length(s) === enc.encode(s).length));
  });
});

describe("utf8Tail", () => {
  test("never splits a character", () => {
    expect(utf8Tail("a🚀", 4)).toBe("🚀");
    expect(utf8Tail("a🚀", 3)).toBe("");
    expect(utf8Tail("café", 2)).toBe("é");
    expect(utf8Tail("café", 1)).toBe("");
  });

  test("is the longest suffix that fits", () => {
    fc.assert(
      fc.property(anyString, fc.nat(64), (s, max) => {
        const tail = utf8Tail(s, max);
        if (!s.endsWith(tail)) return false;
        if (utf8Length(tail) > max) return false;
        if (tail.length === s.length) return true;
        // one more code point would not fit
        const cp = s.codePointAt(s.length - tail.length - 1)!;
        const prev = cp >= 0xdc00 && cp <= 0xdfff ? s.slice(-tail.length - 2) : s.slice(-tail.length - 1);
        return utf8Length(prev) > max;
      }),
    );
  });
});
