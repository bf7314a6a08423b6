/**
 * The contract between a model's supervisor (src/process/) and its users (router, HTTP, UI).
 * Web-standard types only, so the router can be tested against fakes.
 */
import type { ModelConfig } from "../config/types.ts";

/** Signals sent to a model's process group. */
export type GroupSignal = "SIGTERM" | "SIGKILL" | "SIGINT" | "SIGHUP";

/** Lifecycle of one model's server (legal changes: TRANSITIONS in transitions.ts). `shutdown` is terminal. */
export type ProcessState = "stopped" | "starting" | "ready" | "stopping" | "shutdown";

/** Why a start failed; the HTTP layer maps it to a status (503, 504). */
export type StartFailureKind =
  | "spawn" // the command could not be spawned (missing binary, empty cmd)
  | "exited" // the child exited before it became ready
  | "timeout" // healthCheckTimeout passed
  | "port_in_use" // something already listens on the model's port
  | "aborted" // a stop arrived during the start
  | "shutdown"; // the supervisor is shut down

/** A failed start, with the reason a person can act on. */
export class StartError extends Error {
  constructor(
    readonly kind: StartFailureKind,
    message: string,
    readonly exitCode: number | null = null,
    readonly signal: string | null = null,
    readonly lastLines: string[] = [],
  ) {
    super(message);
    this.name = "StartError";
  }
}

/** Events a supervisor publishes. */
export type SupervisorEvent =
  | { type: "state"; model: string; from: ProcessState; to: ProcessState; at: number }
  | { type: "crash"; model: string; exitCode: number | null; signal: string | null; lastLines: string[]; at: number }
  | { type: "idle"; model: string; at: number } // TTL elapsed with nothing in flight: ask the router to unload
  | { type: "ready"; model: string; loadMs: number; at: number };

/** Where a model runs (the fit router's choice): device IDs ("0", "cpu") and GPU indices. */
export interface StartPlacement {
  devices: string[];
  gpus: number[];
  /** Whether the host has GPUs the placement chose from (a CPU placement then hides them from the model). */
  gpusKnown?: boolean;
}

/** One model's process owner. Only the supervisor changes its own state. */
export interface Supervisor {
  readonly model: string;
  /** The model config this supervisor was built with (during a reload's drain it may differ from the live config's, or be absent from it). */
  readonly config?: ModelConfig;
  /** Current state (a snapshot: it may inform, never gate, a decision). */
  readonly state: ProcessState;
  /** Upstream base URL (no trailing slash). */
  readonly baseUrl: string;
  /** Pid of the running leader, or null. */
  readonly pid: number | null;
  /**
   * Start and wait until ready; rejects with StartError. Joins a start already under way.
   * `placement` (the fit router): `${GPU}` in cmd and env becomes its GPU indices, and
   * CUDA/HIP/ROCR_VISIBLE_DEVICES are set to them unless the model's env sets them.
   */
  start(placement?: StartPlacement): Promise<void>;
  /** Where the running process was placed, or null. */
  readonly placement: StartPlacement | null;
  /** Stop gracefully, SIGKILL the group after `timeoutMs`; resolves when the group is gone. Idempotent. */
  stop(timeoutMs: number): Promise<void>;
  /** Stop and become terminal (`shutdown`). */
  shutdown(timeoutMs: number): Promise<void>;
  /**
   * The router tells the supervisor when the model has requests in flight (true) and when the
   * last one ended (false); the TTL clock counts idle time only. Idempotent.
   */
  setBusy(busy: boolean): void;
  /** A config reload changed the model's ttl (seconds, 0 = never): the idle clock uses it from now on. */
  setTtl(seconds: number): void;
  /** Subscribe to events; returns the unsubscribe function. */
  subscribe(listener: (ev: SupervisorEvent) => void): () => void;
  /** Past load durations in ms (most recent last), for loading-time estimates. */
  readonly loadHistoryMs: readonly number[];
}
