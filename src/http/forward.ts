/**
 * One forward path for every target: a local model on its grant, or a peer. Builds the proxy's
 * ForwardOptions from the client's request and where it goes, so the model routes and
 * `/upstream/...` cannot drift apart in what they send.
 */
import type { PeerConfig, ProxyTimeouts } from "../config/types.ts";
import type { Grant } from "../router/types.ts";
import type { HttpContext } from "./context.ts";
import type { StreamDialect } from "./errors.ts";
import { peerHeaders, peerUrl } from "./peers.ts";
import type { ForwardTimeouts, ResponseObserver } from "./proxy.ts";

/** Where a forward goes: a local model on a grant the router gave, or a peer (not scheduled). */
export type Destination = { kind: "local"; id: string; grant: Grant } | { kind: "peer"; peer: PeerConfig };

/** What is forwarded. */
export interface Outgoing {
  /** The client's request: method, headers (hop-by-hop stripped by the proxy) and signal. */
  request: Request;
  /** Path on the target, starting with "/". */
  path: string;
  /** Query string with its "?", or "". */
  search: string;
  /** Exact bytes, a stream (passthrough) or nothing. */
  body: Uint8Array | ReadableStream<Uint8Array> | null;
  /** A new content type for a re-encoded body (undefined: the client's). */
  contentType?: string | null;
  /** The client's address, appended to X-Forwarded-For for local models. */
  clientIp: string | null;
  /** Told how the forward goes (the request's activity record). */
  observer?: ResponseObserver;
  /** Aborts the forward (default: the client's signal); the model routes add an operator's cancel. */
  signal?: AbortSignal;
  /** The controller of `signal`, made for this request alone (the proxy then aborts the upstream through it). */
  upstream?: AbortController;
  /** Ask for an uncompressed body (a loading stream splices it after its own events). */
  identity?: boolean;
}

/** A model's or peer's `timeouts` (seconds) as the proxy's limits (ms). */
function limits(t: ProxyTimeouts | undefined): ForwardTimeouts | undefined {
  return t ? { connectMs: t.connect * 1000, responseHeaderMs: t.responseHeader * 1000 } : undefined;
}

/** Anthropic's Messages API (`/v1/messages`, also through /v and /upstream) streams errors its own way. */
function dialectOf(path: string): StreamDialect {
  return path === "/v1/messages" || path === "/messages" ? "anthropic" : "openai";
}

/** Forward `out` to `dest`; resolves with the upstream response or our error envelope (throws RouteError for a peer request once a shutdown began). */
export function forwardTo(ctx: HttpContext, dest: Destination, out: Outgoing): Promise<Response> {
  const common = {
    method: out.request.method,
    headers: out.request.headers,
    body: out.body,
    contentType: out.contentType,
    signal: out.signal ?? out.request.signal,
    upstream: out.signal ? out.upstream : undefined,
    observer: out.observer,
    identity: out.identity,
    dialect: dialectOf(out.path),
  };
  if (dest.kind === "peer") {
    // Held like a grant: a shutdown refuses, drains and severs peer requests as it does local ones.
    // Throws RouteError("shutting_down") once it began.
    const hold = ctx.peerRequests.acquire();
    // llama-swap's peer proxy tells a remote server nothing of our clients, and adds the peer's key.
    return ctx.proxy.forward({
      ...common,
      grant: hold,
      url: peerUrl(dest.peer, out.path, out.search),
      setHeaders: peerHeaders(dest.peer),
      forwarding: "drop",
      label: `peer ${dest.peer.id}`,
      timeouts: limits(dest.peer.timeouts),
    });
  }
  return ctx.proxy.forward({
    ...common,
    url: `${dest.grant.baseUrl}${out.path}${out.search}`,
    grant: dest.grant,
    forwarding: { appendFor: out.clientIp },
    label: dest.id,
    timeouts: limits(ctx.config.models[dest.id]?.timeouts),
  });
}
