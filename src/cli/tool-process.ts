/**
 * One run of a probe tool (nvidia-smi, rocm-smi): no shell, no stdin, both pipes read, killed with
 * its whole process group after a timeout. A tool that does not die when killed (nvidia-smi stuck
 * in the driver sits in uninterruptible sleep, where SIGKILL waits) is remembered, and the same
 * tool is not started again until it has exited: a stuck driver costs one process, not one more
 * per sample. The Bun edge shared by the performance monitor and the placement runner.
 */

/** How one run went. */
export type ToolOutcome =
  | { kind: "exited"; code: number; stdout: string; stderr: string }
  | { kind: "timeout" }
  | { kind: "stopped" }
  /** An earlier run of the same tool was killed and has not exited yet: not started. */
  | { kind: "busy"; pid: number }
  | { kind: "spawn-failed"; error: string };

/** The process one run starts. */
export interface ToolChild {
  readonly pid: number;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly exited: Promise<number>;
  /** Not exited yet. */
  running(): boolean;
  /** SIGKILL to its whole process group. */
  kill(): void;
}

/** Starts a tool (a seam: tests hand in one that will not die, as nvidia-smi stuck in the driver will not). */
export type SpawnTool = (argv: string[], env: Record<string, string | undefined>) => ToolChild;

/** The Bun spawner: the tool leads its own process group, so a kill reaches what a wrapper script started. */
export const spawnTool: SpawnTool = (argv, env) => {
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true, env });
  return {
    pid: proc.pid,
    stdout: proc.stdout,
    stderr: proc.stderr,
    exited: proc.exited,
    running: () => proc.exitCode === null && proc.signalCode === null,
    kill() {
      try {
        process.kill(-proc.pid, "SIGKILL");
      } catch {
        proc.kill("SIGKILL");
      }
    },
  };
};

/** Options of one run. */
export interface ToolRunOptions {
  /** Killed after this long. */
  timeoutMs: number;
  /** Aborting kills the run (shutdown). */
  signal?: AbortSignal;
  /** Environment of the tool (default: this process's). */
  env?: Record<string, string | undefined>;
  /** How the tool is started (default spawnTool). */
  spawn?: SpawnTool;
}

const MAX_OUTPUT = 1 << 20;

/** Killed runs that had not exited yet, by tool path. */
const lingering = new Map<string, ToolChild>();

/** Read a pipe to its end (at most MAX_OUTPUT characters kept), or until `cut` aborts. */
async function readPipe(stream: ReadableStream<Uint8Array>, cut: AbortSignal): Promise<string> {
  const reader = stream.getReader();
  const onCut = () => void reader.cancel().catch(() => {});
  cut.addEventListener("abort", onCut, { once: true });
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (text.length < MAX_OUTPUT) text += decoder.decode(value, { stream: true });
    }
  } catch {
    // cancelled or broken: what was read is all there is
  } finally {
    cut.removeEventListener("abort", onCut);
  }
  return text + decoder.decode();
}

/** Run `path args` once; never rejects. */
export async function runToolProcess(path: string, args: readonly string[], opts: ToolRunOptions): Promise<ToolOutcome> {
  if (opts.signal?.aborted) return { kind: "stopped" };
  const before = lingering.get(path);
  if (before !== undefined) {
    if (before.running()) return { kind: "busy", pid: before.pid };
    lingering.delete(path);
  }
  let proc: ToolChild;
  try {
    proc = (opts.spawn ?? spawnTool)([path, ...args], opts.env ?? { ...process.env });
  } catch (err) {
    return { kind: "spawn-failed", error: (err as Error).message };
  }
  const cut = new AbortController();
  const timer = setTimeout(() => cut.abort("timeout"), opts.timeoutMs);
  const onStop = () => cut.abort("stopped");
  opts.signal?.addEventListener("abort", onStop, { once: true });
  const aborted = new Promise<"cut">((resolve) => cut.signal.addEventListener("abort", () => resolve("cut"), { once: true }));
  try {
    // Why a race and not only the exit: a grandchild holding the pipes would keep them open.
    const result = await Promise.race([Promise.all([readPipe(proc.stdout, cut.signal), readPipe(proc.stderr, cut.signal), proc.exited]), aborted]);
    if (result === "cut") {
      proc.kill();
      if (proc.running()) {
        lingering.set(path, proc);
        void proc.exited.then(() => {
          if (lingering.get(path) === proc) lingering.delete(path);
        });
      }
      return cut.signal.reason === "timeout" ? { kind: "timeout" } : { kind: "stopped" };
    }
    const [stdout, stderr, code] = result;
    return { kind: "exited", code, stdout, stderr };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onStop);
  }
}

/** The first non-empty line of a tool's complaint (200 characters at most). */
const firstLine = (text: string): string => text.split("\n").map((l) => l.trim()).find((l) => l !== "")?.slice(0, 200) ?? "";

/** Why a run of `name` that did not exit 0 gave no output to use, in words. */
export function toolFailure(name: string, r: ToolOutcome, timeoutMs: number): string {
  switch (r.kind) {
    case "exited": {
      const why = firstLine(r.stderr || r.stdout);
      return `${name} exited with code ${r.code}${why ? `: ${why}` : ""}`;
    }
    case "timeout":
      return `${name} did not answer within ${timeoutMs} ms; killed`;
    case "stopped":
      return `${name} stopped`;
    case "busy":
      return `${name} not run: its last run (pid ${r.pid}) was killed but has not exited (a hung driver?)`;
    case "spawn-failed":
      return `cannot run ${name}: ${r.error}`;
  }
}
