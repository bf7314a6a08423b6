/**
 * The reloader against a real router, with fake supervisors and real config files: reloads that
 * follow each other while an earlier one's drain or stop is still on its way.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, symlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readConfigSources } from "../../src/cli/config-sources.ts";
import { createReloader, watchConfig } from "../../src/cli/reload.ts";
import { loadConfigSources } from "../../src/config/load.ts";
import type { ModelConfig } from "../../src/config/types.ts";
import type { LiveConfig, ReloadOutcome } from "../../src/http/context.ts";
import type { Logger } from "../../src/log/types.ts";
import type { Supervisor } from "../../src/process/types.ts";
import { createRouter } from "../../src/router/router.ts";
import { waitFor } from "../fixtures/wait.ts";
import { FakeSupervisor } from "../router/fake-supervisor.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A config file, a router over fake supervisors, and a reloader; `write` changes the file. */
function setup(yaml: string) {
  const dir = mkdtempSync(join(tmpdir(), "sy-reload-"));
  dirs.push(dir);
  const file = join(dir, "config.yaml");
  writeFileSync(file, yaml);
  const paths = { config: file };
  const { config } = loadConfigSources(readConfigSources(paths), { env: {}, selfCommand: ["switchyard"] });
  const supervisors = new Map<string, Supervisor>();
  const builtTtl = new Map<Supervisor, number>();
  const make = (m: ModelConfig): FakeSupervisor => {
    const s = new FakeSupervisor(m.id, m.proxy);
    s.autoReady = true;
    builtTtl.set(s, m.ttl);
    return s;
  };
  for (const m of Object.values(config.models)) supervisors.set(m.id, make(m));
  const router = createRouter({ config, supervisors, log: quiet });
  const live = { config, warnings: [] } as unknown as LiveConfig;
  const reloader = createReloader({ paths, live, router, supervisors, makeSupervisor: (m) => make(m), log: quiet, observe() {}, env: {}, selfCommand: ["switchyard"] });
  const reload = async (next: string): Promise<ReloadOutcome> => {
    writeFileSync(file, next);
    const out = await reloader.reload("test");
    await router.settled();
    return out;
  };
  /** The ttl a supervisor runs with: the last setTtl, else the one it was built with. */
  const ttlOf = (s: Supervisor): number | undefined => (s as FakeSupervisor).ttl ?? builtTtl.get(s);
  return { router, supervisors, live, reload, ttlOf };
}

const withX = "models:\n  a:\n    cmd: llama-server --port ${PORT}\n  x:\n    cmd: llama-server --port ${PORT}\n";
const withoutX = "models:\n  a:\n    cmd: llama-server --port ${PORT}\n";

