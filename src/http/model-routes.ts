/**
 * The model-dispatched routes: find the model in the request, resolve aliases and peers,
 * wait for a grant from the router (streaming loading progress to chat clients that want it),
 * apply the configured rewrites and forward. Web-standard; app.ts mounts it on Elysia.
 */
import { OPERATOR_CANCELLED, type ActivityHandle } from "../observe/activity.ts";
import { RouteError, type Grant, type WaitUpdate } from "../router/types.ts";
import type { HttpContext, Target } from "./context.ts";
import { errorResponse, HttpError, toErrorResponse } from "./errors.ts";
import { forwardTo, type Outgoing } from "./forward.ts";
import type { ResponseObserver } from "./proxy.ts";
import { acquireWithProgress } from "./loading-stream.ts";
import { peerRewrite } from "./peers.ts";
import { forwardPath, parseModelRequest, rewriteBody, rewriteSearch, type Rewrite } from "./request.ts";

/** One model route and the methods it accepts. */
export interface ModelRoute {
  path: string;
  methods: readonly ("GET" | "POST")[];
}

const POST = ["POST"] as const;
const GET = ["GET"] as const;

/** Every model-dispatched route (llama-swap's modelPostJSONRoutes, modelPostFormRoutes, modelGetRoutes). */
export const MODEL_ROUTES: readonly ModelRoute[] = [
  ...[
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/responses",
    "/v1/embeddings",
    "/v1/messages",
    "/v1/messages/count_tokens",
    "/v1/rerank",
    "/v1/reranking",
    "/rerank",
    "/reranking",
    "/infill",
    "/completion",
    "/v1/audio/speech",
    "/v1/audio/transcriptions",
    "/v1/images/generations",
    "/v1/images/edits",
    "/sdapi/v1/txt2img",
    "/sdapi/v1/img2img",
    // audio.cpp's task API, forwarded as /v1/tasks/run
    "/audioapi/v1/tasks/run",
    // versionless forms, forwarded with the "/v" removed
    "/v/chat/completions",
    "/v/completions",
    "/v/responses",
    "/v/embeddings",
    "/v/messages",
    "/v/messages/count_tokens",
    "/v/rerank",
    "/v/reranking",
  ].map((path) => ({ path, methods: POST })),
  { path: "/v1/audio/voices", methods: ["GET", "POST"] },
  { path: "/sdapi/v1/loras", methods: GET },
  { path: "/props", methods: GET },
];

const LOADING_PATHS = new Set(["/v1/chat/completions", "/v/chat/completions"]);

/** What the server knows about the client beyond the Request. */
export interface ClientInfo {
  /** The peer address of the connection, or null when unknown. */
  ip: string | null;
}

/** A request handler over web-standard Request/Response. */
export type Handler = (request: Request, client?: ClientInfo) => Promise<Response>;

/** The rewrites configured for a local model and the name it was requested by. */
export function localRewrite(ctx: HttpContext, id: string, requested: string): Rewrite {
  const m = ctx.config.models[id];
  return {
    modelName: m.useModelName ? m.useModelName : undefined,
    stripParams: m.filters.stripParams,
    setParams: m.filters.setParams,
    setParamsById: m.filters.setParamsByID[requested],
  };
}

