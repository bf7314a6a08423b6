/**
 * The Elysia composition of the HTTP layer (the only Elysia user besides main.ts):
 * per-request timeout off, CORS preflight, auth, the model routes, admin routes and
 * `/upstream/*`, and our error envelope for unknown routes and unexpected errors.
 * Every handler is a web-standard Request → Response function from the sibling modules.
 */
import { Elysia } from "elysia";
import { createActivityRoutes } from "./activity-routes.ts";
import { createAdminRoutes } from "./admin-routes.ts";
import { apiEventsResponse } from "./api-events.ts";
import { createAuthCheck } from "./auth.ts";
import { whenSent } from "./body-end.ts";
import { formatGoDuration } from "../log/go-duration.ts";
import { createHttpContext, type HttpDeps } from "./context.ts";
import { preflightResponse } from "./cors.ts";
import { errorResponse, isGeneratedError, negotiateError, toErrorResponse } from "./errors.ts";
import { isLoadingStream } from "./loading-stream.ts";
import { createModelHandler, MODEL_ROUTES, type ClientInfo } from "./model-routes.ts";
import { configResponse, reloadResponse } from "./config-routes.ts";
import { createInflightRoutes } from "./inflight-routes.ts";
import { createUiRoutes } from "./ui-routes.ts";
import { createPerformanceRoutes } from "./performance-routes.ts";
import { profilesResponse, setActiveProfileResponse } from "./profile-routes.ts";
import { createUpstreamHandler } from "./upstream-routes.ts";
import { createComfyUiHandler } from "./comfyui-routes.ts";
import { UPGRADED_HEADER, type WebSocketEdge } from "./websocket-relay.ts";

/** Dependencies of the app (see HttpDeps). */
export type AppDeps = HttpDeps;

/** Paths that never need an API key (the UI's page and assets: it asks for a key itself). */
const OPEN_PATHS = new Set(["/health", "/wol-health", "/", "/ui", "/ui/"]);
/** Elysia's compiled handler takes the routed path from the first "/" at this index or later of request.url. */
const ELYSIA_PATH_FROM = 11;

const isOpen = (path: string): boolean => OPEN_PATHS.has(path) || path.startsWith("/ui/");

/** Fixed admin paths and their methods, for 405 answers (model routes answer 405 themselves). */
const ADMIN_METHODS: Record<string, string> = {
  "/health": "GET, HEAD",
  "/wol-health": "GET, HEAD",
  "/v1/models": "GET, HEAD",
  "/models": "GET, HEAD",
  "/running": "GET, HEAD",
  "/unload": "GET, HEAD",
  "/api/models/unload": "POST",
  "/logs": "GET, HEAD",
  "/logs/stream": "GET, HEAD",
  "/api/version": "GET, HEAD",
  "/api/events": "GET, HEAD",
  "/api/metrics/activity": "GET, HEAD",
  "/api/metrics/stats": "GET, HEAD",
  "/api/performance": "GET, HEAD",
  "/api/hardware": "GET, HEAD",
  "/api/inflight": "GET, HEAD",
  "/api/config": "GET, HEAD",
  "/api/config/reload": "POST",
  "/api/profiles": "GET, HEAD",
  "/api/profiles/active": "PUT",
  "/metrics": "GET, HEAD",
};

/** The methods a known admin path accepts, or null for an unknown path. */
function allowedMethods(path: string): string | null {
  if (Object.hasOwn(ADMIN_METHODS, path)) return ADMIN_METHODS[path];
  if (path.startsWith("/api/models/unload/") || path.startsWith("/api/models/load/")) return "POST";
  if (path.startsWith("/logs/stream/")) return "GET, HEAD";
  if (path.startsWith("/api/captures/")) return "GET, HEAD";
  if (/^\/api\/inflight\/[^/]+\/cancel$/.test(path)) return "POST";
  return null;
}

/** Bun's WebSocket constructor with options (the DOM lib's declaration, which tsconfig includes, hides that overload). */
const BunWebSocket = WebSocket as unknown as new (url: string, options: Bun.WebSocketOptions) => WebSocket;

/** What the handlers need of Bun's server (null under `app.handle()`). */
type ServerLike = { requestIP(r: Request): { address: string } | null; timeout(r: Request, seconds: number): void } | null;

/**
 * An IPv4 client of a dual-stack socket (`[::]`) as its IPv4 address: `::ffff:127.0.0.1` is
 * 127.0.0.1, as llama-swap logs it and as a backend reads X-Forwarded-For.
 */
