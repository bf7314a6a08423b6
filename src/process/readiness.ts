/**
 * Readiness polling: GET `<url>` until it answers 200. Probes start about 10 ms apart and back
 * off to at most `maxDelayMs`; each probe has its own short timeout, so a server that accepts
 * the connection but hangs cannot stall the loop past the deadline. Web-standard only.
 */
import { sleep } from "./abortable-sleep.ts";

/** Tuning of the probe loop. */
export interface ProbeTuning {
  /** First gap between probes (ms). */
  initialDelayMs: number;
  /** Largest gap between probes (ms). */
  maxDelayMs: number;
  /** Gap growth per probe. */
  factor: number;
  /** Timeout of one probe (ms). */
  probeTimeoutMs: number;
}

/** Defaults: 10 ms growing by 1.5× to 20 ms (readiness is seen within 20 ms of the first 200: the
 * benchmarks' ready-to-first-byte target is a p50 of 25 ms, which a 50 ms gap missed), 1 s per probe. */
export const DEFAULT_PROBE_TUNING: ProbeTuning = { initialDelayMs: 10, maxDelayMs: 20, factor: 1.5, probeTimeoutMs: 1000 };

/** What waitForReady needs. */
export interface ReadinessOptions extends Partial<ProbeTuning> {
  url: string;
  fetch: typeof fetch;
  /** Aborting rejects the wait with the signal's reason. */
  signal: AbortSignal;
  /** Absolute deadline on the `now` clock (ms). */
  deadline: number;
  now: () => number;
  /** Waits between probes (default: an abortable timer); tests record the schedule through it. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Poll until the endpoint answers 200 ("ready") or the deadline passes ("timeout"). */
export async function waitForReady(opts: ReadinessOptions): Promise<"ready" | "timeout"> {
  const tuning = { ...DEFAULT_PROBE_TUNING, ...definedOnly(opts) };
  let delay = tuning.initialDelayMs;
  for (;;) {
    const remaining = opts.deadline - opts.now();
    if (remaining <= 0) return "timeout";
    await (opts.sleep ?? sleep)(Math.min(delay, remaining), opts.signal);
    delay = Math.min(tuning.maxDelayMs, delay * tuning.factor);
    const left = opts.deadline - opts.now();
    if (left <= 0) return "timeout";
    if (await probe(opts, Math.min(tuning.probeTimeoutMs, left))) return "ready";
  }
}

/** One GET; true on HTTP 200. Rejects only when the caller's signal aborted. */
async function probe(opts: ReadinessOptions, timeoutMs: number): Promise<boolean> {
  try {
    const res = await opts.fetch(opts.url, {
      signal: AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)]),
      headers: { accept: "application/json" },
    });
    await res.body?.cancel().catch(() => {});
    return res.status === 200;
  } catch {
    if (opts.signal.aborted) throw opts.signal.reason;
    return false;
  }
}

function definedOnly(opts: Partial<ProbeTuning>): Partial<ProbeTuning> {
  const out: Partial<ProbeTuning> = {};
  for (const k of ["initialDelayMs", "maxDelayMs", "factor", "probeTimeoutMs"] as const) {
    if (opts[k] !== undefined) out[k] = opts[k];
  }
  return out;
}
