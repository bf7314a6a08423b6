/**
 * Run a tool (nvidia-smi, rocm-smi) once and collect what it printed: the Bun edge behind the
 * CommandRunner seam that device detection and measurement take, so tests can hand them a fake.
 * Never throws: a tool that is not on PATH is "missing", one that fails or hangs (killed after a
 * timeout) is "failed".
 */
import { runToolProcess, toolFailure } from "./tool-process.ts";

/** What one run of a tool came to. */
export type CommandResult = { status: "ok"; stdout: string } | { status: "missing"; detail: string } | { status: "failed"; detail: string };

/** Runs `argv` (argv[0] looked up on PATH, no shell) and says how it went; never rejects. */
export type CommandRunner = (argv: readonly string[]) => Promise<CommandResult>;

/** How the default runner runs tools. */
export interface CommandRunnerOptions {
  /** PATH to look tools up on (default: this process's PATH). */
  path?: string;
  /** A run still going after this long is killed with SIGKILL (default 5000 ms). */
  timeoutMs?: number;
  /** Environment of the tool (default: this process's). */
  env?: Record<string, string | undefined>;
}

/** The Bun runner: Bun.which, then one run through cli/tool-process.ts (killed after the timeout, not started again while a killed run lingers). */
export function createCommandRunner(opts: CommandRunnerOptions = {}): CommandRunner {
  const timeoutMs = opts.timeoutMs ?? 5000;
  return async (argv) => {
    const name = argv[0] ?? "";
    const path = name === "" ? null : Bun.which(name, { PATH: opts.path ?? process.env.PATH ?? "" });
    if (path === null) return { status: "missing", detail: `${name || "(empty command)"} is not on PATH` };
    const r = await runToolProcess(path, argv.slice(1), { timeoutMs, env: opts.env });
    if (r.kind === "exited" && r.code === 0) return { status: "ok", stdout: r.stdout };
    return { status: "failed", detail: toolFailure(name, r, timeoutMs) };
  };
}