export function unmapped(address: string | null): string | null {
  return address !== null && address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/** Build the app; main.ts calls `.listen({ hostname, port })`. */
export function createApp(deps: AppDeps) {
  const ctx = createHttpContext(deps);
  const log = deps.logs.log;
  // Rebuilt when a reload brings other apiKeys.
  let auth = { keys: ctx.config.apiKeys, check: createAuthCheck(ctx.config.apiKeys) };
  const checkAuth = (request: Request): Response | null => {
    if (auth.keys !== ctx.config.apiKeys) auth = { keys: ctx.config.apiKeys, check: createAuthCheck(ctx.config.apiKeys) };
    return auth.check(request);
  };
  const admin = createAdminRoutes(ctx);
  const modelHandler = createModelHandler(ctx);
  // Bun's side of WebSockets. Elysia's Bun.serve `websocket` handler calls `ws.data.open/message/close`,
  // so a raw relay rides on server.upgrade's `data` without an Elysia `.ws()` route (which would
  // parse messages and needs fixed paths). Bun's WebSocket client takes handshake headers
  // (docs/runtime-notes.md#serve-websocket).
  const webSockets: WebSocketEdge = {
    upgrade: (request, events, headers) => app.server?.upgrade(request, { headers, data: events }) ?? false,
    connect: (url, protocols, headers) => new BunWebSocket(url, { protocols, headers }),
  };
  const upstreamHandler = createUpstreamHandler(ctx, webSockets);
  const comfyUiHandler = createComfyUiHandler(ctx, webSockets);
  const activityRoutes = createActivityRoutes(ctx);
  const performanceRoutes = createPerformanceRoutes(ctx.hardware);
  const inflightRoutes = createInflightRoutes(ctx);
  const ui = deps.ui ? createUiRoutes(deps.ui) : null;
  const noUi = (): Response => errorResponse(404, "the web UI is not in this build", { code: "not_found" });

  /** Requests made again with a routable URL (see `gate`), each to the client's own request. */
  const redone = new WeakMap<Request, Request>();
  /** The peer address of the connection (looked up once per request: it is not free in Bun). */
  const peerIp = (request: Request, server: ServerLike): string | null => unmapped(server?.requestIP(redone.get(request) ?? request)?.address ?? null);
  /**
   * One line in llama-swap's format, `Request ip "METHOD PATH PROTO" status size "UA" duration`,
   * once the body has been sent (a stream's line comes at its end, with its whole duration); the
   * size is "-" where body-end.ts does not know it (an admin route's own answer).
   */
  const accessLog = (request: Request, peer: string | null, res: Response, started: number): void => {
    const fwd = request.headers.get("x-forwarded-for")?.split(",")[0]?.trim();
    const ip = fwd || request.headers.get("x-real-ip") || peer || "-";
    const path = request.url.slice(request.url.indexOf("/", request.url.indexOf("//") + 2)).split("?")[0];
    const ua = request.headers.get("user-agent") ?? "";
    const write = (status: number, bytes: number | null): void =>
      // Path only: a query string could carry secrets; headers (keys) are never logged. Bun.serve
      // speaks HTTP/1.1 only, so that is the protocol.
      log.info(`Request ${ip} "${request.method} ${path} HTTP/1.1" ${status} ${bytes ?? "-"} "${ua}" ${formatGoDuration((performance.now() - started) * 1e6)}`);
    if (res.headers.has(UPGRADED_HEADER)) write(101, 0);
    else whenSent(res, (bytes) => write(res.status, bytes));
  };
  /**
   * Wrap a handler so that each request leaves one access-log line (when its body has been sent;
   * none with `quiet`, for what a dashboard or Prometheus polls) and the errors we generate follow
   * the client's Accept.
   */
  const logged =
    (fn: (request: Request, client: ClientInfo) => Response | Promise<Response>, quiet = false) =>
    async ({ request, server }: { request: Request; server: ServerLike }) => {
      const started = performance.now();
      const ip = peerIp(request, server);
      let res: Response;
      try {
        res = await fn(request, { ip });
      } catch (err) {
        res = toErrorResponse(err);
      }
      res = negotiateError(res, request.headers.get("accept"));
      if (!quiet) accessLog(request, ip, res, started);
      return res;
    };
  /** The raw (undecoded) path after a prefix; Elysia's params are decoded. */
  const rest = (request: Request, prefix: string): string => {
    const path = new URL(request.url).pathname;
    return path.startsWith(prefix) ? path.slice(prefix.length) : "";
  };
  const decoded = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };

  /** Echo the request's Origin on `res` (one of the model routes' own answers); none without an Origin. */
  const withOrigin = (request: Request, res: Response): void => {
    const origin = request.headers.get("origin");
    if (!origin || res.headers.has("access-control-allow-origin")) return;
    res.headers.set("access-control-allow-origin", origin);
    res.headers.append("vary", "Origin");
  };

  /**
   * What every request passes before its route: the timer off, CORS preflight, the /ui redirect
   * and auth. Returns the answer when the request stops here.
   */
  const gate = (request: Request, server: ServerLike, routePath?: string): Response | Promise<Response> | undefined => {
    // Per-request too: the server-wide setting aside, this is what disables the timer for
    // streams (`.mount()` would hand us a cloned Request on which this has no effect).
    server?.timeout(request, 0);
    const started = performance.now();
    const preflight = preflightResponse(request);
    if (preflight) return preflight;
    // A model route knows its path (none of them is open or /ui): no URL parse for it here.
    if (routePath === undefined) {
      const url = new URL(request.url);
      const path = url.pathname;
      // Why: Elysia routes on request.url from its first "/" at index 11 or later, so with a Host of
      // 3 characters or fewer ("http://llm/ui/api/config") it routes another path than this one
      // ("/api/config"): auth decided on one path would open the other. Such a request is made
      // again with a host long enough, the client's Host header and everything else kept.
      if (request.url.indexOf("/", ELYSIA_PATH_FROM) !== request.url.indexOf("/", request.url.indexOf("//") + 2)) {
        const again = new Request(`${url.protocol}//switchyard.invalid${path}${url.search}`, request);
        redone.set(again, redone.get(request) ?? request);
        return app.handle(again);
      }
      // Here, not as a route: Elysia's loose paths would send /ui/ to a /ui route too.
      if (path === "/ui") return new Response(null, { status: 301, headers: { location: "/ui/" } });
      if (isOpen(path)) return;
    }
    const denied = checkAuth(request);
    if (denied) {
      const answer = negotiateError(denied, request.headers.get("accept"));
      if (routePath !== undefined) withOrigin(request, answer);
      accessLog(request, peerIp(request, server), answer, started);
      return answer;
    }
  };
  /**
   * The model routes' own answers (error envelopes, the loading stream) echo the Origin, as the
   * backend's answers do (llama-server allows any origin): a browser client on another origin then
   * reads a cold model's progress and our errors, not a bare network failure. Proxied answers keep
   * the backend's own policy; admin routes stay without (llama-swap's CORS: only /v1/models).
   */
  const modelRoute = logged(async (request, client) => {
    const res = await modelHandler(request, client);
    if (isGeneratedError(res) || isLoadingStream(res)) withOrigin(request, res);
    return res;
  });
  /**
   * The model routes as Bun.serve `routes`, beside Elysia rather than inside it: they are the hot
   * path, and Elysia's per-request context costs about 20 µs of CPU that these routes do not use
   * (BENCHMARKS.md, issue 16). Elysia merges `serve.routes` into the Bun.serve it starts
   * (docs/runtime-notes.md#serve-routes); `gate` does what its onRequest does for the rest.
   */
  const modelRoutes: Record<string, (request: Request, server: ServerLike) => Response | Promise<Response>> = {};
  for (const route of MODEL_ROUTES) modelRoutes[route.path] = (request, server) => gate(request, server, route.path) ?? modelRoute({ request, server });

  const app = new Elysia({
    serve: {
      routes: modelRoutes,
      // Elysia defaults to reusePort: true, which lets a second instance share the port silently
      // (docs/runtime-notes.md#serve-port).
      reusePort: false,
      // 0 = no idle timeout: a model load plus a long prefill can be silent for minutes
      // (docs/runtime-notes.md#serve-timeouts).
      idleTimeout: 0,
      // Bun answers an over-limit body with an empty 413 before any handler runs; we enforce
      // requestBodyLimitMB ourselves so the client gets our envelope (docs/runtime-notes.md#serve-body-limit).
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    },
  })
    .onRequest(({ request, server }) => gate(request, server))
    .get("/health", () => admin.health())
    .get("/wol-health", () => admin.health())
    .get("/v1/models", logged((r) => admin.models(r)))
    .get("/models", logged((r) => admin.models(r)))
    .get("/running", logged(() => admin.running()))
    .get("/unload", logged(() => admin.unloadAll("text")))
    // Why the path check: Elysia matches "/api/models/unload/" here too (a trailing slash is
    // loose), and an empty model name from a script's unset variable must not unload everything:
    // llama-swap answers it as the model "" (404).
    .post("/api/models/unload", logged((r) => (new URL(r.url).pathname.endsWith("/") ? admin.unloadModel("") : admin.unloadAll("json"))), { parse: "none" })
    .post("/api/models/unload/*", logged((r) => admin.unloadModel(decoded(rest(r, "/api/models/unload/")))), {
      parse: "none",
    })
    .post("/api/models/load/*", logged((r) => admin.loadModel(decoded(rest(r, "/api/models/load/")), r)), {
      parse: "none",
    })
    .get("/logs", logged((r) => admin.logs(r)))
    .get("/logs/stream", logged((r) => admin.logStream("", r)))
    .get("/logs/stream/*", logged((r) => admin.logStream(decoded(rest(r, "/logs/stream/")), r)))
    .get("/api/version", logged(() => admin.version()))
    .get("/api/config", logged(() => configResponse(ctx.config, ctx.configWarnings)))
    .post("/api/config/reload", logged(() => reloadResponse(deps.reload)), { parse: "none" })
    .get("/api/profiles", logged(() => profilesResponse(ctx)))
    .put("/api/profiles/active", logged((r) => setActiveProfileResponse(ctx, r)), { parse: "none" })
    // llama-swap sends / to its UI.
    .get("/", () => new Response(null, { status: 302, headers: { location: "/ui/" } }))
    .get("/ui/*", ({ request }) => {
      if (!ui) return negotiateError(noUi(), request.headers.get("accept"));
      const name = rest(request, "/ui/");
      // A path without a dot is a page of the UI (client-side routes); assets have extensions.
      if (!name.includes(".")) return ui.page();
      return ui.asset(name) ?? negotiateError(errorResponse(404, "not found", { code: "not_found" }), request.headers.get("accept"));
    })
    .get("/api/events", logged((r) => apiEventsResponse(ctx, ctx.events, r)))
    .get("/api/metrics/activity", logged((r) => activityRoutes.activity(r)))
    .get("/api/metrics/stats", logged((r) => activityRoutes.stats(r)))
    .get("/api/captures/*", logged((r) => activityRoutes.capture(decoded(rest(r, "/api/captures/")))))
    .get("/api/inflight", logged(() => inflightRoutes.list()))
    .post("/api/inflight/*", logged((r) => {
      const m = /^([^/]+)\/cancel$/.exec(rest(r, "/api/inflight/"));
      return m ? inflightRoutes.cancel(decoded(m[1])) : errorResponse(404, "not found", { code: "not_found" });
    }), { parse: "none" })
    // Not access-logged, as llama-swap skips it: a dashboard polls it.
    .get("/api/performance", logged((r) => performanceRoutes.performance(r), true))
    .get("/api/hardware", logged(() => performanceRoutes.hardware()))
    // Not access-logged either, as llama-swap skips it: Prometheus scrapes it every few seconds.
    .get("/metrics", logged(() => activityRoutes.prometheus(), true))
    // llama-swap sends the bare /upstream to its UI's model list (the UI opens on it).
    .get("/upstream", () => new Response(null, { status: 302, headers: { location: "/ui/" } }))
    .all("/upstream/*", logged(upstreamHandler), { parse: "none" })
    .all("/comfyui", logged(comfyUiHandler), { parse: "none" })
    .all("/comfyui/*", logged(comfyUiHandler), { parse: "none" })
    .onError(({ code, error, request }) => {
      let res: Response;
      if (code === "NOT_FOUND") {
        // A known path asked with another method is 405, as Go's mux answers for llama-swap.
        const allow = allowedMethods(new URL(request.url).pathname);
        res = allow
          ? errorResponse(405, `method ${request.method} not allowed`, { headers: { allow } })
          : errorResponse(404, "not found", { code: "not_found" });
      } else res = toErrorResponse(error);
      return negotiateError(res, request.headers.get("accept"));
    });

  // Also Elysia routes, for `app.handle()` (tests without a socket): `.all()` with parse: 'none'
  // keeps the body unread (we forward the exact bytes). A listening server answers these paths
  // from `serve.routes` above, which take precedence over Elysia's own mapping of them.
  for (const route of MODEL_ROUTES) app.all(route.path, modelRoute, { parse: "none" });
  return app;
}
