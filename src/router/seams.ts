/**
 * The seams of the router core: a `Scheduler` (pure state machine driven by the run loop), a
 * `Swapper` (pure eviction policy) and `Effects` (the scheduler's only window onto the world).
 * The scheduler never awaits, never sets timers and never does I/O: it decides, and asks Effects.
 */
import type { ObserveEvent } from "../observe/events.ts";
import type { ProcessState } from "../process/types.ts";
import type { RouteError, WaitUpdate } from "./types.ts";

/** One admitted-or-not request as the scheduler sees it. */
export interface RouteRequest {
  /** Unique per router; cancel and serve-done events name it. */
  id: number;
  /** The model ID (aliases already resolved). */
  model: string;
  /** Epoch ms of arrival (Effects.now() when the request was made). */
  arrivedAt: number;
}

/** A committed swap: stop `evict` (already drained), then start `target`. */
export interface SwapOrder {
  id: number;
  target: string;
  evict: string[];
  /** Ids of the requests waiting on it when it was committed. */
  requests: number[];
  /** Where the target runs (the fit router); absent: wherever its command says. */
  placement?: Placement;
}

/** How a swap ended, as posted back to the loop. */
export type SwapOutcome =
  | { kind: "ready" }
  | { kind: "failed"; error: RouteError; outOfMemory?: boolean }
  /** Nobody wanted it any more when the target was about to start: nothing was started. */
  | { kind: "abandoned" };

/** An unload (admin, TTL or shutdown) as the scheduler sees it. */
export interface UnloadOrder {
  /** Ticket: `Effects.unloadFinished(id)` is called once every target is stopped. */
  id: number;
  /** Model IDs; `null` = every model. */
  models: string[] | null;
  /** TTL unloads: only models with nothing in flight, queued, loading or draining are stopped. */
  onlyIfIdle: boolean;
}

/** Why models are stopped outside a swap. */
export type StopReason = "unload" | "shutdown";

/** Per-model routing counters (for status endpoints). */
export interface ModelRouting {
  inFlight: number;
  /** Requests queued or waiting on a swap for this model. */
  queued: number;
  /** Epoch ms since when the model stops taking new work (draining), or null. */
  drainingSince: number | null;
}

/** Pure state machine: every method runs on the run loop, synchronously. */
export interface Scheduler {
  /** A new request: refuse it (404, 429, shutting down), grant it, join a swap, queue it or start a swap. */
  onRequest(req: RouteRequest): void;
  /** The client left: a queued or waiting request is removed and rejected with `cancelled`. */
  onCancel(id: number): void;
  /** A swap started by `Effects.startSwap` ended. */
  onSwapDone(swapId: number, outcome: SwapOutcome): void;
  /** A granted request finished (its `done()`); ignored for severed or unknown ids. */
  onServeDone(id: number): void;
  /** Drain (bounded) and stop models; `Effects.unloadFinished(order.id)` when they are stopped. */
  onUnload(order: UnloadOrder): void;
  /** One `Effects.stopModels` stop of `model` completed. */
  onUnloadDone(model: string): void;
  /** Refuse new work, fail every waiter, drain (bounded) and stop every model; ticket as for unload. */
  onShutdown(ticket: number): void;
  /** The timer requested through `Effects.setTimer` fired. */
  onTimer(): void;
  /** Something outside changed a model's state (a crash): re-examine the queue. */
  onStateChange(model: string): void;
  /** Counters for one model (read-only). */
  routing(model: string): ModelRouting;
  /** Epoch ms of the model's last grant or finished request; 0 = never (read-only; the fit router's LRU). */
  lastUsed?(model: string): number;
}

/** What a swapper may read of the routing state (placement by memory uses it; groups and matrix do not). */
export interface SwapView {
  inFlight(model: string): number;
  /** Epoch ms of the model's last grant or finished request; 0 = never. */
  lastUsed(model: string): number;
}

