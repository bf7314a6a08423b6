/**
 * Forwarding one request upstream and handing the upstream's response back untouched:
 * hop-by-hop headers stripped both ways, compressed bodies passed through as bytes,
 * the client's disconnect aborting the upstream at once, a body tracker
 * that releases the grant exactly once, and one resend on a fresh connection when a pooled
 * connection turns out to be dead before any response byte (docs/proxy.md). The only time limits
 * are llama-swap's `timeouts.connect` and `timeouts.responseHeader`, both before the response
 * begins; a response that began is never cut by a timer.
 */
import type { Logger } from "../log/types.ts";
import type { Grant } from "../router/types.ts";
import { RouteError } from "../router/types.ts";
import { errorResponse, routeErrorStatus, type StreamDialect } from "./errors.ts";
import { isCompressed, stripHopByHop } from "./hop-by-hop.ts";
import { endsLater, finish, sized, type BodyEndRecord } from "./body-end.ts";
import { trackBody } from "./track-body.ts";

/** Bodies up to this size with a declared length (not event streams) are read whole and handed over as bytes. */
const SMALL_BODY_BYTES = 1024 * 1024;

/** The fetch signature the proxy needs (injectable for tests). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Opens a TCP connection to host:port and closes it again: "connected", "failed" (refused,
 * unreachable) or "timeout" (no answer within timeoutMs). fetch cannot tell a connection that
 * never opened from a server that is slow to answer; this second attempt can. An edge implements
 * it with sockets (cli/dial-probe.ts).
 */
export type DialProbe = (host: string, port: number, timeoutMs: number) => Promise<"connected" | "failed" | "timeout">;

/** Time limits of one forward, in ms; 0 = none (llama-swap's `timeouts`). */
export interface ForwardTimeouts {
  /** To establish the connection: checked with a DialProbe when no response has begun by then. */
  connectMs: number;
  /** From sending the request until the response headers arrive. */
  responseHeaderMs: number;
}

/** One forward. */
export interface ForwardOptions {
  /** Full upstream URL (base + path + query). */
  url: string;
  method: string;
  /** The client's headers; hop-by-hop ones and `host` are dropped here. */
  headers: Headers;
  /** Exact bytes, a stream (passthrough), or nothing. */
  body: Uint8Array | ReadableStream<Uint8Array> | null;
  /** Overrides the client's content type (a re-encoded multipart body has a new boundary). */
  contentType?: string | null;
  /** The client's signal: its abort aborts the upstream request. */
  signal: AbortSignal;
  /**
   * The controller whose signal `signal` is, made for this request alone: the forward then aborts
   * the upstream request through it instead of a second controller that follows `signal` (one
   * controller and one listener fewer per request, issue 16). Absent: the forward makes its own.
   */
  upstream?: AbortController;
  /** The router's grant: released when the response ends; its `severed` cuts the request. */
  grant?: Pick<Grant, "done" | "severed">;
  /**
   * Forwarding headers: `{ appendFor }` adds the client's address to `X-Forwarded-For` (local
   * servers; what Go's reverse proxy does for llama-swap), `"drop"` removes `Forwarded` and
   * `X-Forwarded-*` (peers: llama-swap's peer proxy tells a remote server nothing of our clients).
   * Absent: they pass as the client sent them.
   */
  forwarding?: { appendFor: string | null } | "drop";
  /** Set after stripping (so a client's `Connection` list cannot remove them): peer API keys. */
  setHeaders?: Readonly<Record<string, string>>;
  /** Names the target in error messages (a model ID or peer). */
  label: string;
  /** Told how the forward went (activity): headers, every body chunk, and the end, once. */
  observer?: ResponseObserver;
  /** Limits before the response begins (none when absent). */
  timeouts?: ForwardTimeouts;
  /** Ask for an uncompressed body whatever the client accepts (a loading stream splices it after its own events). */
  identity?: boolean;
  /** How an event stream's in-band errors are written (default openai). */
  dialect?: StreamDialect;
}

/** How a forward ended, for its observer. */
export type ForwardEnd = "ok" | "upstream_error" | "severed" | "cancelled";

/** What the proxy reports about one forward (all calls cheap; `end` exactly once). */
export interface ResponseObserver {
  response(status: number, contentType: string, headers?: Headers): void;
  chunk(bytes: Uint8Array): void;
  end(how: ForwardEnd, opts?: { status?: number; error?: string }): void;
}

/** The forwarding half of the HTTP layer. */
export interface Proxy {
  /** Forward and return the upstream response (or our error envelope); never throws. */
  forward(opts: ForwardOptions): Promise<Response>;
  /** Counters since start. */
  stats(): ProxyStats;
}

