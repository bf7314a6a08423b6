/**
 * What the UI knows of the server, live: one `/api/events` connection (models, logs, in-flight
 * requests, activity ids, and switchyard's own queue, swap, drain and load events) and a poll of
 * `/running` for queue and drain counts. Pages read these signals; nothing here blocks.
 */
import { signal } from "@preact/signals";
import { ApiError, apiFetch, apiJson, errorMessage, needKey } from "./api.ts";
import { readSse } from "./sse.ts";
import type { InflightEntry } from "../../observe/inflight.ts";

export type { InflightEntry };

/** One model as llama-swap's modelStatus lists it. */
export interface ApiModel {
  id: string;
  name: string;
  description: string;
  state: string;
  unlisted: boolean;
  peerID: string;
  aliases?: string[];
}

/** One entry of `/running` (switchyard adds the routing counters). */
export interface RunningModel {
  model: string;
  state: string;
  cmd: string;
  proxy: string;
  ttl: number;
  name: string;
  description: string;
  pid: number | null;
  inFlight: number;
  queued: number;
  draining: boolean;
  drainingSince: string | null;
  /** (fit router) The model's memory figure, where it sits and its source. */
  memory?: { bytes: number; perDevice: Record<string, number>; source: string };
}

/** (fit router) One device of `/running`: its budget and use. */
export type DeviceStatus = import("../../placement/memory-status.ts").DeviceStatus;

/** A switchyard event as /api/events sends it (queue, swap, drain, load, request, ttl, crash). */
export interface RouterEvent {
  kind: string;
  type: string;
  model?: string;
  target?: string;
  at: number;
  [k: string]: unknown;
}

/** The `ui` settings of the config. */
export interface UiConfig {
  activity: { session_id: string[] };
}

const LOG_KEEP = 256 * 1024;
const EVENTS_KEEP = 300;

export const connected = signal(false);
export const models = signal<ApiModel[]>([]);
export const running = signal<RunningModel[]>([]);
/** (fit router) The devices and their memory, from `/running`; [] for other routers. */
export const devices = signal<DeviceStatus[]>([]);
export const logs = { proxy: signal(""), upstream: signal("") };
export const inflight = signal<Map<string, InflightEntry>>(new Map());
/** Bumped on each finished activity record: pages that show records refetch. */
export const activitySeq = signal(0);
export const routerEvents = signal<RouterEvent[]>([]);
/** Bumped on each config reload (`configReload`), and when a lost message or a reconnect may have hidden one: pages that show the config refetch. */
export const configSeq = signal(0);
/** The active profile (`profileChanged`), or null for none. */
export const activeProfile = signal<string | null>(null);

export const uiConfig = signal<UiConfig>({ activity: { session_id: [] } });
/** When each model's current load started (epoch ms), from load events. */
export const loadStarted = signal<Record<string, number>>({});

/** Log text not yet in the signals: a chatty model sends dozens of messages a second. */
const pendingLog = { proxy: "", upstream: "" };
let logFlush: ReturnType<typeof setTimeout> | null = null;
/** How often the log signals change at most: each change re-renders a whole log panel. */
const LOG_FLUSH_MS = 200;

function flushLogs(): void {
  logFlush = null;
  for (const which of ["proxy", "upstream"] as const) {
    const text = pendingLog[which];
    if (text === "") continue;
    pendingLog[which] = "";
    const s = logs[which];
    const next = s.value + text;
    s.value = next.length > LOG_KEEP ? next.slice(next.length - LOG_KEEP) : next;
  }
}

function appendLog(which: "proxy" | "upstream", text: string): void {
  // Batched: a panel re-filters and re-colours its whole text on each change, which at 80 lines a
  // second (a model printing progress) froze the page once the buffer was full.
  pendingLog[which] += text;
  logFlush ??= setTimeout(flushLogs, LOG_FLUSH_MS);
}