/** Where a swap's target runs (the fit router): device IDs and the GPU indices to expose. */
export interface Placement {
  devices: string[];
  gpus: number[];
  /** Whether any GPU was known to the plan (detected or declared). */
  gpusKnown?: boolean;
}

/** Pure eviction policy. */
export interface Swapper {
  /** Running models (from `running`) that must stop for `target` to run. Pure: no logging, no state. */
  evictionFor(target: string, running: readonly string[], view?: SwapView): string[];
  /** Called exactly once when a swap is committed, with the `running` set it was decided on. May log; may say where the target runs. */
  onSwapStart(target: string, running: readonly string[], view?: SwapView): Placement | void;
  /** A reason `target` can never run (it fits no device), checked at admission; null when it can. */
  refusal?(target: string): string | null;
  /** `target`'s start died of memory: raise its figure; true when a retry (after evicting more) makes sense. */
  onOutOfMemory?(target: string): boolean;
}

/** The scheduler's only way to touch the world. */
export interface Effects {
  /** The model's process state, or null when this router does not handle it. */
  modelState(model: string): ProcessState | null;
  /** Every model whose process is not stopped (starting, ready, stopping). */
  runningModels(): string[];
  /** Launch a swap outside the loop; its end comes back as `onSwapDone(order.id, …)`. */
  startSwap(order: SwapOrder): void;
  /** Whether anybody still waits on the swap; an unwanted swap does not start its target. */
  setSwapWanted(swapId: number, wanted: boolean): void;
  /** Hand the request its grant. False = the client already left (then it is not in flight). */
  grantServe(req: RouteRequest, model: string): boolean;
  /** Reject the request with `error`. */
  grantError(req: RouteRequest, error: RouteError): void;
  /** Tell a waiting request its queue position or loading status. */
  publish(req: RouteRequest, update: WaitUpdate): void;
  /**
   * The model's in-flight set became non-empty (true) or empty (false). The scheduler's set is the
   * only in-flight count; this edge is what the supervisor's TTL clock needs from it.
   */
  modelBusy(model: string, busy: boolean): void;
  /** Cut granted requests of `model` whose drain deadline passed (their `severed` signal fires). */
  sever(model: string, reqs: RouteRequest[], error: RouteError): void;
  /** Stop models outside a swap; each completion comes back as `onUnloadDone(model)`. */
  stopModels(models: string[], reason: StopReason): void;
  /** Every model of the unload (or shutdown) ticket is stopped. */
  unloadFinished(ticket: number): void;
  /** Tell observers what happened (must never block or throw: the loop is waiting). */
  observe(event: ObserveEvent): void;
  /** Ask for one `onTimer` at `atMs` (epoch ms); a later call replaces it, null cancels. */
  setTimer(atMs: number | null): void;
  /** Current time, epoch ms. */
  now(): number;
  /** Config reload: `model`'s old process is stopped; install its new settings (a new supervisor) now. */
  replaceModel(model: string): void;
  /** Config reload: `model` was removed and its process is stopped; forget it. */
  retireModel(model: string): void;
  /**
   * Config reload: `model` was removed while it loads; stop the load (its swap then ends as
   * failed, through onSwapDone) instead of waiting out a load nobody wants.
   */
  abortStart(model: string): void;
}

/** What the schedulers need from the configuration. */
export interface SchedulerSettings {
  /** Every model the router handles. */
  models: readonly string[];
  /** Max requests reserved per model (queued + waiting + serving). */
  concurrencyLimit(model: string): number;
  /** Seconds an evicted or unloaded model waits for in-flight requests before severing them. */
  drainTimeoutSec(model: string): number;
  /** Queue priority (higher first; fifo only). */
  priority(model: string): number;
  /** Seconds the oldest queued request may wait behind busy models; 0 = unbounded (fifo only). */
  maxWaitSec: number;
}

/** Default concurrency limit when a model sets none (llama-swap's value). */
export const DEFAULT_CONCURRENCY_LIMIT = 10;
