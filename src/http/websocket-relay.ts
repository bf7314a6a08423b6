/**
 * WebSocket passthrough for `/upstream/<model>/…` and `/comfyui/…`. The client's upgrade is
 * answered only once the upstream socket is open, so a refusal is an ordinary HTTP error; then
 * every message goes across as it came (text as text, binary as binary), and a close from either
 * end closes the other with its code and reason. A model's grant is held for the socket's life
 * and released once, when the first end closes. With llama-swap's `compat.ignoreWebsockets` the
 * socket takes no grant: it cannot load the model (409 unless it is ready) and does not keep it
 * busy, so TTL, concurrency and swaps ignore it (a swap drops it). Web-standard: the server's
 * upgrade and the upstream client with handshake headers come from the edge (`http/app.ts`).
 */
import type { Logger } from "../log/types.ts";
import { cancelledBy } from "../router/types.ts";
import type { HttpContext, Target } from "./context.ts";
import { errorResponse, toErrorResponse } from "./errors.ts";
import { stripHopByHop } from "./hop-by-hop.ts";
import type { ClientInfo } from "./model-routes.ts";
import { peerHeaders, peerUrl } from "./peers.ts";

/** The client's end of an upgraded connection (Bun's ServerWebSocket has this shape). */
export interface ClientSocket {
  /** Bytes sent, -1 when queued behind a backlog, 0 when dropped (the backlog is over its limit: Bun's ServerWebSocket). */
  send(data: string | Uint8Array): number;
  close(code?: number, reason?: string): void;
  /** Drop the connection without a close frame. */
  terminate(): void;
}

/** What the edge calls as the client's socket opens, speaks and closes. */
export interface ClientSocketEvents {
  open(ws: ClientSocket): void;
  message(ws: ClientSocket, data: string | Uint8Array): void;
  close(ws: ClientSocket, code: number, reason: string): void;
}

/** The server side of WebSockets, which web standards leave to the runtime. */
export interface WebSocketEdge {
  /** Answer `request` with 101 and `headers`, then deliver the socket's events; false when it cannot be upgraded. */
  upgrade(request: Request, events: ClientSocketEvents, headers: Headers): boolean;
  /** A client socket to `url` whose handshake sends `headers` (the standard constructor cannot). */
  connect(url: string, protocols: string[], headers: Headers): WebSocket;
}

/** True when the comma list `value` holds `token` (any case). */
function hasToken(value: string | null, token: string): boolean {
  return (value ?? "").split(",").some((part) => part.trim().toLowerCase() === token);
}

/** A WebSocket upgrade request: `Connection: upgrade` and `Upgrade: websocket` (llama-swap's IsWebSocketUpgrade). */
export function isWebSocketUpgrade(headers: Headers): boolean {
  return hasToken(headers.get("connection"), "upgrade") && hasToken(headers.get("upgrade"), "websocket");
}

/** Close codes an endpoint may send (RFC 6455 §7.4: 1004-1006 and 1015 are reserved, 1016-2999 unassigned). */
export function sendableCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** A close reason within the protocol's 123 bytes. */
function closeReason(text: string): string {
  const enc = new TextEncoder();
  let out = text;
  while (enc.encode(out).length > 123) out = out.slice(0, -1);
  return out;
}

/** What a closed end said, told to the other: its code and reason; no status as none; a dropped connection as a drop. */
function closeClient(ws: ClientSocket, code: number, reason: string): void {
  if (sendableCloseCode(code)) ws.close(code, reason);
  else if (code === 1005) ws.close();
  else ws.terminate();
}

function closeUpstream(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === WebSocket.CLOSING || ws.readyState === WebSocket.CLOSED) return;
  // The standard client cannot drop a connection: anything it may not send becomes a close without a status.
  if (sendableCloseCode(code)) ws.close(code, reason);
  else ws.close();
}

/** `http(s)://…` → `ws(s)://…`. */
export function webSocketUrl(httpUrl: string): string {
  return httpUrl.replace(/^http(s?):/i, "ws$1:");
}