/** Create the handler shared by every model route. */
export function createModelHandler(ctx: HttpContext): Handler {
  const allowed = new Map(MODEL_ROUTES.map((r) => [r.path, r.methods as readonly string[]]));

  return async (request, client) => {
    let act: ActivityHandle | undefined;
    let release = noop;
    try {
      const url = new URL(request.url);
      const methods = allowed.get(url.pathname);
      // HEAD goes wherever GET does (Go's mux matches "GET /path" for HEAD too).
      const accepts = (m: string): boolean => methods!.includes(m) || (m === "HEAD" && methods!.includes("GET"));
      if (methods && !accepts(request.method)) {
        const allow = methods.includes("GET") ? [...methods, "HEAD"] : methods;
        return errorResponse(405, `method ${request.method} not allowed on ${url.pathname}`, {
          headers: { allow: allow.join(", ") },
        });
      }
      const req = await parseModelRequest(request, url, ctx.bodyLimitBytes);
      if (!req.model) throw new HttpError(400, 'no model in the request (JSON "model", form field "model" or ?model=)', { param: "model" });
      // The active profile's pins, then selectors: the name this request is served as.
      const choice = ctx.names.choose(req.model);
      release = choice.release;
      const name = choice.name;
      const target = ctx.resolve(name);
      if (!target) throw new HttpError(404, `model "${name}" not found`, { code: "model_not_found", param: "model" });

      let rw = target.kind === "peer" ? peerRewrite(target, name) : localRewrite(ctx, target.id, name);
      // As llama-swap: the backend sees the name the request was rewritten to.
      if (name !== req.model && rw.modelName === undefined) rw = { ...rw, modelName: name };
      const body = await rewriteBody(req, rw);
      // An operator may cancel the request (`/api/inflight`): before the grant it leaves the queue
      // (`cut` is the client's signal or the operator's cancel), after it the response is cut
      // in-band like a sever (`granted.sever`). Only built when activity is recorded. One controller
      // and one listener: AbortSignal.any costs several times that per request (issue 16).
      const cut = ctx.activity ? new AbortController() : null;
      let granted: Grant | null = null;
      if (cut) {
        const clientSignal = request.signal;
        if (clientSignal.aborted) cut.abort(clientSignal.reason);
        else clientSignal.addEventListener("abort", () => cut.abort(clientSignal.reason), { once: true });
      }
      const operatorCancel = (): void => {
        const reason = new RouteError("cancelled", OPERATOR_CANCELLED);
        if (granted?.sever) granted.sever(reason);
        else cut?.abort(reason);
      };
      const signal = cut ? cut.signal : request.signal;
      act = ctx.activity?.begin({
        ...recordedAs(target),
        path: url.pathname,
        client: client?.ip ?? "",
        bytesIn: req.bytes?.byteLength ?? 0,
        streamed: req.stream,
        method: request.method,
        headers: request.headers,
        body: body.bytes instanceof Uint8Array ? body.bytes : null,
        cancel: cut ? operatorCancel : undefined,
        metadata: choice.selector !== null ? { selector: choice.selector } : undefined,
      });
      const out: Outgoing = {
        request,
        path: forwardPath(url.pathname),
        search: rewriteSearch(url, req, rw),
        body: body.bytes,
        contentType: body.contentType,
        clientIp: client?.ip ?? null,
        // A spillover reservation is held until the response ends.
        observer: choice.selector !== null ? endsWith(act, release) : act,
        signal,
        // `cut` is this request's own: the proxy aborts the upstream through it (no second controller).
        upstream: cut ?? undefined,
      };
      if (target.kind === "peer") return forwardTo(ctx, { kind: "peer", peer: target.peer }, out);

      const a = act;
      const forward = (grant: Grant, o?: { identity?: boolean }): Promise<Response> => {
        a?.granted();
        granted = grant;
        return forwardTo(ctx, { kind: "local", id: target.id, grant }, o?.identity ? { ...out, identity: true } : out);
      };
      const onWait = a ? (u: WaitUpdate): void => a.waiting(u.loading, u.position) : undefined;
      const wantsLoading = req.stream && target.model.sendLoadingState && LOADING_PATHS.has(url.pathname);
      if (!wantsLoading) return forward(await ctx.router.acquire(target.id, { signal, onUpdate: onWait }));
      return await acquireWithProgress({
        onWait,
        onGiveUp: a || choice.selector !== null ? (err) => void unserved(a, err, release) : undefined,
        router: ctx.router,
        model: req.model,
        modelId: target.id,
        signal,
        loadHistoryMs: ctx.process(target.id)?.loadHistoryMs ?? [],
        forward,
        tickMs: ctx.loadingTickMs,
        now: ctx.now,
      });
    } catch (err) {
      return unserved(act, err, release);
    }
  };
}

const noop = (): void => {};

/** What an activity record names for a target: the model ID, or `<peer>/<model>` and the peer. */
export function recordedAs(target: Target): { model: string; peer: string } {
  return target.kind === "peer" ? { model: `${target.peer.id}/${target.model}`, peer: target.peer.id } : { model: target.id, peer: "" };
}

/** `observer` (if any), with `f` run first when the forward ends. */
function endsWith(observer: ResponseObserver | undefined, f: () => void): ResponseObserver {
  return {
    response: (status, contentType, headers) => observer?.response(status, contentType, headers),
    chunk: (bytes) => observer?.chunk(bytes),
    end(how, opts) {
      f();
      observer?.end(how, opts);
    },
  };
}

/** The answer to a request that was not served; its activity record ends as refused or cancelled, and a reservation is given back. */
export function unserved(act: ActivityHandle | undefined, err: unknown, release: () => void = noop): Response {
  release();
  const res = toErrorResponse(err);
  const cancelled = err instanceof RouteError && err.kind === "cancelled";
  act?.end(cancelled ? "cancelled" : "refused", { status: res.status, error: err instanceof Error ? err.message : String(err) });
  return res;
}
