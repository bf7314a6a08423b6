/**
 * What switchyard tells its observers: one typed event for each thing that happens to a request,
 * a model's process, a swap or a drain. The run loop publishes the routing events (through
 * `Effects.observe`), the supervisors' own events are bridged in, and the proxy reports how each
 * response ended. Plain data only, so any consumer (activity, metrics, `/api/events`, a store)
 * can keep or forward them (web-standard).
 */
import type { ActivityRecord } from "./activity.ts";
import type { InflightUpdate } from "./inflight.ts";

/** Why a swap was committed. */
export type SwapReason =
  /** The target was not running and nothing had to go. */
  | "cold-start"
  /** Running models had to go for the target (the swapper's group or matrix rule). */
  | "evict";

/** How a request left the router. */
export type RequestPhase =
  /** Admitted: it holds a place against the model's concurrencyLimit. */
  | "admitted"
  /** Granted: it may be forwarded now. */
  | "granted"
  /** Its response ended (done() was called). */
  | "finished"
  /** Refused before any byte (unknown model, over the limit, shutting down, start failed, unloaded). */
  | "refused"
  /** Its client left before it was served. */
  | "cancelled"
  /** Cut in-band at a drain deadline. */
  | "severed";

/** Everything observers hear. `at` is epoch ms. */
export type ObserveEvent =
  | { type: "request"; id: number; model: string; phase: RequestPhase; at: number; error?: { kind: string; message: string } }
  | { type: "queue"; id: number; model: string; position: number; loading: boolean; at: number }
  | { type: "swap-start"; swapId: number; target: string; evict: string[]; reason: SwapReason; at: number; devices?: string[] }
  | { type: "swap-end"; swapId: number; target: string; outcome: "ready" | "failed" | "abandoned"; ms: number; at: number }
  | { type: "drain-start"; model: string; cause: "evict" | "unload" | "reload" | "shutdown"; inFlight: number; deadline: number; at: number }
  | { type: "drain-end"; model: string; severed: number; at: number }
  | { type: "model-state"; model: string; from: string; to: string; at: number }
  | { type: "load-start"; model: string; at: number }
  | { type: "load-ready"; model: string; ms: number; at: number }
  | { type: "load-failed"; model: string; ms: number; at: number }
  | { type: "ttl-unload"; model: string; at: number }
  | { type: "crash"; model: string; exitCode: number | null; signal: string | null; at: number }
  /** A proxied request's record is finished (observe/activity.ts). */
  | { type: "activity"; record: ActivityRecord }
  /** The open requests changed (observe/inflight.ts): one arrived, moved on, sent bytes or ended. */
  | { type: "inflight"; update: InflightUpdate }
  /**
   * A config reload was applied (`ok`, with what changed) or refused (the errors, each with its key
   * path and line; nothing changed). `trigger`: api, signal (SIGHUP) or watch (--watch-config).
   */
  /** (fit router) A model was measured after its load: its figure now, where it came from, and whether the measurement raised it. */
  | { type: "memory"; model: string; perDevice: Record<string, number>; bytes: number; source: string; method: string; raised: boolean; at: number }
  /** The active profile changed (PUT /api/profiles/active, or none after a reload). */
  | { type: "profile"; active: string | null; at: number }
  | { type: "config-reload"; ok: boolean; trigger: string; changes: string; errors: { path: string; line: number | null; message: string; file?: string }[]; at: number };
