/**
 * Spawning a process group, and the seam the supervisor sees of it. The types (SpawnedProcess,
 * Spawner, ExitInfo, ...) are web-standard, so the supervisor can run against fakes; spawnGroup is
 * the only user of Bun.spawn: it starts a command as the leader of its own process group, behind
 * the orphan guard (see orphan-guard.ts), with stdout and stderr always drained.
 */
import { accessSync, closeSync, constants, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { GUARD_SCRIPT, guardStopLines, trackGroup, untrackGroup } from "./orphan-guard.ts";
import { openOutputFifo, readOutputFifo } from "./output-fifo.ts";
import { isGroupAlive } from "./proc-liveness.ts";
import type { GroupSignal } from "./types.ts";

// ---- the seam

/** How a process ended: an exit code, or the signal that killed it. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

/** How to spawn. */
export interface SpawnOptions {
  /** The complete environment of the child (not merged with anything). */
  env: Record<string, string | undefined>;
  cwd?: string;
  /** Receives stdout and stderr text as it arrives (decoded as UTF-8, chunks interleaved). */
  onOutput?: (text: string) => void;
  /**
   * How the output is read: "fifo" (the default where FIFOs can be made) gathers it in a named
   * pipe read in batches (output-fifo.ts); "pipe" uses Bun's pipes, read as each write arrives.
   */
  outputVia?: "fifo" | "pipe";
  /**
   * The command that stops this server if switchyard dies without stopping it (the model's
   * cmdStop, given the leader's pid): the orphan guard's watcher runs it before it kills the group.
   */
  orphanStop?: (pid: number) => string[];
}

/** A running (or finished) child that leads its own process group. */
export interface SpawnedProcess {
  /** Pid of the leader, which is also the process group id. */
  readonly pid: number;
  /** Resolves once, when the leader has exited. */
  readonly exited: Promise<ExitInfo>;
  /** The leader's exit, or null while it runs. */
  readonly exitInfo: ExitInfo | null;
  /** Resolves when stdout and stderr reached EOF; may never, if a grandchild keeps them open. */
  readonly outputDone: Promise<void>;
  /** Hand over what the child has written so far now (output is otherwise read in batches). */
  flushOutput(): void;
  /** Signal every process of the group; a group already gone is not an error. */
  killGroup(signal: GroupSignal): void;
  /** Whether any live (non-zombie) process is still in the group. */
  groupAlive(): boolean;
}

/** Starts `argv` as the leader of a new process group; throws SpawnError when it cannot. */
export type Spawner = (argv: string[], opts: SpawnOptions) => SpawnedProcess;

/** The command could not be spawned at all (missing binary, bad cwd, empty command). */
export class SpawnError extends Error {
  constructor(
    message: string,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = "SpawnError";
  }
}

/** "exited with code N" or "was killed by SIGNAL", for log lines and errors. */
export function describeExit(info: ExitInfo): string {
  return info.signal ? `was killed by ${info.signal}` : `exited with code ${info.code}`;
}

// ---- the Bun implementation

const GUARD_SHELL = isExecutableFile("/bin/sh") ? "/bin/sh" : null;
const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Where `command` would be found (as execvp would search), or null. */
export function resolveExecutable(command: string, pathVar: string | undefined, cwd: string): string | null {
  if (command.includes("/")) {
    const full = isAbsolute(command) ? command : resolve(cwd, command);
    return isExecutableFile(full) ? full : null;
  }
  return Bun.which(command, { PATH: pathVar ?? DEFAULT_PATH, cwd });
}

/** Read a pipe to EOF, decoding UTF-8 across chunk boundaries. Never throws. */
async function drain(stream: ReadableStream<Uint8Array>, onText: (text: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      if (text) onText(text);
    }
  } catch {
    // the pipe broke: nothing more to read
  }
  const tail = decoder.decode();
  if (tail) onText(tail);
}

