/**
 * What a supervisor is built from (SupervisorOptions), and the same with every default filled in
 * and the derived values computed once (ResolvedOptions), which the steps of the lifecycle share.
 */
import type { ModelConfig } from "../config/types.ts";
import type { LogHub, Logger, LogStream } from "../log/types.ts";
import { isPortInUse } from "./port-probe.ts";
import type { ProbeTuning } from "./readiness.ts";
import { spawnGroup, type Spawner } from "./spawn-group.ts";

/** Dependencies and tuning of one supervisor. */
export interface SupervisorOptions {
  model: ModelConfig;
  logs: LogHub;
  /** Starts a process group (default: spawnGroup, behind the orphan guard). */
  spawn?: Spawner;
  /** Used for readiness probes. */
  fetch?: typeof fetch;
  /** Clock for events and load times (epoch ms). */
  now?: () => number;
  /** "Does host:port already accept connections?" (default: a TCP connect). */
  portInUse?: (host: string, port: number) => Promise<boolean>;
  /** Environment the model's `env` is laid over (default: this process's). */
  env?: Record<string, string | undefined>;
  /** Working directory of the commands (default: this process's). */
  cwd?: string;
  /** Readiness probe tuning. */
  probe?: Partial<ProbeTuning>;
  /** Past load durations to start from (a reload that replaces the supervisor but keeps the command). */
  loadHistoryMs?: readonly number[];
}

/** SupervisorOptions with the defaults applied, plus what every step derives from them. */
export interface ResolvedOptions {
  /** The model's ID, the prefix of every log line. */
  id: string;
  model: ModelConfig;
  spawn: Spawner;
  fetch: typeof fetch;
  now: () => number;
  portInUse: (host: string, port: number) => Promise<boolean>;
  /** The complete environment of cmd and cmdStop: the base environment plus the model's `env`. */
  env: Record<string, string | undefined>;
  cwd: string | undefined;
  probe: Partial<ProbeTuning> | undefined;
  /** The proxy logger. */
  log: Logger;
  /** The model's output ring. */
  output: LogStream;
  /** Upstream base URL (no trailing slash). */
  baseUrl: string;
  /** The readiness URL, or null with `checkEndpoint: none`. */
  checkUrl: string | null;
}

/** Apply the defaults and derive the URLs and the environment. */
export function resolveOptions(opts: SupervisorOptions): ResolvedOptions {
  const m = opts.model;
  const baseUrl = m.proxy.replace(/\/+$/, "");
  return {
    id: m.id,
    model: m,
    spawn: opts.spawn ?? spawnGroup,
    fetch: opts.fetch ?? fetch,
    now: opts.now ?? Date.now,
    portInUse: opts.portInUse ?? isPortInUse,
    env: { ...(opts.env ?? process.env), ...m.env },
    cwd: opts.cwd,
    probe: opts.probe,
    log: opts.logs.log,
    output: opts.logs.model(m.id),
    baseUrl,
    checkUrl: m.checkEndpoint === "none" ? null : baseUrl + (m.checkEndpoint.startsWith("/") ? "" : "/") + m.checkEndpoint,
  };
}