/** The subprotocols the client asked for, in order. */
function protocolsOf(headers: Headers): string[] {
  return (headers.get("sec-websocket-protocol") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
}

/** Handshake headers that belong to one connection (the upstream client makes its own). */
const HANDSHAKE = ["host", "content-length", "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol", "sec-websocket-accept"];

/** Headers that describe the client's side of a proxy chain. */
const FORWARDING = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"];

/** One relay. */
export interface RelayOptions {
  /** The client's upgrade request (the very object the server handed us: only it can be upgraded). */
  request: Request;
  edge: WebSocketEdge;
  /** The upstream `ws://` or `wss://` URL. */
  url: string;
  /** Headers for the upstream handshake. */
  headers: Headers;
  /** Names the upstream in errors and logs (a model ID or peer). */
  label: string;
  /** Called exactly once: when the first end closes, or when the relay never opens. */
  release?: () => void;
  /** Aborted: both ends are closed (a drain deadline or an operator's cancel). */
  severed?: AbortSignal;
  log?: Logger;
}

/**
 * Open the upstream socket, then upgrade the client and relay until either end closes.
 * Resolves with our error envelope when the upstream refuses (502) or the client left (499);
 * after a successful upgrade with a response the server discards.
 */
export async function relayWebSocket(o: RelayOptions): Promise<Response> {
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    o.release?.();
  };
  let upstream: WebSocket;
  try {
    upstream = o.edge.connect(o.url, protocolsOf(o.request.headers), o.headers);
  } catch (err) {
    release();
    return errorResponse(502, `cannot open a WebSocket to ${o.label}: ${(err as Error)?.message ?? err}`, { code: "upstream_error" });
  }
  upstream.binaryType = "arraybuffer";

  let client: ClientSocket | null = null;
  let clientClosed = false;
  /** Upstream messages that arrive before the client's end is open, in order. */
  const early: (string | Uint8Array)[] = [];
  /** How the upstream closed, when it did before the client's end opened. */
  let closedEarly: { code: number; reason: string } | null = null;
  let settle: ((how: "open" | "failed" | "left") => void) | null = null;
  let failure = "";

  upstream.onopen = () => settle?.("open");
  upstream.onerror = (e) => {
    failure ||= (e as ErrorEvent).message || "connection failed";
  };
  /**
   * Hand one upstream message to the client. The standard client cannot pause its upstream, and
   * Bun drops a message (send answers 0) once the client's backlog passes its limit (16 MiB): a
   * gap the client would never see. Both ends are closed instead, said in-band and logged.
   */
  const deliver = (ws: ClientSocket, data: string | Uint8Array): void => {
    if (clientClosed || ws.send(data) !== 0) return;
    clientClosed = true;
    const text = "the client fell too far behind; closed rather than drop messages";
    o.log?.warn(`websocket ${o.label}: ${text}`);
    ws.close(1011, text);
    closeUpstream(upstream, 1001, "client too slow");
    release();
  };
  upstream.onmessage = (e: MessageEvent) => {
    const data = typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer);
    if (client) deliver(client, data);
    else early.push(data);
  };
  upstream.onclose = (e: CloseEvent) => {
    if (settle) {
      failure ||= `closed with ${e.code}${e.reason ? ` ${e.reason}` : ""}`;
      settle("failed");
      return;
    }
    release();
    o.log?.debug(`websocket ${o.label}: upstream closed (${e.code}${e.reason ? ` ${e.reason}` : ""})`);
    if (client && !clientClosed) closeClient(client, e.code, e.reason);
    else if (!client) closedEarly = { code: e.code, reason: e.reason };
  };

  const left = (): void => settle?.("left");
  o.request.signal.addEventListener("abort", left, { once: true });
  o.severed?.addEventListener("abort", left, { once: true });
  const how = await new Promise<"open" | "failed" | "left">((resolve) => {
    settle = resolve;
    if (o.request.signal.aborted || o.severed?.aborted) resolve("left");
  });
  settle = null;
  o.request.signal.removeEventListener("abort", left);
  o.severed?.removeEventListener("abort", left);
  if (how !== "open") {
    release();
    closeUpstream(upstream, 1001, "");
    if (how === "failed") return errorResponse(502, `cannot open a WebSocket to ${o.label}: ${failure}`, { code: "upstream_error" });
    return toErrorResponse(o.severed?.aborted ? o.severed.reason : cancelledBy(o.request.signal));
  }

  const sever = (): void => {
    const reason = o.severed?.reason;
    const text = closeReason(reason instanceof Error ? reason.message : "severed");
    o.log?.warn(`websocket ${o.label}: ${text}`);
    closeUpstream(upstream, 1001, text);
    if (client && !clientClosed) client.close(1001, text);
    release();
  };
  const events: ClientSocketEvents = {
    open(ws) {
      client = ws;
      for (const m of early.splice(0)) deliver(ws, m);
      if (closedEarly) closeClient(ws, closedEarly.code, closedEarly.reason);
    },
    message(_ws, data) {
      // Uint8Array<ArrayBufferLike> is a valid message; TS 5.9 DOM types only name Uint8Array<ArrayBuffer>.
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data as string | Uint8Array<ArrayBuffer>);
    },
    close(_ws, code, reason) {
      clientClosed = true;
      o.severed?.removeEventListener("abort", sever);
      release();
      o.log?.debug(`websocket ${o.label}: client closed (${code}${reason ? ` ${reason}` : ""})`);
      closeUpstream(upstream, code, reason);
    },
  };
  const answer = new Headers();
  if (upstream.protocol) answer.set("sec-websocket-protocol", upstream.protocol);
  if (!o.edge.upgrade(o.request, events, answer)) {
    release();
    closeUpstream(upstream, 1001, "");
    return errorResponse(400, "the request could not be upgraded to a WebSocket", { code: "bad_upgrade" });
  }
  if (o.severed?.aborted) sever();
  else o.severed?.addEventListener("abort", sever, { once: true });
  return upgradedResponse();
}

