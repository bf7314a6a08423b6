/** Starting dist/switchyard with a generated config, as a user would, and stopping it. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY } from "./binary.ts";
import { childEnv, track, stopChild } from "./children.ts";
import { sleep } from "./clock.ts";
import { collectLines, type LineLog } from "./lines.ts";
import { freePort } from "./ports.ts";
import { memoryOf, type Memory } from "./procfs.ts";

/** A running proxy. */
export interface Switchyard {
  url: string;
  pid: number;
  /** Its stdout and stderr, line by line. */
  log: LineLog;
  memory(): Memory | null;
  /** SIGTERM (it stops its models), then wait; removes the temp directory. */
  stop(): Promise<void>;
}

/** Wait until GET `url` answers 200; throws after `ms` or when `proc` exits. */
export async function waitHealthy(url: string, proc: Bun.Subprocess, ms: number, stepMs = 5, what = () => ""): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`process exited ${proc.exitCode} before ${url} answered\n${what()}`);
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.status === 200) return;
    } catch {}
    if (performance.now() > deadline) throw new Error(`${url} did not answer 200 within ${ms} ms\n${what()}`);
    await sleep(stepMs);
  }
}

/** A server process the bench started in its own temp directory, healthy on `url`. */
export interface ServerProcess {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  log: LineLog;
  /** SIGTERM, wait (up to `graceMs`), remove the temp directory. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawn `argv` in `dir`, wait until `healthUrl` answers 200; on failure stop it, clean up, throw. */
export async function spawnServer(argv: string[], dir: string, healthUrl: string, ms: number): Promise<ServerProcess> {
  const proc = Bun.spawn(argv, { cwd: dir, stdin: "ignore", env: childEnv(), stdout: "pipe", stderr: "pipe" });
  track(proc);
  const log = collectLines([proc.stdout, proc.stderr]);
  const stop = async (graceMs = 5_000): Promise<void> => {
    await stopChild(proc, "SIGTERM", graceMs);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(healthUrl, proc, ms, 10, () => log.text());
  } catch (err) {
    await stop();
    throw err;
  }
  return { proc, log, stop };
}

/** Write `config` to a temp dir and start `binary` (the one under test by default) on a free port; resolves once /health answers. */
export async function startSwitchyard(config: string, binary: string = BINARY): Promise<Switchyard> {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-bench-"));
  writeFileSync(join(dir, "config.yaml"), config);
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await spawnServer([binary, "--config", "config.yaml", "--listen", `127.0.0.1:${port}`], dir, `${url}/health`, 15_000);
  const { proc, log } = server;
  return {
    url,
    pid: proc.pid,
    log,
    memory: () => memoryOf(proc.pid),
    // A generous grace: SIGTERM makes switchyard drain its requests and stop its models first.
    stop: () => server.stop(15_000),
  };
}

/** Ask switchyard to unload every model and wait until /running lists none as loaded. */
export async function unloadAll(sy: Switchyard): Promise<void> {
  const r = await fetch(`${sy.url}/api/models/unload`, { method: "POST" });
  await r.arrayBuffer();
  const deadline = performance.now() + 20_000;
  for (;;) {
    // /running leaves stopped models out.
    const body = (await (await fetch(`${sy.url}/running`)).json()) as { running: unknown[] };
    if (body.running.length === 0) return;
    if (performance.now() > deadline) throw new Error(`models still running after unload: ${JSON.stringify(body)}`);
    await sleep(10);
  }
}