/** What the proxy counts. */
export interface ProxyStats {
  /** Requests sent a second time because their connection died before any response byte. */
  retries: number;
}

/** Bun-only fetch options; other runtimes ignore them (docs/runtime-notes.md#fetch-compression, #fetch-timeout). */
interface BunFetchInit extends RequestInit {
  /** Keep compressed bytes as they are: Bun would otherwise inflate them yet keep content-encoding. */
  decompress?: boolean;
  /** Bun's fetch has a 5-minute idle timeout by default, which a long prefill can exceed. */
  timeout?: boolean;
}

/**
 * Error codes of a connection that died before the response began: the peer reset or closed it,
 * or our write hit a closed socket. Bun's fetch reports a pooled keep-alive connection that the
 * server had already closed as ECONNRESET ("The socket connection was closed unexpectedly").
 * A refused connection is not here: it was never open, so sending again cannot help.
 */
const DEAD_CONNECTION = new Set(["ECONNRESET", "EPIPE", "ConnectionClosed", "ECONNABORTED"]);

/** True when a fetch rejection means the connection died before any byte of the response. */
export function isDeadConnection(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && DEAD_CONNECTION.has(code);
}

/** Headers that describe the client's side of a proxy chain. */
const FORWARDING_HEADERS = ["forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"];

function noBody(method: string, status: number): boolean {
  return method === "HEAD" || status === 204 || status === 205 || status === 304;
}

/** Seconds for a message: "30s", "0.05s". */
const secs = (ms: number): string => `${Math.round(ms) / 1000}s`;

/** Host and port by URL origin: a forward's target repeats, and a URL parse per request is not free. */
const hostPorts = new Map<string, { host: string; port: number } | null>();

/** Host and port of a URL, for a DialProbe (IPv6 without brackets); cached by its origin. */
function hostPort(url: string): { host: string; port: number } | null {
  const slash = url.indexOf("/", url.indexOf("//") + 2);
  const origin = slash < 0 ? url : url.slice(0, slash);
  const known = hostPorts.get(origin);
  if (known !== undefined) return known;
  const found = parseHostPort(origin);
  // Bounded: origins are the configured models and peers, but a bad config must not grow it forever.
  if (hostPorts.size >= 1024) hostPorts.clear();
  hostPorts.set(origin, found);
  return found;
}

function parseHostPort(url: string): { host: string; port: number } | null {
  try {
    const u = new URL(url);
    const port = u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80;
    return { host: u.hostname.replace(/^\[(.*)\]$/, "$1"), port };
  } catch {
    return null;
  }
}

/** A limit that fired: the client's message and the envelope's code. */
interface FiredLimit {
  message: string;
  code: string;
}

/**
 * Arm the forward's `timeouts`: responseHeader aborts `upstream` when no response arrived in
 * time; connect, at the same point for its own time, makes one connection attempt with `dial`
 * and aborts when that cannot connect either. `settle()` (the response arrived, or the fetch
 * failed) disarms both; `fired()` tells which one aborted, if any.
 */
function startLimits(opts: ForwardOptions, upstream: AbortController, deps: { dial?: DialProbe; log?: Logger }) {
  let fired: FiredLimit | null = null;
  let settled = false;
  const timers: ReturnType<typeof setTimeout>[] = [];
  const fire = (message: string, code: string): void => {
    if (settled || upstream.signal.aborted) return;
    fired = { message, code };
    deps.log?.warn(message);
    upstream.abort(new Error(message));
  };
  const rh = opts.timeouts?.responseHeaderMs ?? 0;
  if (rh > 0) timers.push(setTimeout(() => fire(`upstream ${opts.label} sent no response headers within ${secs(rh)} (timeouts.responseHeader)`, "upstream_header_timeout"), rh));
  const cm = opts.timeouts?.connectMs ?? 0;
  const dial = deps.dial;
  const target = cm > 0 && dial ? hostPort(opts.url) : null;
  if (target && dial) {
    const check = (): void => {
      if (settled) return;
      dial(target.host, target.port, cm).then(
        (r) => {
          if (r === "timeout") fire(`upstream ${opts.label}: could not connect to ${target.host}:${target.port} within ${secs(cm)} (timeouts.connect)`, "upstream_connect_timeout");
        },
        () => {},
      );
    };
    timers.push(setTimeout(check, cm));
  }
  return {
    settle(): void {
      settled = true;
      for (const t of timers) clearTimeout(t);
    },
    fired: (): FiredLimit | null => fired,
  };
}

