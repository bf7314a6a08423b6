import { describe, expect, test } from "bun:test";
import { ConfigError, didYouMean, editDistance, formatIssue, formatPath } from "../../src/config/errors.ts";

describe("errors helpers", () => {
  test("formatPath quotes keys that would be ambiguous", () => {
    expect(formatPath(["models", "llama", "tll"])).toBe("models.llama.tll");
    expect(formatPath(["models", "qwen2.5", "aliases", 0])).toBe('models["qwen2.5"].aliases[0]');
    expect(formatPath(["macros", "bad name"])).toBe('macros["bad name"]');
    expect(formatPath(["a", ""])).toBe('a[""]');
    expect(formatPath([])).toBe("");
  });

  test("editDistance counts an adjacent swap as one edit", () => {
    expect(editDistance("ttl", "tll")).toBe(1);
    expect(editDistance("abcd", "abdc")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
  });

  test("didYouMean suggests only close keys", () => {
    const keys = ["ttl", "cmd", "cmdStop", "checkEndpoint", "proxy", "models"];
    expect(didYouMean("tll", keys)).toBe("ttl");
    expect(didYouMean("CMDSTOP", keys)).toBe("cmdStop");
    expect(didYouMean("chekEndpoint", keys)).toBe("checkEndpoint");
    expect(didYouMean("modles", keys)).toBe("models");
    expect(didYouMean("gpu", keys)).toBeNull();
    expect(didYouMean("x", keys)).toBeNull();
  });

  test("issues format as file:line:col: path: message, leaving out what is unknown", () => {
    expect(formatIssue({ path: "a.b", line: 3, column: 7, message: "bad" }, "c.yaml")).toBe("c.yaml:3:7: a.b: bad");
    expect(formatIssue({ path: "", line: 3, column: null, message: "bad" }, "c.yaml")).toBe("c.yaml:3: bad");
    expect(formatIssue({ path: "a", line: null, message: "bad" }, "c.yaml")).toBe("c.yaml: a: bad");
    const e = new ConfigError([
      { path: "x", line: 1, column: 1, message: "one" },
      { path: "y", line: 2, column: 3, message: "two" },
    ]);
    expect(e.format()).toBe("config.yaml:1:1: x: one\nconfig.yaml:2:3: y: two");
    expect(e.name).toBe("ConfigError");
  });
});
