/**
 * Every process the benchmark starts, so that an interrupted or failed run leaves nothing behind:
 * on exit (normal, error or Ctrl-C) each still-running child gets SIGKILL, by its own pid.
 */
const live = new Map<number, { kill(signal?: number | NodeJS.Signals): void; exitCode: number | null }>();

/** Remember a child until it exits. */
export function track(proc: Bun.Subprocess): void {
  live.set(proc.pid, proc);
  void proc.exited.then(() => live.delete(proc.pid));
}

/** SIGKILL every tracked child that is still running. */
export function killAll(): void {
  for (const p of live.values()) if (p.exitCode === null) p.kill("SIGKILL");
  live.clear();
}

process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}

/** Stop a child: `signal`, then SIGKILL after `graceMs`; resolves with its exit code. */
export async function stopChild(proc: Bun.Subprocess, signal: NodeJS.Signals = "SIGTERM", graceMs = 15_000): Promise<number> {
  if (proc.exitCode !== null || proc.signalCode !== null) return proc.exited;
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  const code = await proc.exited;
  clearTimeout(timer);
  return code;
}

/** Marks the re-run of bench.ts that raised its own fetch limit (see bench.ts). */
export const RAISED_LIMIT_FLAG = "SWITCHYARD_BENCH_RAISED_FETCH_LIMIT";

/** Environment for a measured child: the benchmark's raised fetch limit is not passed on, so
 * switchyard runs with Bun's default (256 requests at once per process), as users run it. */
export function childEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  if (env[RAISED_LIMIT_FLAG]) {
    delete env.BUN_CONFIG_MAX_HTTP_REQUESTS;
    delete env[RAISED_LIMIT_FLAG];
  }
  return env;
}
