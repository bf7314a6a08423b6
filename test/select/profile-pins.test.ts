/** Profile pins as pure functions, with llama-swap's upstream path table (TestServer_ProfileMiddleware_RewriteUpstreamPath). */
import { describe, expect, test } from "bun:test";
import { pinFor, rewriteUpstreamPath, upstreamPin } from "../../src/select/profile-pins.ts";

describe("upstreamPin", () => {
  // llama-swap's cases: path after /upstream/, the pins, the rewritten path ("" = disabled).
  const table: { name: string; path: string; pins: Record<string, string>; want: string }[] = [
    { name: "pin", path: "public/v1/chat/completions", pins: { public: "real" }, want: "real/v1/chat/completions" },
    { name: "longest pin", path: "author/public/v1/chat/completions", pins: { author: "short", "author/public": "real" }, want: "real/v1/chat/completions" },
    { name: "disabled", path: "disabled/v1/chat/completions", pins: { disabled: "" }, want: "" },
    { name: "not pinned", path: "real/v1/chat/completions", pins: { public: "real" }, want: "real/v1/chat/completions" },
  ];
  for (const c of table) {
    test(c.name, () => {
      const pin = upstreamPin(c.pins, c.path);
      const got = pin === null ? c.path : pin.target === "" ? "" : rewriteUpstreamPath(pin);
      expect(got).toBe(c.want);
    });
  }

  test("the whole path may be the pin; a pin is matched on whole segments, decoded", () => {
    expect(upstreamPin({ public: "real" }, "public")).toEqual({ name: "public", target: "real", rest: "" });
    expect(upstreamPin({ pub: "real" }, "public/x")).toBeNull();
    expect(upstreamPin({ "a b": "real" }, "a%20b/props")).toEqual({ name: "a b", target: "real", rest: "/props" });
    // A target with a slash (a peer model) keeps it; the rest keeps its escapes.
    expect(rewriteUpstreamPath({ name: "x", target: "remote/m 1", rest: "/a%2Fb" })).toBe("remote/m%201/a%2Fb");
  });
});

describe("pinFor", () => {
  test("a pin, a disabled pin, no pin (inherited object keys are not pins)", () => {
    const pins = { public: "real", off: "" };
    expect(pinFor(pins, "public")).toBe("real");
    expect(pinFor(pins, "off")).toBe("");
    expect(pinFor(pins, "real")).toBeUndefined();
    expect(pinFor(pins, "toString")).toBeUndefined();
  });
});
