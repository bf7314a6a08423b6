import { describe, expect, test } from "bun:test";
import { createPeerIndex, peerHeaders, peerRewrite, peerUrl } from "../../src/http/peers.ts";
import { makeConfig, peerConfig } from "./helpers.ts";

const config = makeConfig([], {
  peers: {
    a: peerConfig("a", "http://a.example/base/", ["m1", "both", "m1"], { apiKey: "ka", filters: { stripParams: ["s"], setParams: { t: 1 }, setParamsByID: { m1: { u: 2 }, constructor: { v: 3 } } } }),
    b: peerConfig("b", "http://b.example", ["both"]),
  },
});

describe("peer index", () => {
  const idx = createPeerIndex(config);
  test("resolves <peer>/<model> and unique bare names only", () => {
    expect(idx.resolve("a/m1")?.peer.id).toBe("a");
    expect(idx.resolve("m1")?.model).toBe("m1");
    expect(idx.resolve("both")).toBeNull();
    expect(idx.resolve("b/both")?.peer.id).toBe("b");
    expect(idx.resolve("c/m1")).toBeNull();
  });
  test("lists each peer model once", () => {
    expect(idx.list().map((t) => `${t.peer.id}/${t.model}`)).toEqual(["a/m1", "a/both", "b/both"]);
  });
  test("rewrites, headers and URL", () => {
    const t = idx.resolve("a/m1")!;
    expect(peerRewrite(t, "a/m1")).toEqual({ modelName: "m1", stripParams: ["s"], setParams: { t: 1 } });
    expect(peerRewrite(t, "m1").modelName).toBeUndefined();
    // setParamsByID by the name the client used (llama-swap's lookup), own keys only.
    expect(peerRewrite(t, "m1").setParamsById).toEqual({ u: 2 });
    expect(peerRewrite(t, "a/m1").setParamsById).toBeUndefined();
    expect(peerRewrite(idx.resolve("b/both")!, "toString").setParamsById).toBeUndefined();
    expect(peerHeaders(t.peer)).toEqual({ authorization: "Bearer ka", "x-api-key": "ka" });
    expect(peerHeaders(idx.resolve("b/both")!.peer)).toEqual({});
    expect(peerUrl(t.peer, "/v1/chat/completions", "?x=1")).toBe("http://a.example/base/v1/chat/completions?x=1");
  });
});
