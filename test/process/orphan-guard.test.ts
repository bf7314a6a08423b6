import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { isPidAlive } from "../../src/process/proc-liveness.ts";
import { waitFor } from "../fixtures/wait.ts";

const FIXTURE = resolve(import.meta.dir, "../fixtures/proxy-like.ts");

interface Started {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** Every backend, the grandchild and the out-of-group "container". */
  pids: number[];
  output: () => string;
  /** The pid of the backend with a cmdStop, and the pids its cmdStop was run for so far. */
  stopped: number;
  stopsRun: () => number[];
}

/** Run the proxy-like fixture and wait for the pids of its backends and grandchild. */
async function startProxy(mode: string): Promise<Started> {
  const stopLog = join(mkdtempSync(join(tmpdir(), "sy-orphan-")), "stops");
  const proc = Bun.spawn([process.execPath, FIXTURE, mode, stopLog], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let out = "";
  const decoder = new TextDecoder();
  void proc.stdout.pipeTo(
    new WritableStream({
      write(chunk) {
        out += decoder.decode(chunk, { stream: true });
      },
    }),
  );
  void new Response(proc.stderr).text(); // drain
  await waitFor(() => out.includes('{"pids"') || proc.exitCode !== null, 15_000, "fixture start");
  const line = out.split("\n").find((l) => l.startsWith('{"pids"'));
  if (!line) throw new Error(`fixture failed to start: ${out}`);
  const info = JSON.parse(line) as { pids: number[]; grandchild: number; container: number; stopped: number };
  const pids = [...info.pids, info.grandchild, info.container];
  expect(pids.every((p) => Number.isInteger(p) && p > 0 && isPidAlive(p))).toBe(true);
  const stopsRun = () => (existsSync(stopLog) ? readFileSync(stopLog, "utf8").split("\n").filter(Boolean).map(Number) : []);
  return { proc, pids, output: () => out, stopped: info.stopped, stopsRun };
}

/** Kill leftovers so a failing assertion does not leak processes into other tests. */
function cleanup(pids: number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      // gone
    }
  }
}

describe("no orphans", () => {
  test("kill -9 of a proxy with four backends leaves no backend, grandchild or cmdStop-only container alive 5 s later; cmdStop ran once, for its server's pid", async () => {
    const { proc, pids, stopped, stopsRun } = await startProxy("sigkill");
    try {
      const t0 = performance.now();
      proc.kill("SIGKILL");
      await proc.exited;
      await waitFor(() => pids.every((p) => !isPidAlive(p)), 5000, "every backend gone");
      // Typically a few ms; the acceptance bound is 5 s.
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(stopsRun()).toEqual([stopped]);
    } finally {
      cleanup(pids);
    }
  }, 30_000);

  for (const [mode, signal, code, name] of [
    ["signal", "SIGTERM", 0, "SIGTERM runs the graceful stop of every backend before exiting 0"],
    ["reject-while-stopping", "SIGTERM", 0, "an unhandled rejection while the graceful stop runs is reported, and the stop goes on (not a second signal)"],
    ["uncaught", "SIGUSR2", 1, "an uncaught error stops every backend and exits 1"],
  ] as const) {
    test(name, async () => {
      const { proc, pids, output, stopped, stopsRun } = await startProxy(mode);
      try {
        proc.kill(signal);
        expect(await proc.exited).toBe(code);
        expect(output()).toContain("stopped all");
        expect(pids.filter(isPidAlive)).toEqual([]);
        // The graceful stop ran cmdStop; the watcher, told the leader had exited, did not run it again.
        expect(stopsRun()).toEqual([stopped]);
      } finally {
        cleanup(pids);
      }
    }, 30_000);
  }

  test("a plain process.exit() kills every group on the way out, and a group with a cmdStop is stopped by its watcher", async () => {
    const { proc, pids, stopped, stopsRun } = await startProxy("exit");
    try {
      proc.kill("SIGUSR2");
      expect(await proc.exited).toBe(0);
      await waitFor(() => pids.every((p) => !isPidAlive(p)), 5000, "every backend gone");
      expect(stopsRun()).toEqual([stopped]);
    } finally {
      cleanup(pids);
    }
  }, 30_000);
});