function onMessage(type: string, data: unknown): void {
  switch (type) {
    case "modelStatus":
      models.value = data as ApiModel[];
      return;
    case "logData": {
      const d = data as { source: "proxy" | "upstream"; data: string };
      if (d.source === "proxy" || d.source === "upstream") appendLog(d.source, d.data);
      return;
    }
    case "activity":
      activitySeq.value++;
      return;
    case "gap":
      // Messages were missed (a slow reader): an activity id (or a config reload) among them would be lost for good.
      activitySeq.value++;
      configSeq.value++;
      return;
    case "configReload":
      configSeq.value++;
      return;
    case "uiConfig":
      uiConfig.value = data as UiConfig;
      return;
    case "profileChanged":
      activeProfile.value = (data as { active: string | null }).active ?? null;
      return;
    case "inflight": {
      const u = data as { operation: string; requests?: InflightEntry[]; request?: InflightEntry; id?: string };
      const next = u.operation === "snapshot" ? new Map<string, InflightEntry>() : new Map(inflight.value);
      if (u.operation === "snapshot") for (const r of u.requests ?? []) next.set(r.id, r);
      else if (u.operation === "upsert" && u.request) next.set(u.request.id, u.request);
      else if (u.operation === "remove" && u.id) next.delete(u.id);
      inflight.value = next;
      return;
    }
    case "queue":
    case "swap":
    case "drain":
    case "load":
    case "request":
    case "ttl":
    case "crash": {
      const ev = { kind: type, ...(data as object) } as RouterEvent;
      if (type === "load" && ev.type === "load-start" && ev.model) loadStarted.value = { ...loadStarted.value, [ev.model]: ev.at };
      // request events are many: keep only the ones that end badly.
      if (type === "request" && !["refused", "cancelled", "severed"].includes(String(ev.phase))) return;
      const list = [...routerEvents.value, ev];
      routerEvents.value = list.length > EVENTS_KEEP ? list.slice(list.length - EVENTS_KEEP) : list;
      return;
    }
  }
}

let started = false;

/** Open the event stream (reconnecting) and start polling /running; idempotent. */
export function startStore(): void {
  if (started) return;
  started = true;
  void follow();
  void pollRunning();
}

async function follow(): Promise<void> {
  let connects = 0;
  for (let backoff = 500; ; backoff = Math.min(backoff * 2, 5000)) {
    try {
      const res = await apiFetch("/api/events");
      if (res.ok && res.body) {
        connected.value = true;
        backoff = 500;
        // A reconnect may follow a reload (or a restart with another config) this page never heard of.
        if (connects++ > 0) configSeq.value++;
        // A reconnect starts over: history and snapshots come again, and the records that ended
        // while the stream was down (or before a server restart) are fetched again; the router's
        // events of before (a drain that never heard its end) are let go.
        logs.proxy.value = "";
        logs.upstream.value = "";
        pendingLog.proxy = "";
        pendingLog.upstream = "";
        routerEvents.value = [];
        activitySeq.value++;
        await readSse(res, (text) => {
          const env = JSON.parse(text) as { type: string; data: string };
          onMessage(env.type, JSON.parse(env.data));
        });
      }
    } catch {}
    connected.value = false;
    // Waiting for a key: try again once one is typed.
    while (needKey.value) await new Promise((r) => setTimeout(r, 300));
    await new Promise((r) => setTimeout(r, backoff));
  }
}

async function pollRunning(): Promise<void> {
  for (;;) {
    try {
      if (!needKey.value) {
        const r = await apiJson<{ running: RunningModel[]; devices?: DeviceStatus[] }>("/running");
        running.value = r.running;
        devices.value = r.devices ?? [];
      }
    } catch {}
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Ask the server to load a model and wait until it is ready; a failure throws with the server's message. */
export async function loadModel(id: string): Promise<void> {
  // switchyard's own endpoint: a load through the router that touches no backend path
  // (llama-swap's UI fetches /upstream/<model>/, which a backend may answer with a 404).
  const res = await apiFetch(`/api/models/load/${encodeURIComponent(id)}`, { method: "POST" });
  if (!res.ok) throw new ApiError(res.status, await errorMessage(res));
  await res.body?.cancel();
}

/** Drain and stop one model. */
export async function unloadModel(id: string): Promise<void> {
  const res = await apiFetch(`/api/models/unload/${encodeURIComponent(id)}`, { method: "POST" });
  await res.body?.cancel();
}