/** A marker header on the response handed back after an upgrade (the server discards it; the access log shows 101). */
export const UPGRADED_HEADER = "x-switchyard-upgraded";

function upgradedResponse(): Response {
  return new Response(null, { status: 200, headers: { [UPGRADED_HEADER]: "1" } });
}

/**
 * A WebSocket upgrade to `target` at `path` + `search`: a peer's model (its key added, our
 * clients not told), a local model with `compat.ignoreWebsockets` (no grant; 409 unless ready),
 * or a local model acquired through the router like any request (it may load it).
 * Throws the router's RouteError when the acquire fails.
 */
export async function webSocketPassThrough(
  ctx: HttpContext,
  edge: WebSocketEdge | undefined,
  request: Request,
  client: ClientInfo | undefined,
  target: Target,
  path: string,
  search: string,
): Promise<Response> {
  if (!edge) return errorResponse(501, "WebSocket passthrough is not available on this server", { code: "not_implemented" });
  if (request.method !== "GET" || !request.headers.get("sec-websocket-key")) {
    return errorResponse(400, "a WebSocket upgrade must be a GET with Sec-WebSocket-Key", { code: "bad_upgrade" });
  }
  const headers = stripHopByHop(request.headers);
  for (const h of HANDSHAKE) headers.delete(h);
  const log = ctx.logs.log;
  if (target.kind === "peer") {
    for (const h of FORWARDING) headers.delete(h);
    for (const [k, v] of Object.entries(peerHeaders(target.peer))) headers.set(k, v);
    return relayWebSocket({ request, edge, url: webSocketUrl(peerUrl(target.peer, path, search)), headers, label: `peer ${target.peer.id}`, log });
  }
  const ip = client?.ip ?? null;
  if (ip) {
    const prior = headers.get("x-forwarded-for");
    headers.set("x-forwarded-for", prior ? `${prior}, ${ip}` : ip);
  }
  if (target.model.compat.ignoreWebsockets) {
    if (ctx.stateOf(target.id) !== "ready") {
      return errorResponse(409, `model ${target.id} is not loaded; ignored websocket requests cannot start it`, { code: "model_not_loaded" });
    }
    const base = ctx.process(target.id)?.baseUrl ?? target.model.proxy;
    return relayWebSocket({ request, edge, url: webSocketUrl(`${base}${path}${search}`), headers, label: target.id, log });
  }
  const grant = await ctx.router.acquire(target.id, { signal: request.signal });
  return relayWebSocket({
    request,
    edge,
    url: webSocketUrl(`${grant.baseUrl}${path}${search}`),
    headers,
    label: target.id,
    release: () => grant.done(),
    severed: grant.severed,
    log,
  });
}
