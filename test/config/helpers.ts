/** Shared helpers of the config tests. */
import { ConfigError, type ConfigIssue } from "../../src/config/errors.ts";
import { loadConfig, type LoadOptions, type LoadResult } from "../../src/config/load.ts";

/** Loads YAML text (dedented) with the given options. */
export function load(yaml: string, opts: LoadOptions = {}): LoadResult {
  return loadConfig(dedent(yaml), opts);
}

/** The issues a config is rejected with; fails the test when it loads. */
export function issuesOf(yaml: string, opts: LoadOptions = {}): ConfigIssue[] {
  try {
    load(yaml, opts);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error("expected the config to be rejected, but it loaded");
}

/** Removes the common leading indentation of a template literal (and its first empty line). */
export function dedent(text: string): string {
  const lines = text.replace(/^\n/, "").split("\n");
  const indents = lines.filter((l) => l.trim() !== "").map((l) => l.match(/^ */)![0].length);
  const cut = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut)).join("\n");
}
