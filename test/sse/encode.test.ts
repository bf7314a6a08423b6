import { describe, expect, test } from "bun:test";
import { SSE_DONE, sseBytes, sseComment, sseEvent } from "../../src/sse/encode.ts";
import { parseSse } from "../fixtures/sse-parse.ts";

describe("sseEvent", () => {
  test("serialises objects as one data line", () => {
    expect(sseEvent({ a: "x\ny" })).toBe('data: {"a":"x\\ny"}\n\n');
  });
  test("splits multi-line strings into data lines, so parsers rejoin them", () => {
    const text = sseEvent("line1\nline2\r\nline3", "note");
    expect(text).toBe("event: note\ndata: line1\ndata: line2\ndata: line3\n\n");
    expect(parseSse(text)).toEqual([{ event: "note", data: "line1\nline2\nline3", id: null }]);
  });
  test("comments and [DONE]", () => {
    expect(sseComment("a\nb")).toBe(": a\n: b\n\n");
    expect(parseSse(sseComment("x") + SSE_DONE)).toEqual([{ event: "message", data: "[DONE]", id: null }]);
    expect(new TextDecoder().decode(sseBytes("é"))).toBe("é");
  });
});
