/**
 * The router's public contract, as the HTTP layer sees it: ask for a model, get a grant
 * (a base URL and a done() callback) or a RouteError.
 */

import type { MemoryStatus } from "../placement/memory-status.ts";

/** Why a request was refused or cut; the HTTP layer maps each kind to a status and envelope. */
export type RouteErrorKind =
  | "model_not_found" // 404
  | "concurrency_limit" // 429 with Retry-After
  | "start_failed" // 503, message carries the reason and last output lines
  | "health_timeout" // 504
  | "unloaded" // 503: an admin or TTL unload took the model away while the request waited
  | "model_removed" // 404: a config reload removed the model while the request waited
  | "severed" // in-band: drain deadline passed while the request was in flight
  | "shutting_down" // 503
  | "does_not_fit" // 503: the fit router: more memory than any device holds
  | "cancelled"; // the client left (nothing is sent)

/** A refusal or cut, with everything the HTTP layer needs to answer. */
export class RouteError extends Error {
  constructor(
    readonly kind: RouteErrorKind,
    message: string,
    readonly retryAfterSec: number | null = null,
  ) {
    super(message);
    this.name = "RouteError";
  }
}

/**
 * The error of a request whose signal aborted: the abort's own reason when it is a cancel
 * (an operator's, with its message), else "the client went away".
 */
export function cancelledBy(signal: AbortSignal): RouteError {
  const r: unknown = signal.reason;
  return r instanceof RouteError && r.kind === "cancelled" ? r : new RouteError("cancelled", "the client went away");
}

/** Progress published to a waiting request (feeds the loading stream). */
export interface WaitUpdate {
  /** 0 = its swap is under way (loading), n ≥ 1 = n-th in the queue. */
  position: number;
  /** The model this request is waiting for. */
  model: string;
  /** Whether the model is currently being loaded for this request. */
  loading: boolean;
  /** When loading: when that load began (epoch ms), also for a request that joined it later. */
  loadingSince?: number;
}

/** Permission to forward one request to a ready model. */
export interface Grant {
  model: string;
  /** Upstream base URL, no trailing slash. */
  baseUrl: string;
  /** Aborted with a RouteError("severed") when a drain deadline cuts this request. */
  severed: AbortSignal;
  /** Call exactly once when the response has ended (end, error or cancel). Extra calls are ignored. */
  done(): void;
  /** Cut this one request as a drain would (`severed` aborts with `reason`): an operator's cancel. */
  sever?(reason: unknown): void;
}

/** Options of one acquire. */
export interface AcquireOptions {
  /** The client's signal: when it aborts, the request is cancelled wherever it is. */
  signal: AbortSignal;
  /**
   * Called on every change of queue position or loading status. Only admitted requests get
   * updates (never one about to be refused with 404/429): the HTTP layer starts its 200
   * loading stream on the first update, so refusals must come before any update.
   */
  onUpdate?: (u: WaitUpdate) => void;
}

/** Per-model view for `/running` and the admin API. */
export interface ModelStatus {
  model: string;
  state: string;
  inFlight: number;
  queued: number;
  /** Epoch ms since when it drains (stops taking new work), or null. */
  drainingSince: number | null;
}

/** What HTTP uses. Everything goes through the run loop. */
export interface Router {
  /** Wait for a grant on `model` (a model ID; aliases are resolved before). Rejects with RouteError. */
  acquire(model: string, opts: AcquireOptions): Promise<Grant>;
  /** Drain and stop the given models (all when omitted); resolves when they are stopped. */
  unload(models?: string[]): Promise<void>;
  /** Refuse new work, fail waiters, drain, stop everything. */
  shutdown(): Promise<void>;
  /** Snapshot for status endpoints (informational only). */
  status(): ModelStatus[];
  /** The fit router's memory report (devices and each model's figure); absent or null for other routers. */
  memory?(): MemoryStatus | null;
}
