/**
 * Bun's fetch runs at most BUN_CONFIG_MAX_HTTP_REQUESTS requests at once (default 256; docs/runtime-notes.md#fetch-limit) and reads
 * the variable only at start-up; with more live streams than that, the rest would wait silently
 * inside fetch. So serve mode re-executes itself once with a higher limit, unless the user set one.
 */
import { selfCommand } from "./self-command.ts";

/** The limit switchyard asks for: far above any realistic number of live streams on one box. */
export const FETCH_LIMIT = "4096";

/**
 * Replace this process (same pid, so supervisors and service managers see no change) with itself
 * under a raised fetch limit. Returns only when no re-exec is needed or possible.
 */
export function ensureFetchLimit(args: readonly string[]): void {
  if (process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) return;
  const execve = (process as { execve?: (file: string, args: string[], env: Record<string, string>) => never }).execve;
  if (typeof execve !== "function") return;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.BUN_CONFIG_MAX_HTTP_REQUESTS = FETCH_LIMIT;
  // Runtime flags given to bun (e.g. --cpu-prof) survive the re-exec; a compiled binary has none.
  const [runtime, ...entry] = selfCommand();
  execve.call(process, process.execPath, [runtime, ...process.execArgv, ...entry, ...args], env);
}
