/** What the Models pages derive from the live store and `/api/config`: groups, loads, drains, swaps, waiting requests. */
import { signal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { Config } from "../../config/types.ts";
import { apiFetch, apiJson, apiKey, errorMessage } from "../lib/api.ts";
import { configSeq, loadStarted, type InflightEntry, type RouterEvent, type RunningModel } from "../lib/store.ts";

/** The resolved config as `/api/config` answers it (secrets masked), once fetched. */
export const serverConfig = signal<Config | null>(null);
/** Why the last `/api/config` fetch failed, or "". */
export const serverConfigError = signal("");

/** Fetch `/api/config` on mount (each visit: the config is small), again once a key is typed, after each config reload and when `id` (the page's model) changes; return what is known. */
export function useServerConfig(id = ""): Config | null {
  const key = apiKey.value;
  const seq = configSeq.value;
  useEffect(() => {
    apiJson<{ config: Config }>("/api/config").then(
      (r) => {
        serverConfig.value = r.config;
        serverConfigError.value = "";
      },
      (err: unknown) => (serverConfigError.value = err instanceof Error ? err.message : String(err)),
    );
  }, [key, seq, id]);
  return serverConfig.value;
}

/** A clock that ticks while some component shows a countdown or elapsed time. */
const nowSignal = signal(Date.now());
let tickUsers = 0;
let ticker: ReturnType<typeof setInterval> | null = null;

/** The current time (epoch ms), re-rendering the caller every half second. */
export function useNow(): number {
  useEffect(() => {
    tickUsers++;
    ticker ??= setInterval(() => (nowSignal.value = Date.now()), 500);
    return () => {
      if (--tickUsers === 0 && ticker !== null) {
        clearInterval(ticker);
        ticker = null;
      }
    };
  }, []);
  return nowSignal.value;
}

const narrowQuery = typeof matchMedia === "function" ? matchMedia("(max-width: 640px)") : null;
const narrowSignal = signal(narrowQuery?.matches ?? false);
narrowQuery?.addEventListener("change", (e) => (narrowSignal.value = e.matches));

/** True at phone width: the pages show cards instead of tables. */
export const isNarrow = (): boolean => narrowSignal.value;

/** A group or matrix set a model belongs to. */
export interface Membership {
  label: string;
  title: string;
}

/** The routing groups (group router) or matrix sets that name `id`. */
export function membershipsOf(config: Config | null, id: string): Membership[] {
  if (!config) return [];
  const r = config.routing;
  if (r.router === "matrix" && r.matrix) {
    // One compiled entry per set, with every model it mentions.
    return r.matrix.compiled.filter((s) => s.models.includes(id)).map((s) => ({ label: `set ${s.set}`, title: `matrix set ${s.set}: ${s.dsl}` }));
  }
  return r.groups
    .filter((g) => g.members.includes(id))
    .map((g) => ({
      label: g.id,
      title: `group ${g.id}: ${g.swap ? "one member at a time" : "members run together"}${g.exclusive ? ", exclusive" : ""}${g.persistent ? ", persistent" : ""}`,
    }));
}

/** The events of one model (its `model` or a swap's `target`/`evict`), oldest first. */
export function eventsOf(events: readonly RouterEvent[], id: string): RouterEvent[] {
  return events.filter((e) => e.model === id || e.target === id || (Array.isArray(e.evict) && (e.evict as unknown[]).includes(id)));
}

const lastOf = (events: readonly RouterEvent[], pred: (e: RouterEvent) => boolean): RouterEvent | undefined => {
  for (let i = events.length - 1; i >= 0; i--) if (pred(events[i])) return events[i];
  return undefined;
};

/** The median of some numbers, or null. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Where a model's current load stands. */
export interface LoadProgress {
  /** Ms since the load started, or null when this session did not see it start. */
  elapsedMs: number | null;
  /** The median of this session's load times of the model, or null on its first load. */
  etaMs: number | null;
  /** How many loads the estimate comes from. */
  samples: number;
}

/** The current load of `id`: elapsed from `loadStarted` (or its oldest loading request), ETA from past load-ready times. */
export function loadProgressOf(events: readonly RouterEvent[], id: string, waiting: readonly InflightEntry[], now: number): LoadProgress {
  const mine = events.filter((e) => e.kind === "load" && e.model === id);
  const times = mine.filter((e) => e.type === "load-ready" && typeof e.ms === "number").map((e) => e.ms as number);
  const started = loadStarted.value[id];
  const ended = lastOf(mine, (e) => e.type === "load-ready" || e.type === "load-failed");
  let elapsedMs: number | null = started !== undefined && (!ended || ended.at <= started) ? Math.max(0, now - started) : null;
  if (elapsedMs === null) {
    // Connected mid-load: the oldest request waiting on the load is a lower bound.
    const loading = waiting.filter((e) => e.state === "loading").map((e) => elapsedOf(e, now));
    if (loading.length > 0) elapsedMs = Math.max(...loading);
  }
  return { elapsedMs, etaMs: median(times), samples: times.length };
}

/** A drain in progress: what it started with and when it severs. */
export interface DrainInfo {
  inFlight: number;
  deadline: number;
  cause: string;
  at: number;
}

/** The drain of `id` that started and has not ended, or null. */
export function drainOf(events: readonly RouterEvent[], id: string): DrainInfo | null {
  const last = lastOf(events, (e) => e.kind === "drain" && e.model === id);
  if (!last || last.type !== "drain-start") return null;
  return { inFlight: Number(last.inFlight ?? 0), deadline: Number(last.deadline ?? last.at), cause: String(last.cause ?? ""), at: last.at };
}

/** Why a model is down, when its last load failed or its process crashed since its last good load. */
export function failureOf(events: readonly RouterEvent[], id: string): { text: string; at: number } | null {
  const last = lastOf(events, (e) => e.model === id && ((e.kind === "load" && e.type !== undefined) || e.kind === "crash"));
  if (!last) return null;
  if (last.type === "load-failed") return { text: `load failed after ${Math.round(Number(last.ms ?? 0) / 100) / 10} s`, at: last.at };
  if (last.kind === "crash") {
    const how = last.signal ? `signal ${String(last.signal)}` : `exit ${last.exitCode === null || last.exitCode === undefined ? "?" : String(last.exitCode)}`;
    return { text: `crashed (${how})`, at: last.at };
  }
  return null;
}

/** The last swap that loaded or evicted a model, with its end when known. */
export interface SwapInfo {
  at: number;
  target: string;
  evict: string[];
  reason: string;
  outcome: string | null;
  ms: number | null;
}

/** Every swap this session saw, oldest first. */
export function swapsOf(events: readonly RouterEvent[]): SwapInfo[] {
  const out: SwapInfo[] = [];
  const byId = new Map<unknown, SwapInfo>();
  for (const e of events) {
    if (e.kind !== "swap") continue;
    if (e.type === "swap-start") {
      const s: SwapInfo = { at: e.at, target: String(e.target ?? ""), evict: Array.isArray(e.evict) ? (e.evict as unknown[]).map(String) : [], reason: String(e.reason ?? ""), outcome: null, ms: null };
      out.push(s);
      byId.set(e.swapId, s);
    } else if (e.type === "swap-end") {
      const s = byId.get(e.swapId);
      if (s) {
        s.outcome = String(e.outcome ?? "");
        s.ms = typeof e.ms === "number" ? e.ms : null;
      }
    }
  }
  return out;
}

/** The last swap that touched `id`, or null. */
export function lastSwapOf(swaps: readonly SwapInfo[], id: string): SwapInfo | null {
  for (let i = swaps.length - 1; i >= 0; i--) if (swaps[i].target === id || swaps[i].evict.includes(id)) return swaps[i];
  return null;
}

/** When each in-flight entry object was first seen here, so elapsed times tick without trusting the server's clock. */
const seenAt = new WeakMap<InflightEntry, number>();

/** An in-flight request's elapsed ms now: its elapsed_ms plus the time since that value arrived. */
export function elapsedOf(e: InflightEntry, now: number): number {
  let t = seenAt.get(e);
  if (t === undefined) {
    t = Date.now();
    seenAt.set(e, t);
  }
  return e.elapsed_ms + Math.max(0, now - t);
}

/** A model's requests now: the waiting ones (queued or loading, next first) and the counts. */
export interface ModelLoad {
  waiting: InflightEntry[];
  queued: number;
  inFlight: number;
}

/** The in-flight entries of `id` (or its aliases) merged with its `/running` counters. */
export function requestsOf(entries: Iterable<InflightEntry>, run: RunningModel | undefined, id: string, aliases: readonly string[] = []): ModelLoad {
  const waiting: InflightEntry[] = [];
  let serving = 0;
  for (const e of entries) {
    if (e.peer || (e.model !== id && !aliases.includes(e.model))) continue;
    if (e.state === "serving") serving++;
    else waiting.push(e);
  }
  // Loading ones first (position 0), then by queue position, then by arrival.
  waiting.sort((a, b) => a.queue_position - b.queue_position || a.timestamp.localeCompare(b.timestamp));
  return { waiting, queued: Math.max(run?.queued ?? 0, waiting.length), inFlight: Math.max(run?.inFlight ?? 0, serving) };
}

/** POST to an admin route; resolves to an error message or "". */
export async function postAdmin(path: string): Promise<string> {
  try {
    const res = await apiFetch(path, { method: "POST" });
    if (!res.ok) return await errorMessage(res);
    await res.body?.cancel();
    return "";
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
