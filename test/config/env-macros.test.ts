import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { commentRanges, substituteEnvMacros } from "../../src/config/env-macros.ts";
import { issuesOf, load } from "./helpers.ts";

describe("${env.NAME}", () => {
  test("is substituted in the raw text, so flow lists work", () => {
    const { config } = load(`apiKeys: [\${env.K1}, "\${env.K2}"]`, { env: { K1: "sk-a", K2: "sk-b" } });
    expect(config.apiKeys).toEqual(["sk-a", "sk-b"]);
  });

  test("inside a YAML comment it is ignored, even when unset", () => {
    const { config } = load(`
      # \${env.NOPE} in a comment
      apiKeys: [k] # and \${env.NOPE_TOO} here
    `);
    expect(config.apiKeys).toEqual(["k"]);
  });

  test("a '#' line inside a block scalar is content, not a YAML comment", () => {
    const issues = issuesOf(`
      models:
        m:
          cmd: |
            # \${env.IN_BLOCK}
            srv --port \${PORT}
    `);
    expect(issues.map((i) => [i.line, i.path, i.message])).toEqual([[4, "models.m.cmd", "environment variable IN_BLOCK is not set"]]);
  });

  test("backslashes and double quotes are escaped for double-quoted YAML strings (llama-swap's rule)", () => {
    const env = { P: 'C:\\dir "x"' };
    const { config } = load(`models:\n  m:\n    cmd: srv --port \${PORT}\n    description: "\${env.P}"\n    name: \${env.P}`, { env });
    expect(config.models.m.description).toBe('C:\\dir "x"');
    // In a plain scalar the escapes stay literal, as in llama-swap.
    expect(config.models.m.name).toBe('C:\\\\dir \\"x\\"');
  });

  test("newline, CR and NUL in a value are refused", () => {
    for (const v of ["a\nb", "a\rb", "a\0b"]) {
      const issues = issuesOf(`apiKeys: ["\${env.V}"]`, { env: { V: v } });
      expect(issues[0].message).toBe("environment variable V contains a newline or NUL, which cannot be substituted");
    }
  });

  test("positions after a substitution on the same line point into the original text", () => {
    const text = 'models: {m: {cmd: "${env.BIN} --port ${PORT}", ttl: soon}}';
    const issues = issuesOf(text, { env: { BIN: "/a/much/longer/path/to/the/server/binary" } });
    expect(issues.map((i) => [i.path, i.line, i.column])).toEqual([["models.m.ttl", 1, text.indexOf("ttl") + 1]]);
  });

  test("every unset variable is reported with its line and column", () => {
    const issues = issuesOf(`a: \${env.ONE}\nb:\n  - x \${env.TWO}`);
    expect(issues.map((i) => [i.line, i.column, i.message])).toEqual([
      [1, 4, "environment variable ONE is not set"],
      [3, 7, "environment variable TWO is not set"],
    ]);
  });

  test("substituteEnvMacros maps offsets back to the original", () => {
    const r = substituteEnvMacros("x: ${env.A} y: ${env.B} z", { A: "12345678", B: "" });
    expect(r.text).toBe("x: 12345678 y:  z");
    expect(r.toOriginalOffset(0)).toBe(0);
    expect(r.toOriginalOffset(5)).toBe(3); // inside the first value: the macro's start
    expect(r.toOriginalOffset(12)).toBe(12); // "y" was at 12 originally too (8 chars replaced 8)
    expect(r.toOriginalOffset(16)).toBe(24); // "z"
  });

  test("commentRanges covers comments only, and its offsets match the source", () => {
    const src = 'a: 1 # one\nb: "# not"\nc: |\n  # body\n# two\n';
    const got = commentRanges(src).map(([s, e]) => src.slice(s, e));
    expect(got).toEqual(["# one", "# two"]);
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", ":", " ", "\n", "#", "-", "'", '"', "|", "[", "]", "{", "}", ",") }), (s) => {
        for (const [start, end] of commentRanges(s)) expect(s.slice(start, end).startsWith("#")).toBe(true);
      }),
      { numRuns: 300, seed: 11 },
    );
  });
});
