import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createLineTail } from "../../src/process/line-tail.ts";

/** What the tail should hold: the last `max` lines of the whole text, CR before LF dropped, each clipped. */
function expected(text: string, max: number, maxLineChars: number): string[] {
  const parts = text.split("\n");
  const partial = parts.pop() ?? "";
  const clip = (l: string) => (l.length > maxLineChars ? l.slice(0, maxLineChars) + "…" : l);
  const lines = parts.map((p) => clip(p.endsWith("\r") ? p.slice(0, -1) : p));
  if (partial) lines.push(clip(partial));
  return lines.slice(-max);
}

describe("createLineTail", () => {
  test("one whole line per chunk (the common case), with and without CR", () => {
    const t = createLineTail(3, 500);
    for (const l of ["a\n", "b\r\n", "\n", "c\n", "d\n"]) t.push(l);
    expect(t.lines()).toEqual(["", "c", "d"]);
  });

  test("lines split across chunks, several in one chunk, and a trailing partial line", () => {
    const t = createLineTail(5, 500);
    for (const c of ["ab", "c\nde", "f\ng\nh", "\r\n", "tail"]) t.push(c);
    expect(t.lines()).toEqual(["abc", "def", "g", "h", "tail"]);
  });

  test("long lines are clipped, on either path", () => {
    const t = createLineTail(2, 4);
    t.push("abcdefgh\n");
    t.push("xy");
    t.push("zzzzz\n");
    expect(t.lines()).toEqual(["abcd…", "xyzz…"]);
  });

  test("any chunking of any text keeps what the whole text's last lines are", () => {
    const text = fc.array(fc.constantFrom("a", "b", "\n", "\r", "é", "\r\n"), { maxLength: 200 }).map((a) => a.join(""));
    fc.assert(
      fc.property(text, fc.array(fc.nat(200)), fc.integer({ min: 1, max: 6 }), (t, cuts, max) => {
        const at = [...new Set(cuts.filter((c) => c < t.length))].sort((a, b) => a - b);
        const tail = createLineTail(max, 8);
        let from = 0;
        for (const c of [...at, t.length]) {
          tail.push(t.slice(from, c));
          from = c;
        }
        expect(tail.lines()).toEqual(expected(t, max, 8));
      }),
      { numRuns: 500 },
    );
  });
});
