import { describe, expect, test } from "bun:test";
import { isCompressed, stripHopByHop } from "../../src/http/hop-by-hop.ts";

describe("stripHopByHop", () => {
  test("drops the fixed list and whatever Connection names, keeps the rest, leaves the input alone", () => {
    const h = new Headers({
      connection: "Keep-Alive, X-Custom",
      "keep-alive": "1",
      "x-custom": "1",
      "transfer-encoding": "chunked",
      te: "trailers",
      trailer: "x",
      upgrade: "websocket",
      "proxy-authorization": "x",
      "proxy-authenticate": "x",
      "content-type": "text/plain",
      "content-encoding": "gzip",
    });
    const out = stripHopByHop(h);
    expect([...out.keys()].sort()).toEqual(["content-encoding", "content-type"]);
    expect(h.get("x-custom")).toBe("1");
  });
});

describe("isCompressed", () => {
  test("a content-encoding other than identity, whatever its case and spaces", () => {
    expect(isCompressed(new Headers({ "content-encoding": "gzip" }))).toBe(true);
    expect(isCompressed(new Headers({ "content-encoding": " BR " }))).toBe(true);
    expect(isCompressed(new Headers({ "content-encoding": "Identity" }))).toBe(false);
    expect(isCompressed(new Headers({ "content-encoding": "" }))).toBe(false);
    expect(isCompressed(new Headers())).toBe(false);
  });
});
