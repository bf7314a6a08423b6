/**
 * The file side of --config and --config-dir: which files, in which order (llama-swap's
 * merge_test.go cases about files and directories), the flags, and --watch-config on a directory.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, UsageError } from "../../src/cli/args.ts";
import { ConfigReadError, configFiles, describeConfigPaths, listConfigDir, readConfigSources } from "../../src/cli/config-sources.ts";
import { runCheck, type CheckIO } from "../../src/cli/check.ts";
import { watchConfig } from "../../src/cli/reload.ts";
import { loadConfigSources } from "../../src/config/load.ts";
import { waitFor } from "../fixtures/wait.ts";

const root = mkdtempSync(join(tmpdir(), "switchyard-config-dir-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};
const write = (dir: string, name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const model = (id: string): string => `models:\n  ${id}:\n    cmd: echo ${id}\n    proxy: "http://localhost:9999"\n`;
const modelsOf = (paths: Parameters<typeof readConfigSources>[0]): string[] => Object.keys(loadConfigSources(readConfigSources(paths)).config.models);

describe("the flags", () => {
  test("--config-dir and -config-dir; alone, no config.yaml is read", () => {
    expect(parseArgs(["--config-dir", "conf.d"])).toMatchObject({ kind: "serve", config: null, configDir: "conf.d" });
    expect(parseArgs(["-config-dir=conf.d", "-config", "main.yaml"])).toMatchObject({ config: "main.yaml", configDir: "conf.d" });
    expect(parseArgs(["--check", "-config-dir", "conf.d"])).toEqual({ kind: "check", config: null, configDir: "conf.d" });
    expect(parseArgs([])).toMatchObject({ config: "config.yaml" });
  });
  test("NeitherProvided: empty values count as not given", () => {
    expect(() => parseArgs(["--config", ""])).toThrow("at least one of --config or --config-dir must be given");
    expect(() => parseArgs(["--config-dir", "", "--config="])).toThrow(UsageError);
    expect(parseArgs(["--config", "", "--config-dir", "d"])).toMatchObject({ config: null, configDir: "d" });
    expect(() => parseArgs(["--config-dir"])).toThrow("--config-dir needs a value");
  });
  test("how messages name the config", () => {
    expect(describeConfigPaths({ config: "c.yaml" })).toBe("c.yaml");
    expect(describeConfigPaths({ config: null, configDir: "conf.d/" })).toBe("conf.d/");
    expect(describeConfigPaths({ config: "c.yaml", configDir: "conf.d" })).toBe("c.yaml + conf.d/");
  });
});

describe("which files, in which order", () => {
  test("DirOnly and SortedOrderDeterministic: *.yml and *.yaml in name order, written in any order", () => {
    const d = fresh();
    write(d, "z.yaml", model("zmodel"));
    write(d, "a.yml", model("amodel"));
    write(d, "M.yaml", model("mmodel"));
    expect(listConfigDir(d)).toEqual([join(d, "M.yaml"), join(d, "a.yml"), join(d, "z.yaml")]);
    expect(modelsOf({ config: null, configDir: d }).sort()).toEqual(["amodel", "mmodel", "zmodel"]);
  });

  test("not recursive; other names ignored; hidden files count (as Go's ReadDir); symlinks are followed", () => {
    const d = fresh();
    mkdirSync(join(d, "sub.yaml"));
    write(join(d, "sub.yaml"), "deep.yaml", model("deep"));
    write(d, "notes.txt", "x");
    write(d, "a.yaml.swp", "x");
    write(d, "b.YAML", "x");
    write(d, ".hidden.yaml", model("hidden"));
    const elsewhere = write(fresh(), "target.yaml", model("linked"));
    symlinkSync(elsewhere, join(d, "link.yaml"));
    expect(listConfigDir(d).map((p) => p.slice(d.length + 1))).toEqual([".hidden.yaml", "link.yaml"]);
    expect(modelsOf({ config: null, configDir: d })).toEqual(["hidden", "linked"]);
  });

  test("ConfigPlusDirAdditive: the --config file first, then the directory", () => {
    const main = write(fresh(), "config.yaml", model("base"));
    const d = fresh();
    write(d, "extra.yaml", model("ext"));
    expect(configFiles({ config: main, configDir: d })).toEqual([main, join(d, "extra.yaml")]);
    expect(modelsOf({ config: main, configDir: d })).toEqual(["base", "ext"]);
  });

  test("ConfigInDirOverlap: the --config file may not be one of the directory's", () => {
    const d = fresh();
    const main = write(d, "main.yaml", model("base"));
    expect(() => configFiles({ config: main, configDir: d })).toThrow("is also present in --config-dir");
    expect(() => configFiles({ config: join(d, ".", "main.yaml"), configDir: `${d}/` })).toThrow(ConfigReadError);
  });

  test("EmptyDirWithConfig loads; EmptyDirOnly is an error", () => {
    const main = write(fresh(), "main.yaml", model("m1"));
    const d = fresh();
    expect(modelsOf({ config: main, configDir: d })).toEqual(["m1"]);
    expect(() => configFiles({ config: null, configDir: d })).toThrow("no configuration sources found");
  });

  test("a missing directory or --config file: one line naming it", () => {
    expect(() => configFiles({ config: null, configDir: join(root, "nope") })).toThrow(`--config-dir "${join(root, "nope")}"`);
    expect(() => readConfigSources({ config: join(root, "nope.yaml"), configDir: fresh() })).toThrow(`cannot read config "${join(root, "nope.yaml")}"`);
  });
});

describe("--check with --config-dir", () => {
  const capture = (): CheckIO & { stdout: string; stderr: string } => {
    const io = { stdout: "", stderr: "", env: {}, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
    return io;
  };
  test("a good merge: OK with every file's models; a bad one names the file and line", async () => {
    const d = fresh();
    write(d, "a.yaml", model("a"));
    write(d, "b.yaml", model("b"));
    let io = capture();
    expect(await runCheck({ config: null, configDir: d }, ["sw"], io)).toBe(0);
    expect(io.stdout).toStartWith(`${d}/: OK: 2 model(s)`);
    write(d, "c.yaml", model("a"));
    io = capture();
    expect(await runCheck({ config: null, configDir: d }, ["sw"], io)).toBe(2);
    expect(io.stderr).toContain(`${join(d, "c.yaml")}:2:3: models.a: duplicate models "a" (already defined in ${join(d, "a.yaml")}:2)`);
  });
});

describe("--watch-config on a directory", () => {
  test("adding, changing (by an atomic-rename save) and removing a file each reload", async () => {
    const d = fresh();
    write(d, "a.yaml", model("a"));
    let calls = 0;
    const stop = watchConfig({ config: null, configDir: d }, () => void calls++, 20);
    try {
      write(d, "b.yaml", model("b"));
      await waitFor(() => calls === 1, 5000, "the added file");
      write(d, ".b.yaml.tmp", model("b2"));
      renameSync(join(d, ".b.yaml.tmp"), join(d, "b.yaml"));
      await waitFor(() => calls === 2, 5000, "the atomic-rename save");
      unlinkSync(join(d, "b.yaml"));
      await waitFor(() => calls === 3, 5000, "the removed file");
      write(d, "a.yaml", model("a2"));
      await waitFor(() => calls === 4, 5000, "the change in place");
    } finally {
      stop();
    }
  });
});
