/**
 * Run a tool (nvidia-smi, rocm-smi) once and collect what it printed: the Bun edge behind the
 * CommandRunner seam that device detection and measurement take, so tests can hand them a fake.
 * Never throws: a tool that is not on PATH is "missing", one that fails or hangs (killed after a
 * timeout) is "failed".
 */

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

const MAX_OUTPUT = 1 << 20;

/** Read a pipe to its end, keeping at most MAX_OUTPUT characters. */
async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  const reader = stream.getReader();
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) if (text.length < MAX_OUTPUT) text += decoder.decode(r.value, { stream: true });
  } catch {
    // a broken pipe: what was read is all there is
  }
  return text + decoder.decode();
}

const firstLine = (text: string): string => text.split("\n").map((l) => l.trim()).find((l) => l !== "")?.slice(0, 200) ?? "";

/** The Bun runner: Bun.which, then Bun.spawn with no stdin, output collected, killed after the timeout. */
export function createCommandRunner(opts: CommandRunnerOptions = {}): CommandRunner {
  const timeoutMs = opts.timeoutMs ?? 5000;
  return async (argv) => {
    const name = argv[0] ?? "";
    const path = name === "" ? null : Bun.which(name, { PATH: opts.path ?? process.env.PATH ?? "" });
    if (path === null) return { status: "missing", detail: `${name || "(empty command)"} is not on PATH` };
    let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
    try {
      proc = Bun.spawn([path, ...argv.slice(1)], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: opts.env ?? { ...process.env } });
    } catch (err) {
      return { status: "failed", detail: `cannot run ${name}: ${(err as Error).message}` };
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Why a race and not only the kill: a grandchild holding the pipes would keep them open.
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
    try {
      const result = await Promise.race([Promise.all([readAll(proc.stdout), readAll(proc.stderr), proc.exited]), timeout]);
      if (result === "timeout") {
        proc.kill("SIGKILL");
        return { status: "failed", detail: `${name} did not answer within ${timeoutMs} ms; killed` };
      }
      const [stdout, stderr, code] = result;
      if (code !== 0) {
        const why = firstLine(stderr || stdout);
        return { status: "failed", detail: `${name} exited with code ${code}${why ? `: ${why}` : ""}` };
      }
      return { status: "ok", stdout };
    } finally {
      clearTimeout(timer);
    }
  };
}
