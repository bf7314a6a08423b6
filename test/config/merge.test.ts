/**
 * Several config files as one (--config plus --config-dir): llama-swap's merge_test.go cases as a
 * table (the ones about files and directories are in test/cli/config-sources.test.ts), then the
 * merge rules case by case, then errors that name the file, key path and line.
 */
import { describe, expect, test } from "bun:test";
import { ConfigError, type ConfigIssue } from "../../src/config/errors.ts";
import { loadConfigSources, type ConfigSource, type LoadOptions } from "../../src/config/load.ts";
import { mergeTrees, writtenAt } from "../../src/config/merge.ts";
import type { Config } from "../../src/config/types.ts";
import type { RawMap } from "../../src/config/raw-tree.ts";

/** llama-swap's modelCfg: one model under `models:`, with a fixed proxy so no ${PORT} is needed. */
const model = (id: string, cmd = `echo ${id}`): string => `  ${id}:\n    cmd: ${cmd}\n    proxy: "http://localhost:9999"\n`;

const sources = (files: Record<string, string>): ConfigSource[] => Object.entries(files).map(([name, text]) => ({ name, text }));

function issuesOf(files: Record<string, string>, opts: Omit<LoadOptions, "fileName"> = {}): ConfigIssue[] {
  try {
    loadConfigSources(sources(files), opts);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error("expected the config to be rejected, but it loaded");
}

interface Case {
  name: string;
  files: Record<string, string>;
  env?: Record<string, string>;
  /** Checks on the merged config (the case loads). */
  ok?: (config: Config) => void;
  /** The first issue's message contains this (the case is rejected). */
  error?: string;
  /** …and it is at this file and line. */
  at?: { file: string; line: number; path: string };
}

// llama-swap's internal/config/merge_test.go, case by case (LoadConfigSources_*).
const LLAMA_SWAP_CASES: Case[] = [
  {
    name: "ConfigOnly",
    files: { "config.yaml": `models:\n${model("model1")}\ngroups:\n  group1:\n    members: ["model1"]\n` },
    ok: (c) => expect(c.models.model1?.id).toBe("model1"),
  },
  {
    name: "DirOnly",
    files: { "d/a.yaml": `models:\n${model("alpha")}`, "d/b.yaml": `models:\n${model("beta")}` },
    ok: (c) => expect(Object.keys(c.models)).toEqual(["alpha", "beta"]),
  },
  {
    name: "ConfigPlusDirAdditive",
    files: { "config.yaml": `models:\n${model("base")}`, "d/extra.yaml": `models:\n${model("ext")}` },
    ok: (c) => expect(Object.keys(c.models)).toEqual(["base", "ext"]),
  },
  {
    name: "DuplicateModelID",
    files: { "a.yaml": `models:\n${model("dup", "echo a")}`, "b.yaml": `models:\n${model("dup", "echo b")}` },
    error: 'duplicate models "dup"',
    at: { file: "b.yaml", line: 2, path: "models.dup" },
  },
  {
    name: "DuplicateGroupID",
    files: {
      "a.yaml": `\nmodels:\n${model("m1")}groups:\n  g1:\n    members: [m1]\n`,
      "b.yaml": `\nmodels:\n${model("m2")}groups:\n  g1:\n    members: [m2]\n`,
    },
    error: 'duplicate groups "g1"',
    at: { file: "b.yaml", line: 7, path: "groups.g1" },
  },
  {
    name: "DuplicatePeer",
    files: {
      "a.yaml": `models:\n${model("m1")}\npeers:\n  remote:\n    proxy: http://x:1\n    models: [m1]\n`,
      "b.yaml": `models:\n${model("m2")}\npeers:\n  remote:\n    proxy: http://x:2\n    models: [m2]\n`,
    },
    error: 'duplicate peers "remote"',
    at: { file: "b.yaml", line: 7, path: "peers.remote" },
  },
  {
    name: "ScalarConflict",
    files: { "a.yaml": `models:\n${model("m1")}\nglobalTTL: 100\n`, "b.yaml": `models:\n${model("m2")}\nglobalTTL: 200\n` },
    error: 'conflict at "globalTTL"',
    at: { file: "b.yaml", line: 6, path: "globalTTL" },
  },
  {
    name: "ScalarSameValueNoConflict",
    files: { "a.yaml": `models:\n${model("m1")}\nglobalTTL: 100\n`, "b.yaml": `models:\n${model("m2")}\nglobalTTL: 100\n` },
    ok: (c) => expect(c.globalTTL).toBe(100),
  },
  {
    name: "MacrosConcatenate",
    files: { "a.yaml": `macros:\n  LOW: 1\nmodels:\n${model("m1", "echo ${LOW}")}`, "b.yaml": `macros:\n  HIGH: 2\nmodels:\n${model("m2", "echo ${HIGH}")}` },
    ok: (c) => {
      expect(c.models.m1?.cmd).toEqual(["echo", "1"]);
      expect(c.models.m2?.cmd).toEqual(["echo", "2"]);
    },
  },
  {
    name: "APIKeysConcatenate",
    files: { "a.yaml": `models:\n${model("m1")}\napiKeys: [key-a]\n`, "b.yaml": `models:\n${model("m2")}\napiKeys: [key-b]\n` },
    ok: (c) => expect(c.apiKeys).toEqual(["key-a", "key-b"]),
  },
  {
    name: "RoutingGroupsMerge",
    files: {
      "a.yaml": `\nmodels:\n${model("m1")}\nrouting:\n  router:\n    settings:\n      groups:\n        groupA:\n          members: [m1]\n`,
      "b.yaml": `\nmodels:\n${model("m2")}\nrouting:\n  router:\n    settings:\n      groups:\n        groupB:\n          members: [m2]\n`,
    },
    ok: (c) => expect(c.routing.groups.map((g) => g.id)).toEqual(expect.arrayContaining(["groupA", "groupB"])),
  },
  {
    name: "EnvMacrosSubstituted",
    files: { "a.yaml": `models:\n  m1:\n    cmd: serve --port \${PORT}\n    proxy: "http://localhost:\${PORT}"\n` },
    ok: (c) => {
      expect(c.models.m1?.cmd.join(" ")).not.toContain("${PORT}");
      expect(c.models.m1?.proxy).not.toContain("${PORT}");
    },
  },
  {
    name: "EnvMacroInFlowStyleList",
    files: {
      "a.yaml": `models:\n  m1:\n    cmd: echo hi\n    proxy: "http://localhost:9999"\n`,
      "keys.yaml": `apiKeys: [\${env.TEST_API_KEY}]\nmodels:\n  m2:\n    cmd: echo hi\n    proxy: "http://localhost:9998"\n`,
    },
    env: { TEST_API_KEY: "secret123" },
    ok: (c) => expect(c.apiKeys).toContain("secret123"),
  },
  {
    name: "SortedOrderDeterministic (the listing sorts; the merge keeps the order it is given)",
    files: { "a.yaml": `models:\n${model("amodel")}`, "z.yaml": `models:\n${model("zmodel")}` },
    ok: (c) => expect(Object.keys(c.models)).toEqual(["amodel", "zmodel"]),
  },
  {
    name: "AssertNoUnknownMacrosAfterMerge (a macro of one file is usable in another)",
    files: { "macros.yaml": `macros:\n  SHARED: hello\nmodels:\n${model("dummy")}`, "use.yaml": `models:\n${model("user", "echo ${SHARED}")}` },
    ok: (c) => expect(c.models.user?.cmd).toEqual(["echo", "hello"]),
  },
  {
    name: "KindMismatchErrors",
    files: { "a.yaml": `startPort: 5800\nmodels:\n${model("m1")}`, "b.yaml": `startPort: [5800, 5801]\nmodels:\n${model("m2")}` },
    error: "incompatible YAML node kinds",
    at: { file: "b.yaml", line: 1, path: "startPort" },
  },
  {
    name: "NullYieldsToValue",
    files: {
      "a.yaml": `models:\n${model("m1")}`,
      "b.yaml": `routing:\n  router:\n    settings:\n      groups:\n        g1:\n          members: [m1]\nmodels:\n${model("m2")}`,
    },
    ok: (c) => expect(c.routing.groups.map((g) => g.id)).toContain("g1"),
  },
];

// The rules one by one, beyond llama-swap's own cases.
const RULE_CASES: Case[] = [
  {
    name: "every identity-keyed map refuses a duplicate: selectors",
    files: { "a.yaml": `selectors:\n  public:\n    use: a\n`, "b.yaml": `selectors:\n  public:\n    use: b\n` },
    error: 'duplicate selectors "public" (already defined in a.yaml:2)',
    at: { file: "b.yaml", line: 2, path: "selectors.public" },
  },
  {
    name: "… profiles",
    files: { "a.yaml": `profiles:\n  day: [a]\n`, "b.yaml": `profiles:\n  day: [b]\n` },
    error: 'duplicate profiles "day"',
  },
  {
    name: "… matrix (its children are its parts: vars in two files is a duplicate)",
    files: { "a.yaml": `matrix:\n  vars: {a: m1}\n`, "b.yaml": `matrix:\n  vars: {b: m2}\n` },
    error: 'duplicate matrix "vars"',
  },
  {
    name: "… routing.router.settings.matrix",
    files: {
      "a.yaml": `routing:\n  router:\n    settings:\n      matrix:\n        sets: {s: a}\n`,
      "b.yaml": `routing:\n  router:\n    settings:\n      matrix:\n        sets: {t: b}\n`,
    },
    error: 'duplicate matrix "sets"',
    at: { file: "b.yaml", line: 5, path: "routing.router.settings.matrix.sets" },
  },
  {
    name: "matrix split across files by part (vars in one, sets in the other) merges",
    files: { "a.yaml": `models:\n${model("m1")}${model("m2")}matrix:\n  vars: {a: m1, b: m2}\n`, "b.yaml": `matrix:\n  sets:\n    duo: a & b\n` },
    ok: (c) => expect(c.routing.matrix?.compiled.map((s) => s.set)).toEqual(["duo"]),
  },
  {
    name: "an identity-keyed map left empty in one file is not a mapping: refused, as llama-swap",
    files: { "a.yaml": "models:\n", "b.yaml": `models:\n${model("m1")}` },
    error: 'conflict at "models": expected a mapping in both files',
  },
  {
    name: "other mappings merge key by key (a model's settings stay whole in one file)",
    files: { "a.yaml": "routing:\n  scheduler:\n    use: fifo\n", "b.yaml": `routing:\n  scheduler:\n    settings:\n      fifo:\n        maxWait: 5\nmodels:\n${model("m1")}` },
    ok: (c) => expect(c.routing.scheduler).toBe("fifo"),
  },
  {
    name: "an empty value (`key:`) yields to the other side, either way",
    files: { "a.yaml": `globalTTL:\nmodels:\n${model("m1")}`, "b.yaml": "globalTTL: 30\nhealthCheckTimeout: 40\n", "c.yaml": "healthCheckTimeout:\n" },
    ok: (c) => {
      expect(c.globalTTL).toBe(30);
      expect(c.healthCheckTimeout).toBe(40);
    },
  },
  {
    name: "an explicit null is a value: it conflicts with another (llama-swap compares the text)",
    files: { "a.yaml": "globalTTL: null\n", "b.yaml": "globalTTL: 30\n" },
    error: 'conflict at "globalTTL": 30 here, but a.yaml:1 sets null',
  },
  {
    name: "the same number written differently conflicts (0x64 and 100)",
    files: { "a.yaml": "globalTTL: 0x64\n", "b.yaml": "globalTTL: 100\n" },
    error: 'conflict at "globalTTL"',
  },
  {
    name: "a quoted string and a number conflict even with the same text",
    files: { "a.yaml": 'startPort: "6000"\n', "b.yaml": "startPort: 6000\n" },
    error: 'conflict at "startPort"',
  },
  {
    name: "quoting style alone is no conflict ('x' and x)",
    files: { "a.yaml": "logLevel: 'debug'\n", "b.yaml": "logLevel: debug\n" },
    ok: (c) => expect(c.logLevel).toBe("debug"),
  },
  {
    name: "a mapping against a scalar: incompatible kinds",
    files: { "a.yaml": "routing: group\n", "b.yaml": "routing:\n  router:\n    use: group\n" },
    error: 'conflict at "routing": incompatible YAML node kinds (a mapping here, "group" in a.yaml:1)',
  },
  {
    name: "empty files (or only comments) count as absent",
    files: { "a.yaml": "# nothing yet\n", "b.yaml": `models:\n${model("m1")}`, "c.yaml": "" },
    ok: (c) => expect(Object.keys(c.models)).toEqual(["m1"]),
  },
  {
    name: "all files empty: the defaults",
    files: { "a.yaml": "", "b.yaml": "# later\n" },
    ok: (c) => expect(Object.keys(c.models)).toEqual([]),
  },
  {
    name: "anchors stay inside their file (each file is expanded before the merge)",
    files: { "a.yaml": `x-base: &base {proxy: "http://localhost:9999"}\nmodels:\n  m1:\n    <<: *base\n    cmd: echo 1\n`, "b.yaml": `models:\n  m2:\n    cmd: echo 2\n    proxy: http://localhost:9998\n` },
    ok: (c) => expect(c.models.m1?.proxy).toBe("http://localhost:9999"),
  },
  {
    name: "a file whose top level is not a mapping",
    files: { "a.yaml": `models:\n${model("m1")}`, "b.yaml": "- just\n- a list\n" },
    error: "the config must be a mapping of keys",
    at: { file: "b.yaml", line: 1, path: "" },
  },
];

function runCase(c: Case): void {
  if (c.error !== undefined) {
    const issues = issuesOf(c.files, c.env ? { env: c.env } : {});
    expect(issues[0]!.message).toContain(c.error);
    if (c.at) expect({ file: issues[0]!.file, line: issues[0]!.line, path: issues[0]!.path }).toEqual(c.at);
  } else {
    const { config } = loadConfigSources(sources(c.files), c.env ? { env: c.env } : {});
    c.ok?.(config);
  }
}

describe("llama-swap's merge cases", () => {
  for (const c of LLAMA_SWAP_CASES) test(c.name, () => runCase(c));
});

describe("merge rules", () => {
  for (const c of RULE_CASES) test(c.name, () => runCase(c));
});

describe("errors of a merged config name the file, the key path and the line", () => {
  test("a group in one file naming a model no file defines: the group's file and line", () => {
    const issues = issuesOf({
      "config.yaml": `models:\n${model("a")}`,
      "conf.d/10-more.yaml": `models:\n${model("b")}groups:\n  pair:\n    members: [a, b, ghost]\n`,
    });
    expect(issues).toEqual([
      { file: "conf.d/10-more.yaml", path: "groups.pair.members[2]", line: 7, column: 21, message: '"ghost" is not a model ID' },
    ]);
  });

  test("the formatted error starts with file:line:column", () => {
    try {
      loadConfigSources(sources({ "a.yaml": `models:\n${model("a")}`, "b.yaml": `models:\n  b:\n    cmd: echo b\n    proxy: http://localhost:1\n    ttl: soon\n` }));
      throw new Error("loaded");
    } catch (err) {
      expect((err as ConfigError).format()).toBe('b.yaml:5:5: models.b.ttl: must be a whole number, got "soon"');
    }
  });

  test("a sequence merged from two files: an item points into the file that wrote it", () => {
    const issues = issuesOf({ "a.yaml": `models:\n${model("m")}apiKeys: [k]\n`, "b.yaml": "\napiKeys: [{a: 1}]\n" });
    expect(issues.map((i) => [i.file, i.line, i.column, i.path])).toEqual([["b.yaml", 2, 11, "apiKeys[1]"]]);
  });

  test("problems in several files: every one, in file order, each with its own file", () => {
    const issues = issuesOf({ "a.yaml": "models: [unclosed\n", "b.yaml": "ok: 1\n", "c.yaml": "globalTTL: ${env.NOPE}\n" });
    expect(issues.map((i) => i.file)).toEqual(["a.yaml", "c.yaml"]);
    expect(issues[1]!.message).toContain("NOPE");
  });

  test("warnings carry their file", () => {
    const { warnings } = loadConfigSources(sources({ "a.yaml": `models:\n${model("m")}`, "b.yaml": "logLevel: loud\n" }));
    expect(warnings.map((w) => [w.file, w.line, w.path])).toEqual([["b.yaml", 1, "logLevel"]]);
  });

  test("one file: the same result as before (no merge)", () => {
    const { config } = loadConfigSources(sources({ "only.yaml": `models:\n${model("m")}` }));
    expect(Object.keys(config.models)).toEqual(["m"]);
  });
});

describe("mergeTrees", () => {
  const map = (entries: Record<string, unknown>): RawMap => new Map(Object.entries(entries).map(([k, v]) => [k, v && typeof v === "object" && !Array.isArray(v) ? map(v as Record<string, unknown>) : (v as RawMap)]));
  const input = (tree: RawMap) => ({ tree, scalarAt: () => null });

  test("keys of the first file keep their place; the later file's new keys follow in its order", () => {
    const m = mergeTrees([input(map({ b: 1, a: { x: 1 } })), input(map({ c: 2, a: { y: 2 } }))]);
    expect(m.conflicts).toEqual([]);
    expect([...m.tree.keys()]).toEqual(["b", "a", "c"]);
    expect([...(m.tree.get("a") as RawMap).keys()]).toEqual(["x", "y"]);
  });

  test("writtenAt follows the merge: keys to their file, concatenated items to theirs", () => {
    const m = mergeTrees([input(map({ a: { x: 1 }, l: [1, 2] })), input(map({ a: { y: 2 }, l: [3] }))]);
    expect(writtenAt(m.origin, ["a", "x"])).toEqual({ source: 0, path: ["a", "x"] });
    expect(writtenAt(m.origin, ["a", "y"])).toEqual({ source: 1, path: ["a", "y"] });
    expect(writtenAt(m.origin, ["l", 2])).toEqual({ source: 1, path: ["l", 0] });
    expect(writtenAt(m.origin, ["a"])).toEqual({ source: 0, path: ["a"] });
  });

  test("inputs are not changed", () => {
    const a = map({ l: [1], m: { x: 1 } });
    mergeTrees([input(a), input(map({ l: [2], m: { y: 1 } }))]);
    expect(a.get("l")).toEqual([1]);
    expect([...(a.get("m") as RawMap).keys()]).toEqual(["x"]);
  });
});
