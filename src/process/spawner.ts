/**
 * The seam between the supervisor and the operating system: what a spawned process group
 * looks like to its owner. Web-standard types only, so the supervisor can run against fakes.
 */

/** How a process ended: an exit code, or the signal that killed it. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

/** Signals the supervisor sends. */
export type GroupSignal = "SIGTERM" | "SIGKILL" | "SIGINT" | "SIGHUP";

/** How to spawn. */
export interface SpawnOptions {
  /** The complete environment of the child (not merged with anything). */
  env: Record<string, string | undefined>;
  cwd?: string;
  /** Receives stdout and stderr text as it arrives (decoded as UTF-8, chunks interleaved). */
  onOutput?: (text: string) => void;
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
