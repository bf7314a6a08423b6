/**
 * `GET /api/events`: llama-swap's live event stream, in its envelope
 * (`event:message` + `data:{"type":…,"data":"<JSON text>"}`), so its web UI and the third-party
 * tools that read it work unchanged: `modelStatus` (every model and peer model with its state,
 * sent at start and on every state change), `logData` (proxy and upstream history, then live
 * text), `activity` (the id of each finished record), `inflight` (a snapshot, then upserts and
 * removes), `uiConfig` (the `ui` settings) and `profileChanged` (`{"active":<profile or null>}`,
 * at start and on every change). Beyond llama-swap, what only switchyard knows, each as the observation's JSON: `request`
 * (admitted, granted, finished, refused, cancelled, severed), `queue` (position), `swap` (start
 * with the evicted models and the reason; end with the outcome and duration), `drain` (start,
 * end with the severed count), `load` (start, ready, failed), `ttl` and `crash`.
 *
 * A reader that falls behind never slows anything: observations beyond its queue are dropped and
 * it gets one `gap` message with the count, then a fresh `inflight` snapshot; log text beyond the log follower's budget is dropped
 * with the log's own marker. Web-standard.
 */
import type { ObserveEvent } from "../observe/events.ts";
import type { Broadcast, Delivery } from "../observe/broadcast.ts";
import { renderCapabilities } from "./model-list.ts";
import type { HttpContext } from "./context.ts";

/** Observations one reader may have waiting before it loses some. */
const MAX_QUEUED = 1024;

/** The envelope type of each observation (llama-swap's types first; ours after). */
function messageType(ev: ObserveEvent): string {
  switch (ev.type) {
    case "swap-start":
    case "swap-end":
      return "swap";
    case "drain-start":
    case "drain-end":
      return "drain";
    case "load-start":
    case "load-ready":
    case "load-failed":
      return "load";
    case "ttl-unload":
      return "ttl";
    case "config-reload":
      return "configReload";
    default:
      return ev.type;
  }
}

/** One entry of llama-swap's modelStatus payload. */
interface ApiModel {
  id: string;
  name: string;
  description: string;
  state: string;
  unlisted: boolean;
  peerID: string;
  aliases?: string[];
  /** The flags /v1/models shows (vision, function_calling, ...), when the model declares capabilities. */
  capabilities?: Record<string, boolean>;
  /** capabilities.context, when given. */
  context_length?: number;
  /** (switchyard, fit router) The model's memory figure and its source. */
  memory?: { bytes: number; source: string };
}

/**
 * Every local model (sorted by ID) with its state, then every peer model. `changed` is the state
 * change this snapshot answers: that model shows the state it changed to, even if it has moved
 * on by the time the reader gets the message, so a reader sees every step in order.
 */
export function modelStatus(ctx: HttpContext, changed?: { model: string; to: string }): ApiModel[] {
  // The fit router: each model's figure (switchyard's field; llama-swap's readers ignore it).
  const memory = ctx.router.memory?.()?.models ?? null;
  // A model a reload removed is listed while its process still runs (its drain), then drops out.
  const draining = ctx.router
    .status()
    .filter((s) => !Object.hasOwn(ctx.config.models, s.model) && s.state !== "stopped" && s.state !== "shutdown" && ctx.process(s.model)?.config)
    .map((s) => s.model);
  const out: ApiModel[] = [...Object.keys(ctx.config.models), ...draining]
    .sort()
    .map((id) => {
      const m = ctx.config.models[id] ?? ctx.process(id)!.config!;
      const caps = renderCapabilities(m.capabilities);
      return {
        id,
        name: m.name,
        description: m.description,
        state: changed?.model === id ? changed.to : ctx.stateOf(id),
        unlisted: m.unlisted,
        peerID: "",
        ...(m.aliases.length > 0 ? { aliases: m.aliases } : {}),
        ...(caps.capabilities ? { capabilities: caps.capabilities } : {}),
        ...(caps.context_length ? { context_length: caps.context_length } : {}),
        ...(memory?.[id] ? { memory: { bytes: memory[id].bytes, source: memory[id].source } } : {}),
      };
    });
  for (const t of ctx.peers.list()) out.push({ id: `${t.peer.id}/${t.model}`, name: "", description: "", state: "", unlisted: false, peerID: t.peer.id });
  return out;
}

/** The SSE response of one `/api/events` reader. */
export function apiEventsResponse(ctx: HttpContext, events: Broadcast<ObserveEvent> | null, request: Request): Response {
  const encoder = new TextEncoder();
  const unsubscribe: (() => void)[] = [];
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  // Every source waiting for room (the events, each log follower): one slot would strand all but the last.
  let rooms: (() => void)[] = [];
  const wake = (): void => {
    const waiting = rooms;
    rooms = [];
    for (const r of waiting) r();
  };
  let closed = false;

  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const u of unsubscribe) u();
    wake();
  };
  /** Queue one message; resolves once the reader has room again (so the source knows it is busy). */
  const send = (type: string, data: unknown): void | Promise<void> => {
    if (closed) return;
    controller.enqueue(encoder.encode(`event:message\ndata:${JSON.stringify({ type, data: JSON.stringify(data) })}\n\n`));
    if ((controller.desiredSize ?? 1) > 0) return;
    return new Promise<void>((resolve) => void rooms.push(resolve));
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        send("logData", { source: "proxy", data: ctx.logs.proxy.history() });
        send("logData", { source: "upstream", data: ctx.logs.upstream.history() });
        send("modelStatus", modelStatus(ctx));
        send("uiConfig", ctx.config.ui);
        send("profileChanged", { active: ctx.names.active() });
        const inflightSnapshot = (): void | Promise<void> => send("inflight", { operation: "snapshot", requests: ctx.activity?.inflight() ?? [] });
        inflightSnapshot();
        unsubscribe.push(ctx.logs.proxy.subscribe((text) => send("logData", { source: "proxy", data: text })));
        unsubscribe.push(ctx.logs.upstream.subscribe((text) => send("logData", { source: "upstream", data: text })));
        if (events) {
          const onDelivery = (d: Delivery<ObserveEvent>): void | Promise<void> => {
            // Missed in-flight updates would leave the reader's table wrong: a snapshot replaces them.
            if (d.kind === "gap") {
              send("gap", { dropped: d.dropped });
              return inflightSnapshot();
            }
            if (d.event.type === "inflight") return send("inflight", d.event.update);
            if (d.event.type === "model-state") return send("modelStatus", modelStatus(ctx, d.event));
            // As llama-swap after a config change: the model list again (models may have come or gone).
            if (d.event.type === "config-reload" && d.event.ok) {
              send("configReload", d.event);
              return send("modelStatus", modelStatus(ctx));
            }
            // llama-swap sends only the id; its clients fetch the record from /api/metrics/activity.
            if (d.event.type === "activity") return send("activity", { id: d.event.record.id });
            if (d.event.type === "profile") return send("profileChanged", { active: d.event.active });
            return send(messageType(d.event), d.event);
          };
          unsubscribe.push(events.subscribe(onDelivery, { maxQueued: MAX_QUEUED }));
        }
        if (request.signal.aborted) close();
        else request.signal.addEventListener("abort", close, { once: true });
      },
      pull() {
        wake();
      },
      cancel: close,
    },
    // Room for a burst of messages; beyond it the sources see the reader as busy.
    { highWaterMark: 64 },
  );
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "x-accel-buffering": "no",
    },
  });
}
