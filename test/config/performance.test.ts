/** `performance:` resolved as llama-swap reads it: on by default, every 5s, at least 5s. */
import { describe, expect, test } from "bun:test";
import { goDurationSeconds } from "../../src/config/normalize-performance.ts";
import { issuesOf, load } from "./helpers.ts";

const ONE = `models:\n  m:\n    cmd: srv --port \${PORT}\n`;

describe("performance", () => {
  test("absent, empty or null: enabled, every 5 s, no warning", () => {
    for (const yaml of [ONE, `performance: {}\n${ONE}`, `performance: ~\n${ONE}`]) {
      const { config, warnings } = load(yaml);
      expect(config.performance).toEqual({ enabled: true, everyMs: 5000 });
      expect(warnings).toEqual([]);
    }
  });

  test("disabled: true turns sampling off and keeps the interval's default", () => {
    expect(load(`performance:\n  disabled: true\n${ONE}`).config.performance).toEqual({ enabled: false, everyMs: 5000 });
    expect(load(`performance:\n  disabled: false\n  every: 15s\n${ONE}`).config.performance).toEqual({ enabled: true, everyMs: 15_000 });
  });

  test("every takes Go durations; 0 means the default", () => {
    const everyMs = (every: string) => load(`performance:\n  every: "${every}"\n${ONE}`).config.performance.everyMs;
    expect(everyMs("5s")).toBe(5000);
    expect(everyMs("5.5s")).toBe(5500);
    expect(everyMs("1m30s")).toBe(90_000);
    expect(everyMs("1h")).toBe(3_600_000);
    expect(everyMs("7500ms")).toBe(7500);
    expect(everyMs("0")).toBe(5000);
    expect(everyMs("0s")).toBe(5000);
  });

  test("a macro can give the interval", () => {
    const { config } = load(`macros:\n  iv: 20s\nperformance:\n  every: \${iv}\n${ONE}`);
    expect(config.performance.everyMs).toBe(20_000);
  });

  test("below 5 s, negative, or not a duration: refused at performance.every with its line", () => {
    for (const [every, message] of [
      ["4s", "must be at least 5s, got 4s"],
      ["4999ms", "must be at least 5s"],
      ["-5s", "must be at least 5s"],
      ["often", "must match"],
      ["5", "must match"],
    ]) {
      const issues = issuesOf(`performance:\n  disabled: false\n  every: "${every}"\n${ONE}`);
      const issue = issues.find((i) => i.path === "performance.every");
      expect(issue?.message).toContain(message);
      expect(issue?.line).toBe(3);
    }
  });

  test("disabled must be a boolean (YAML 1.1 words such as yes count, as elsewhere)", () => {
    expect(issuesOf(`performance:\n  disabled: 3\n${ONE}`).map((i) => i.path)).toEqual(["performance.disabled"]);
    expect(issuesOf(`performance:\n  disabled: "true"\n${ONE}`).map((i) => i.path)).toEqual(["performance.disabled"]);
    expect(load(`performance:\n  disabled: yes\n${ONE}`).config.performance.enabled).toBe(false);
  });

  test("an unknown key is ignored with a warning (llama-swap ignores it silently)", () => {
    const { config, warnings } = load(`performance:\n  enable: false\n  evry: 10s\n  every: 30s\n${ONE}`);
    expect(config.performance).toEqual({ enabled: true, everyMs: 30_000 });
    expect(warnings.map((w) => [w.path, w.line, w.message])).toEqual([
      ["performance.enable", 2, "unknown key, ignored (llama-swap ignores it too); monitoring is on unless disabled: true"],
      ["performance.evry", 3, "unknown key, ignored (llama-swap ignores it too); did you mean every?"],
    ]);
  });

  test("no longer reported as a llama-swap key switchyard ignores", () => {
    const { warnings } = load(`performance:\n  disabled: false\n  every: 15s\n${ONE}`);
    expect(warnings).toEqual([]);
  });
});

describe("goDurationSeconds", () => {
  test("Go's duration syntax", () => {
    expect(goDurationSeconds("1h2m3.5s")).toBe(3723.5);
    expect(goDurationSeconds("+10s")).toBe(10);
    expect(goDurationSeconds("-1m")).toBe(-60);
    expect(goDurationSeconds("1.5ms")).toBeCloseTo(0.0015);
    expect(goDurationSeconds("2\u00b5s")).toBeCloseTo(2e-6);
    expect(goDurationSeconds("0")).toBe(0);
    for (const bad of ["", "s", "5", "1d", ".s", "5 s", "1h-2m"]) expect(goDurationSeconds(bad)).toBeNull();
  });
});