describe("reloads that follow each other", () => {
  test("a model removed and added back while its stream drains: the stream finishes, the old process stops, the new one serves", async () => {
    const { router, supervisors, live, reload } = setup(withX);
    const old = supervisors.get("x") as FakeSupervisor;
    const streaming = await router.acquire("x", { signal: new AbortController().signal });
    expect((await reload(withoutX)).ok).toBe(true);
    // The user undoes the edit before the stream has ended.
    expect((await reload(withX)).ok).toBe(true);
    expect(old.stops).toEqual([]);
    streaming.done();
    await waitFor(() => old.state === "stopped", 3000, "the old process stopped");
    await router.settled();
    expect("x" in live.config.models).toBe(true);
    const now = supervisors.get("x");
    expect(now).toBeDefined();
    expect(now).not.toBe(old);
    const g = await router.acquire("x", { signal: AbortSignal.timeout(3000) });
    expect(g.model).toBe("x");
    expect(now!.state).toBe("ready");
    g.done();
  });

  test("a model removed and added back while its process stops is not retired: the next request starts the new one", async () => {
    const { router, supervisors, reload } = setup(withX);
    const old = supervisors.get("x") as FakeSupervisor;
    (await router.acquire("x", { signal: new AbortController().signal })).done();
    await router.settled();
    old.holdStops = true;
    await reload(withoutX);
    expect(old.state).toBe("stopping");
    await reload(withX);
    old.releaseStop();
    await waitFor(() => supervisors.get("x") !== old, 3000, "the new supervisor swapped in");
    const g = await router.acquire("x", { signal: AbortSignal.timeout(3000) });
    expect(supervisors.get("x")!.state).toBe("ready");
    expect(router.status().map((s) => s.model).sort()).toEqual(["a", "x"]);
    g.done();
  });

  test("a renamed model, and one added by a later reload, never get the port a removed model still drains on", async () => {
    const { router, supervisors, live, reload } = setup(withX);
    const xPort = live.config.models.x!.port;
    const streaming = await router.acquire("x", { signal: new AbortController().signal });
    expect((await reload("models:\n  a:\n    cmd: llama-server --port ${PORT}\n  y:\n    cmd: llama-server --port ${PORT}\n")).ok).toBe(true);
    expect(supervisors.get("x")!.state).toBe("ready"); // still draining its stream
    expect(live.config.models.y!.port).not.toBe(xPort);
    // A second reload, with x gone from the running config too: its process still holds the port.
    expect((await reload("models:\n  a:\n    cmd: llama-server --port ${PORT}\n  y:\n    cmd: llama-server --port ${PORT}\n  z:\n    cmd: llama-server --port ${PORT}\n")).ok).toBe(true);
    expect([live.config.models.y!.port, live.config.models.z!.port]).not.toContain(xPort);
    streaming.done();
    await waitFor(() => !supervisors.has("x"), 3000, "x retired");
    // Once it has stopped, its port is free again for a model added after.
    expect((await reload("models:\n  a:\n    cmd: llama-server --port ${PORT}\n  y:\n    cmd: llama-server --port ${PORT}\n  z:\n    cmd: llama-server --port ${PORT}\n  w:\n    cmd: llama-server --port ${PORT}\n")).ok).toBe(true);
    expect(live.config.models.w!.port).toBe(xPort);
  });

  test("a changed startPort hands the ports out again from the new start, as a fresh start would (llama-swap reloads from scratch)", async () => {
    const { live, reload } = setup("startPort: 5800\n" + withX);
    expect([live.config.models.a!.port, live.config.models.x!.port]).toEqual([5800, 5801]);
    const out = await reload("startPort: 9000\n" + withX + "  c:\n    cmd: llama-server --port ${PORT}\n");
    expect(out.ok).toBe(true);
    // a and x are not running (fake supervisors, stopped): their old ports are free, and the new range starts at 9000.
    expect([live.config.models.a!.port, live.config.models.c!.port, live.config.models.x!.port]).toEqual([9000, 9001, 9002]);
  });

  test("a ttl edit while an earlier reload's restart still waits reaches the process that will run", async () => {
    const cfg = (flag: string, ttl: number) => `models:\n  x:\n    cmd: llama-server ${flag} --port \${PORT}\n    ttl: ${ttl}\n`;
    const { router, supervisors, reload, ttlOf } = setup(cfg("-a", 60));
    const old = supervisors.get("x")!;
    const streaming = await router.acquire("x", { signal: new AbortController().signal });
    // The command changes: the restart waits for the stream.
    await reload(cfg("-b", 60));
    // Then only the ttl: in place, for the old process and for the one that waits.
    await reload(cfg("-b", 5));
    expect(ttlOf(old)).toBe(5);
    streaming.done();
    await waitFor(() => supervisors.get("x") !== old, 3000, "the restart");
    expect(ttlOf(supervisors.get("x")!)).toBe(5);
  });
});

describe("--watch-config", () => {
  test("a config that is a symlink into another directory reloads when its target is edited (the poll: no event names it)", async () => {
    const root = mkdtempSync(join(tmpdir(), "sy-watch-link-"));
    dirs.push(root);
    mkdirSync(join(root, "shared"));
    mkdirSync(join(root, "app"));
    writeFileSync(join(root, "shared", "real.yaml"), "models: {}\n");
    symlinkSync(join(root, "shared", "real.yaml"), join(root, "app", "config.yaml"));
    let reloads = 0;
    const stop = watchConfig({ config: join(root, "app", "config.yaml") }, () => reloads++, 20, 50);
    try {
      writeFileSync(join(root, "shared", "real.yaml"), "models: {a: {cmd: x}}\n");
      await waitFor(() => reloads === 1, 5000, "the target's edit");
    } finally {
      stop();
    }
  });

  test("a --config-dir removed and made anew is watched again: its files coming back reload, and so do later edits", async () => {
    const root = mkdtempSync(join(tmpdir(), "sy-watch-"));
    dirs.push(root);
    const dir = join(root, "conf.d");
    mkdirSync(dir);
    writeFileSync(join(dir, "a.yaml"), "models: {}\n");
    let reloads = 0;
    const stop = watchConfig({ config: null, configDir: dir }, () => reloads++, 20);
    try {
      writeFileSync(join(dir, "a.yaml"), "models: {a: {cmd: x}}\n");
      await waitFor(() => reloads === 1, 5000, "the edit in place");
      // rm -rf conf.d && cp -r new conf.d
      rmSync(dir, { recursive: true });
      mkdirSync(dir);
      writeFileSync(join(dir, "a.yaml"), "models: {b: {cmd: y}}\n");
      await waitFor(() => reloads >= 2, 5000, "the directory back with a changed file");
      const before = reloads;
      writeFileSync(join(dir, "a.yaml"), "models: {c: {cmd: z}}\n");
      await waitFor(() => reloads > before, 5000, "an edit in the new directory");
    } finally {
      stop();
    }
  });
});
