import { describe, expect, test } from "bun:test";
import { createSseParser, parseSse } from "../../src/sse/parse.ts";

describe("createSseParser", () => {
  test("gives the same events whatever the chunking", () => {
    const text = 'event: a\ndata: 1\ndata: 2\n\n: comment\nid: 7\ndata:no-space\r\n\r\ndata: {"x":1}\r\rdata: partial';
    const whole = parseSse(text);
    expect(whole).toEqual([
      { event: "a", data: "1\n2", id: null },
      { event: "message", data: "no-space", id: "7" },
      { event: "message", data: '{"x":1}', id: "7" },
    ]);
    for (let size = 1; size < 8; size++) {
      const p = createSseParser();
      const got = [];
      for (let i = 0; i < text.length; i += size) got.push(...p.push(text.slice(i, i + size)));
      expect(got).toEqual(whole);
    }
  });
  test("ignores blank lines without data", () => {
    expect(parseSse("\n\n\nevent: x\n\n")).toEqual([]);
  });
});