/** Spawn `argv` (no shell interpretation) as a new process group leader; throws SpawnError. */
export function spawnGroup(argv: string[], opts: SpawnOptions): SpawnedProcess {
  const command = argv[0];
  if (command === undefined || command === "") throw new SpawnError("empty command", "EINVAL");
  const cwd = opts.cwd ?? process.cwd();
  if (resolveExecutable(command, opts.env.PATH, cwd) === null) {
    // Why: behind the guard shell a missing binary would only show as exit 127; check first so
    // it is reported as a spawn failure, as Bun.spawn itself would (it throws ENOENT).
    throw new SpawnError(`command not found or not executable: ${command}`, "ENOENT");
  }
  const cmd = GUARD_SHELL ? [GUARD_SHELL, "-c", GUARD_SCRIPT, "switchyard-guard", ...argv] : argv;
  // Both outputs into one FIFO read in batches, else Bun's pipes (docs/runtime-notes.md#spawn-pipes).
  const fifo = opts.outputVia === "pipe" ? null : openOutputFifo();
  let proc: GuardedProcess;
  try {
    // Why detached: setsid() makes the child a group leader, so kill(-pid) reaches grandchildren.
    // Why a pipe is always drained: Bun buffers an unread pipe without limit (docs/runtime-notes.md#spawn-pipes).
    proc = Bun.spawn(cmd, {
      env: opts.env,
      cwd,
      detached: true,
      stdin: GUARD_SHELL ? "pipe" : "ignore",
      stdout: fifo ? fifo.writeFd : "pipe",
      stderr: fifo ? fifo.writeFd : "pipe",
    });
  } catch (err) {
    if (fifo) {
      closeSync(fifo.writeFd);
      closeSync(fifo.readFd);
    }
    const e = err as NodeJS.ErrnoException;
    throw new SpawnError(`cannot spawn ${command}: ${e.message}`, e.code ?? null);
  }
  const pid = proc.pid;
  trackGroup(pid, tellGuardStop(proc, opts.orphanStop?.(pid) ?? []));
  const onText = opts.onOutput ?? (() => {});
  // The child holds its own copy of the write end now; ours would keep EOF from ever coming.
  if (fifo) closeSync(fifo.writeFd);
  const reader = fifo ? readOutputFifo(fifo.readFd, onText) : null;
  // Bun's pipes hand output over as it arrives: nothing to flush.
  const flushOutput = (): void => reader?.kick();
  const outputDone =
    reader?.done ?? Promise.all([drain(proc.stdout as ReadableStream<Uint8Array>, onText), drain(proc.stderr as ReadableStream<Uint8Array>, onText)]).then(() => {});

  let exitInfo: ExitInfo | null = null;
  const exited = proc.exited.then((): ExitInfo => {
    const signal = proc.signalCode;
    const info: ExitInfo = { code: proc.exitCode, signal: signal === null ? null : String(signal) };
    exitInfo = info;
    untrackGroup(pid);
    // Closing the guard pipe makes the watcher SIGKILL what is left of the group.
    releaseGuard(proc);
    // The last lines (a start's error above all) are read now, not at the next drain.
    flushOutput();
    return info;
  });

  const groupAlive = () => isGroupAlive(pid);
  return {
    pid,
    exited,
    get exitInfo() {
      return exitInfo;
    },
    outputDone,
    flushOutput,
    killGroup(signal: GroupSignal) {
      // Once the leader is gone, only signal while the group provably exists (no pid reuse).
      if (exitInfo !== null && !groupAlive()) return;
      try {
        process.kill(-pid, signal);
      } catch {
        // ESRCH: already gone
      }
    },
    groupAlive,
  };
}

type GuardedProcess = Bun.Subprocess<"pipe" | "ignore", "pipe" | number, "pipe" | number>;

/**
 * Hand the watcher the stop command's words; true when it took them. A word with a newline cannot
 * go down the line protocol, so such a command is not sent (the group is then only killed).
 */
function tellGuardStop(proc: GuardedProcess, argv: string[]): boolean {
  const stdin = proc.stdin;
  if (argv.length === 0 || !stdin || typeof stdin === "number" || argv.some((w) => w.includes("\n"))) return false;
  try {
    stdin.write(guardStopLines(argv));
    void stdin.flush();
    return true;
  } catch {
    return false;
  }
}

/** The leader has exited: close the pipe (if Bun has not), so the watcher kills what is left. */
function releaseGuard(proc: GuardedProcess): void {
  const stdin = proc.stdin;
  if (stdin && typeof stdin !== "number") {
    try {
      void stdin.end();
    } catch {
      // already closed
    }
  }
}