/** Create a proxy over an injected fetch; retries are logged at debug level to `log`; `dial` checks connect timeouts. */
export function createProxy(deps: { fetch?: FetchLike; log?: Logger; dial?: DialProbe } = {}): Proxy {
  const doFetch: FetchLike = deps.fetch ?? ((input, init) => fetch(input, init));
  const stats: ProxyStats = { retries: 0 };

  /**
   * Send once; if the connection dies before any response byte, send once more on a connection
   * of its own. Bun's pool hands out a keep-alive connection that the server closed a moment ago
   * (llama-server closes after each response, and Bun sees the FIN only when it next reads), and
   * Go's transport, under llama-swap, resends such a request the same way. A body that is a
   * stream was consumed by the first try and cannot be replayed, so it is never resent; a
   * response that began is never resent (fetch has resolved by then).
   */
  const send = async (url: string, init: BunFetchInit, label: string): Promise<Response> => {
    try {
      return await doFetch(url, init);
    } catch (err) {
      if (!isDeadConnection(err) || init.body instanceof ReadableStream || init.signal?.aborted) throw err;
      stats.retries++;
      const code = (err as { code: string }).code;
      deps.log?.debug(`upstream ${label}: ${code} before any response byte; sending once more on a fresh connection (retry ${stats.retries} since start)`);
      // Why keepalive: false: in Bun it takes a new connection instead of another pooled one, which
      // may be just as dead (docs/runtime-notes.md#fetch-pool).
      return await doFetch(url, { ...init, keepalive: false });
    }
  };

  return {
    stats: () => ({ ...stats }),
    async forward(opts) {
      const observer = opts.observer;
      /** Our own answer (an error envelope): tell the observer, then hand it back. */
      const ours = (how: ForwardEnd, res: Response, error: string): Response => {
        observer?.end(how, { status: res.status, error });
        return res;
      };
      /** A sever before any body byte went out: the route error's own status (an operator's cancel is 499). */
      const severedAnswer = (reason: unknown): Response => {
        if (reason instanceof RouteError) {
          const { status, opts: o } = routeErrorStatus(reason);
          return ours("severed", errorResponse(status, reason.message, o), reason.message);
        }
        return ours("severed", errorResponse(503, "the request was cut by a model drain", { code: "request_severed" }), "severed");
      };
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        opts.grant?.done();
      };
      // The caller's own controller when it gave one (its signal is the client's), else one that follows the client's signal.
      const upstream = opts.upstream ?? new AbortController();
      const onClientAbort = opts.upstream ? null : (): void => upstream.abort(opts.signal.reason);
      const onSever = (): void => upstream.abort(opts.grant?.severed.reason);
      if (onClientAbort) {
        if (opts.signal.aborted) onClientAbort();
        else opts.signal.addEventListener("abort", onClientAbort, { once: true });
      }
      if (opts.grant?.severed.aborted) onSever();
      else opts.grant?.severed.addEventListener("abort", onSever, { once: true });
      const unlink = (): void => {
        if (onClientAbort) opts.signal.removeEventListener("abort", onClientAbort);
        opts.grant?.severed.removeEventListener("abort", onSever);
      };

      try {
        const headers = stripHopByHop(opts.headers);
        headers.delete("host");
        headers.delete("expect");
        // A rewritten body has a new length; fetch computes it. A passthrough stream keeps the client's.
        if (!(opts.body instanceof ReadableStream)) headers.delete("content-length");
        if (opts.contentType !== undefined) {
          if (opts.contentType === null) headers.delete("content-type");
          else headers.set("content-type", opts.contentType);
        }
        // Bun's fetch adds "gzip, deflate, br, zstd" when absent; ask for what the client can read.
        if (opts.identity || !headers.has("accept-encoding")) headers.set("accept-encoding", "identity");
        if (opts.forwarding === "drop") {
          for (const h of FORWARDING_HEADERS) headers.delete(h);
        } else if (opts.forwarding?.appendFor) {
          const prior = headers.get("x-forwarded-for");
          headers.set("x-forwarded-for", prior ? `${prior}, ${opts.forwarding.appendFor}` : opts.forwarding.appendFor);
        }
        for (const [k, v] of Object.entries(opts.setHeaders ?? {})) headers.set(k, v);

        const init: BunFetchInit = {
          method: opts.method,
          headers,
          // Uint8Array<ArrayBufferLike> is a valid body; TS 5.9 DOM types only name Uint8Array<ArrayBuffer>.
          body: opts.method === "GET" || opts.method === "HEAD" ? null : (opts.body as BodyInit | null),
          signal: upstream.signal,
          redirect: "manual",
          decompress: false,
          timeout: false,
        };
        // Streaming request bodies need half duplex (Fetch spec; Deno and Node enforce it).
        if (opts.body instanceof ReadableStream) (init as RequestInit & { duplex: string }).duplex = "half";

        // llama-swap's transport limits, before any response byte; the catch below tells which fired.
        const limits = startLimits(opts, upstream, deps);
        let res: Response;
        try {
          res = await send(opts.url, init, opts.label);
          limits.settle();
        } catch (err) {
          limits.settle();
          unlink();
          release();
          const timeout = limits.fired();
          if (timeout) return ours("upstream_error", errorResponse(502, timeout.message, { code: timeout.code }), timeout.message);
          if (opts.grant?.severed.aborted) return severedAnswer(opts.grant.severed.reason);
          if (opts.signal.aborted) return ours("cancelled", errorResponse(499, "client closed the request", { code: "cancelled" }), "client closed the request");
          const why = err instanceof Error ? err.message : String(err);
          const message = `upstream ${opts.label} unreachable: ${why}`;
          return ours("upstream_error", errorResponse(502, message, { code: "upstream_unreachable" }), message);
        }

        const outHeaders = stripHopByHop(res.headers);
        const isSse = (res.headers.get("content-type") ?? "").toLowerCase().includes("text/event-stream");
        // A compressed event stream cannot take an injected plain event: its cut is a transport error.
        const inBand = isSse && !isCompressed(res.headers);
        // Tell nginx-style intermediaries not to buffer event streams (llama-swap #236).
        if (isSse) outHeaders.set("x-accel-buffering", "no");
        const init2 = { status: res.status, statusText: res.statusText, headers: outHeaders };
        // A Response cannot carry a status outside 200-599 (a raw upstream can send one).
        if (res.status < 200 || res.status > 599) {
          res.body?.cancel().catch(() => {});
          upstream.abort();
          unlink();
          release();
          const message = `upstream ${opts.label} answered an invalid HTTP status ${res.status}`;
          return ours("upstream_error", errorResponse(502, message, { code: "bad_upstream_response" }), message);
        }

        observer?.response(res.status, res.headers.get("content-type") ?? "", outHeaders);
        if (!res.body || noBody(opts.method, res.status)) {
          unlink();
          release();
          res.body?.cancel().catch(() => {});
          observer?.end("ok");
          return sized(new Response(null, init2), 0);
        }
        // A small whole body (not an event stream, its length declared) is read at once and handed
        // over as bytes: no stream wrapper, no per-chunk work. A sever or the client's abort while
        // it is read aborts the upstream request (the listeners above) and is answered here.
        const declared = Number(res.headers.get("content-length") ?? NaN);
        if (!isSse && declared >= 0 && declared <= SMALL_BODY_BYTES) {
          let bytes: Uint8Array;
          try {
            bytes = await res.bytes();
          } catch (err) {
            unlink();
            release();
            if (opts.grant?.severed.aborted) return severedAnswer(opts.grant.severed.reason);
            if (opts.signal.aborted) return ours("cancelled", errorResponse(499, "client closed the request", { code: "cancelled" }), "client closed the request");
            const message = `upstream ${opts.label} failed mid-body: ${err instanceof Error ? err.message : String(err)}`;
            return ours("upstream_error", errorResponse(502, message, { code: "upstream_unreachable" }), message);
          }
          unlink();
          release();
          observer?.chunk(bytes);
          observer?.end("ok");
          // Uint8Array<ArrayBufferLike> is a valid body; TS 5.9 DOM types only name Uint8Array<ArrayBuffer>.
          return sized(new Response(bytes as BodyInit, init2), bytes.byteLength);
        }
        // From here on the body tracker owns the sever (it reports it in-band for event streams).
        opts.grant?.severed.removeEventListener("abort", onSever);
        let sent: BodyEndRecord | null = null;
        const body = trackBody(res.body, {
          onEnd: (how, bytes) => {
            unlink();
            release();
            observer?.end(how === "complete" ? "ok" : how);
            if (sent) finish(sent, bytes);
          },
          onChunk: observer ? (c) => observer.chunk(c) : undefined,
          abortUpstream: (reason) => upstream.abort(reason),
          severed: opts.grant?.severed,
          sse: inBand,
          dialect: opts.dialect,
        });
        const response = new Response(body, init2);
        sent = endsLater(response);
        return response;
      } catch (err) {
        // Whatever went wrong unforeseen (a header fetch refuses, ...), the grant is freed once
        // and the upstream request is not left running.
        upstream.abort(err);
        unlink();
        release();
        const why = err instanceof Error ? err.message : String(err);
        const message = `proxying to ${opts.label} failed: ${why}`;
        return ours("upstream_error", errorResponse(502, message, { code: "proxy_error" }), message);
      }
    },
  };
}
