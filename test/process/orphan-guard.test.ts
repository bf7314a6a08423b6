import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { isPidAlive } from "../../src/process/proc-liveness.ts";
import { waitFor } from "../fixtures/wait.ts";

const FIXTURE = resolve(import.meta.dir, "../fixtures/proxy-like.ts");

interface Started {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  pids: number[];
  output: () => string;
}

/** Run the proxy-like fixture and wait for the pids of its backends and grandchild. */
async function startProxy(mode: string): Promise<Started> {
  const proc = Bun.spawn([process.execPath, FIXTURE, mode], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
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
  const info = JSON.parse(line) as { pids: number[]; grandchild: number };
  const pids = [...info.pids, info.grandchild];
  expect(pids.every((p) => Number.isInteger(p) && p > 0 && isPidAlive(p))).toBe(true);
  return { proc, pids, output: () => out };
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
  test("kill -9 of a proxy with three backends leaves no backend or grandchild alive 5 s later", async () => {
    const { proc, pids } = await startProxy("sigkill");
    try {
      const t0 = performance.now();
      proc.kill("SIGKILL");
      await proc.exited;
      await waitFor(() => pids.every((p) => !isPidAlive(p)), 5000, "every backend gone");
      // Typically a few ms; the acceptance bound is 5 s.
      expect(performance.now() - t0).toBeLessThan(5000);
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
      const { proc, pids, output } = await startProxy(mode);
      try {
        proc.kill(signal);
        expect(await proc.exited).toBe(code);
        expect(output()).toContain("stopped all");
        expect(pids.filter(isPidAlive)).toEqual([]);
      } finally {
        cleanup(pids);
      }
    }, 30_000);
  }

  test("a plain process.exit() kills every group on the way out", async () => {
    const { proc, pids } = await startProxy("exit");
    try {
      proc.kill("SIGUSR2");
      expect(await proc.exited).toBe(0);
      await waitFor(() => pids.every((p) => !isPidAlive(p)), 1000, "every backend gone");
    } finally {
      cleanup(pids);
    }
  }, 30_000);
});
