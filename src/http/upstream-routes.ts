/**
 * `/upstream/<model>/<path>`: direct passthrough to a model's server (its web UI, /props,
 * /metrics ...). The model is the longest leading path that names a model, alias or peer
 * model (names may contain slashes); the rest is forwarded unfiltered, body streamed.
 * The model is loaded through the router like any request. WebSocket upgrades are relayed
 * (`websocket-relay.ts`).
 */
import type { HttpContext, Target } from "./context.ts";
import { errorResponse } from "./errors.ts";
import { forwardTo, type Outgoing } from "./forward.ts";
import { tooLarge } from "./request.ts";
import { MODEL_ROUTES, recordedAs, unserved, type Handler } from "./model-routes.ts";
import type { ActivityHandle } from "../observe/activity.ts";
import { concatBytes } from "../observe/captures.ts";
import type { ResponseObserver } from "./proxy.ts";
import type { WaitUpdate } from "../router/types.ts";
import { compileGoRegexp } from "../config/go-regexp.ts";
import { isWebSocketUpgrade, webSocketPassThrough, type WebSocketEdge } from "./websocket-relay.ts";

/** The model part and the remainder of an `/upstream/...` path. */
export interface UpstreamMatch {
  /** The name as written in the path (raw, percent-encoding kept). */
  rawName: string;
  target: Target;
  /** The rest of the path, starting with "/", percent-encoding kept. */
  rest: string;
}

/** Find the longest leading run of segments that names something routable. */
export function matchUpstreamPath(ctx: HttpContext, rawPath: string): UpstreamMatch | null {
  const segs = rawPath.split("/");
  let best: UpstreamMatch | null = null;
  let name = "";
  for (let i = 0; i < segs.length; i++) {
    if (segs[i] === "" && i < segs.length - 1) continue;
    if (segs[i] === "") break;
    let decoded: string;
    try {
      decoded = decodeURIComponent(segs[i]);
    } catch {
      decoded = segs[i];
    }
    name = name ? `${name}/${decoded}` : decoded;
    const target = ctx.resolve(name);
    if (target) best = { rawName: segs.slice(0, i + 1).join("/"), target, rest: `/${segs.slice(i + 1).join("/")}` };
  }
  return best;
}


/** A path with its percent-escapes decoded (as written when they do not decode). */
function decodedPath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Count a streamed request body and fail it past the limit; `onChunk` sees each chunk that passes. */
export function limitStream(body: ReadableStream<Uint8Array>, limit: number, onExceeded: () => void, onChunk?: (chunk: Uint8Array) => void): ReadableStream<Uint8Array> {
  let size = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.byteLength;
        if (size > limit) {
          onExceeded();
          controller.error(tooLarge(limit));
          return;
        }
        onChunk?.(chunk);
        controller.enqueue(chunk);
      },
    }),
  );
}

/**
 * Forward a passthrough request with its body bounded by `requestBodyLimitMB`: a declared length
 * over the limit is refused before anything is acquired, a streamed one that grows past it ends
 * in the same 413 (the upstream's answer is dropped). A body with a declared length is read whole
 * first, as the model routes read theirs: only bytes can be sent a second time when the pooled
 * connection turns out dead (llama-server closes one after a streamed answer; a stream body
 * would then be a 502).
 */
export async function forwardBounded(
  ctx: HttpContext,
  request: Request,
  where: { path: string; search: string; clientIp: string | null; observer?: ResponseObserver; keepBody?: (chunk: Uint8Array) => void },
  send: (out: Outgoing) => Promise<Response>,
): Promise<Response> {
  const limit = ctx.bodyLimitBytes;
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) return tooLarge(limit).toResponse();
  let exceeded = false;
  let body: Uint8Array | ReadableStream<Uint8Array> | null = null;
  if (request.body && declared !== null) {
    body = await request.bytes();
    where.keepBody?.(body);
  } else if (request.body) body = limitStream(request.body, limit, () => (exceeded = true), where.keepBody);
  const res = await send({ request, body, ...where });
  if (!exceeded) return res;
  res.body?.cancel().catch(() => {});
  return tooLarge(limit).toResponse();
}

