/**
 * One run of a probe tool: output and exit code, a hung tool killed with its process group, and a
 * killed run that will not die (nvidia-smi stuck in the driver) blocking new runs of the same tool
 * until it has exited, instead of one more stuck process per sample.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runToolProcess, type ToolChild } from "../../src/cli/tool-process.ts";
import { toolDir } from "../fixtures/shell-tools.ts";
import { waitFor } from "../fixtures/wait.ts";
import { isPidAlive } from "../../src/process/proc-liveness.ts";

const { dir, tool } = toolDir("switchyard-tool-");
const alive = isPidAlive;

test("a tool's output and exit code", async () => {
  const path = tool("ok-tool", 'echo "out $1"; echo err >&2; exit 3');
  expect(await runToolProcess(path, ["x"], { timeoutMs: 5000 })).toEqual({ kind: "exited", code: 3, stdout: "out x\n", stderr: "err\n" });
});

test("a hung wrapper script is killed with what it started (its process group)", async () => {
  const pidFile = join(dir, "grandchild.pid");
  const path = tool("wrapper-tool", `sleep 300 & echo $! > ${pidFile}; wait`);
  const run = runToolProcess(path, [], { timeoutMs: 300 });
  expect(await run).toEqual({ kind: "timeout" });
  const grandchild = Number(readFileSync(pidFile, "utf8"));
  await waitFor(() => !alive(grandchild), 5000, "the wrapper's own child to die with it");
});

test("a killed run that does not die blocks new runs of that tool until it exits", async () => {
  let exit!: (code: number) => void;
  let starts = 0;
  let kills = 0;
  const stuck = (): ToolChild => {
    starts++;
    let done = false;
    const exited = new Promise<number>((resolve) => (exit = (code) => ((done = true), resolve(code))));
    const never = () => new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) });
    return { pid: 4242, stdout: never(), stderr: never(), exited, running: () => !done, kill: () => void kills++ };
  };
  const path = join(dir, "stuck-nvidia-smi");
  expect(await runToolProcess(path, [], { timeoutMs: 50, spawn: stuck })).toEqual({ kind: "timeout" });
  expect([starts, kills]).toEqual([1, 1]);
  // Still stuck: not started again.
  expect(await runToolProcess(path, [], { timeoutMs: 50, spawn: stuck })).toEqual({ kind: "busy", pid: 4242 });
  expect(starts).toBe(1);
  // Once it has exited, the next run starts.
  exit(137);
  await new Promise((r) => setTimeout(r, 0)); // an ordering step: the exit's callbacks run first
  const ok = (): ToolChild => {
    starts++;
    const text = (t: string) => new Response(t).body!;
    return { pid: 4343, stdout: text("fine\n"), stderr: text(""), exited: Promise.resolve(0), running: () => false, kill: () => {} };
  };
  expect(await runToolProcess(path, [], { timeoutMs: 5000, spawn: ok })).toEqual({ kind: "exited", code: 0, stdout: "fine\n", stderr: "" });
  expect(starts).toBe(2);
});