/** Create the `/upstream/*` handler; `webSockets` passes WebSocket upgrades through (absent: 501). */
export function createUpstreamHandler(ctx: HttpContext, webSockets?: WebSocketEdge): Handler {
  // `upstream.ignorePaths` (llama-swap's default: static assets): a browser showing a model's web UI
  // asks for favicons and scripts, and those must not load a model. Checked when the config loaded;
  // compiled once per config (a reload brings a new one).
  let compiled: { patterns: readonly string[]; res: RegExp[] } | null = null;
  const ignorePaths = (): RegExp[] => {
    const patterns = ctx.config.upstreamIgnorePaths;
    if (compiled?.patterns !== patterns) compiled = { patterns, res: patterns.map((p) => compileGoRegexp(p)) };
    return compiled.res;
  };
  return async (request, client) => {
    let act: ActivityHandle | undefined;
    try {
      const url = new URL(request.url);
      // The active profile's pins rewrite the path's model part (the body passes untouched); selectors do not apply here.
      const rawPath = ctx.names.upstreamPath(url.pathname.slice("/upstream/".length));
      const match = matchUpstreamPath(ctx, rawPath);
      if (!match) return errorResponse(404, "model not found", { code: "model_not_found" });
      // Relative links in the upstream's pages only resolve under the slash form.
      if (match.rest === "/" && !url.pathname.endsWith("/")) {
        const status = request.method === "GET" || request.method === "HEAD" ? 301 : 308;
        return new Response(null, { status, headers: { location: `/upstream/${match.rawName}/${url.search}` } });
      }
      const target = match.target;
      const upgrade = isWebSocketUpgrade(request.headers);
      // As llama-swap: a POST to a model endpoint through /upstream is recorded in the activity log
      // like one to the model route (the body passes unread: whether it streams comes from the answer).
      const recorded = !upgrade && request.method === "POST" && RECORDED_PATHS.has(match.rest);
      // A capture keeps the request's bytes as they stream past (bounded by requestBodyLimitMB).
      const sent: Uint8Array[] | null = recorded && ctx.captures?.partsFor(match.rest).reqBody ? [] : null;
      let sentBytes = 0;
      act = recorded
        ? ctx.activity?.begin({
            ...recordedAs(target),
            path: match.rest,
            client: client?.ip ?? "",
            bytesIn: Number(request.headers.get("content-length") ?? 0) || 0,
            method: request.method,
            headers: request.headers,
            // Read when the record ends, by then the body has gone by.
            get body() {
              return sent === null ? null : concatBytes(sent, sentBytes);
            },
          })
        : undefined;
      const where = { path: match.rest, search: url.search, clientIp: client?.ip ?? null, observer: act, keepBody: sent ? (c: Uint8Array) => void ((sentBytes += c.byteLength), sent.push(c)) : undefined };
      if (target.kind === "peer") {
        if (upgrade) return await webSocketPassThrough(ctx, webSockets, request, client, target, match.rest, url.search);
        return await forwardBounded(ctx, request, where, (out) => forwardTo(ctx, { kind: "peer", peer: target.peer }, out));
      }
      const state = ctx.process(target.id)?.state;
      // Matched against the decoded path, as Go's URL.Path is; a peer model never loads, so it passes.
      if (state !== undefined && state !== "ready" && ignorePaths().some((re) => re.test(decodedPath(match.rest)))) {
        return errorResponse(409, `model ${target.id} is not loaded; path matches upstream.ignorePaths`);
      }
      if (upgrade) return await webSocketPassThrough(ctx, webSockets, request, client, target, match.rest, url.search);
      return await forwardBounded(ctx, request, where, async (out) => {
        const onUpdate = act ? (u: WaitUpdate): void => act!.waiting(u.loading, u.position) : undefined;
        const grant = await ctx.router.acquire(target.id, { signal: request.signal, onUpdate });
        act?.granted();
        return forwardTo(ctx, { kind: "local", id: target.id, grant }, out);
      });
    } catch (err) {
      return unserved(act, err);
    }
  };
}

/** Paths after `/upstream/<model>` that llama-swap records in the activity log (its model routes). */
const RECORDED_PATHS = new Set(MODEL_ROUTES.map((r) => r.path));
