/**
 * Admin and info endpoints: health, model list, running models, unload, logs, version.
 * Web-standard handlers; app.ts mounts them on Elysia.
 */
import type { HttpContext } from "./context.ts";
import { errorResponse, toErrorResponse } from "./errors.ts";
import { followLogs } from "./follow-logs.ts";
import { listModels } from "./model-list.ts";

/** One entry of `/running`: llama-swap's fields plus the router's counters. */
export interface RunningRecord {
  model: string;
  state: string;
  cmd: string;
  proxy: string;
  ttl: number;
  name: string;
  description: string;
  /** Pid of the model's server (leader of its process group), or null. */
  pid: number | null;
  inFlight: number;
  queued: number;
  draining: boolean;
  /** ISO time since when the model drains, or null. */
  drainingSince: string | null;
  /** (the fit router) Its memory figure in bytes, where it sits, and where the figure came from. */
  memory?: { bytes: number; perDevice: Record<string, number>; source: string };
}

/** The admin handlers. */
export interface AdminRoutes {
  health(): Response;
  models(request: Request): Response;
  running(): Response;
  /** POST /api/models/unload (`{"msg":"ok"}`) and GET /unload (`OK`). */
  unloadAll(shape: "json" | "text"): Promise<Response>;
  /** POST /api/models/unload/<model>. */
  unloadModel(name: string): Promise<Response>;
  /** POST /api/models/load/<model> (switchyard): load it through the router, answer once ready. */
  loadModel(name: string, request: Request): Promise<Response>;
  /** GET /logs: the history as text; a browser is sent to the UI. */
  logs(request?: Request): Response;
  /** `which`: "" (combined), "proxy", "upstream" or a model ID or alias. */
  logStream(which: string, request: Request): Response;
  version(): Response;
}

const json = (body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { headers: { "content-type": "application/json", ...headers } });

const text = (body: string): Response => new Response(body, { headers: { "content-type": "text/plain; charset=utf-8" } });

/** Quote an argv element only when a shell would need it, for display. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * The model named by the longest leading run of path segments (llama-swap's FindModelInPath),
 * so `/logs/stream/org/model/` and `/logs/stream/org/model` both find `org/model`.
 */
function longestLocalPrefix(ctx: HttpContext, path: string): string | null {
  let name = "";
  let found: string | null = null;
  for (const seg of path.split("/")) {
    if (seg === "") continue;
    name = name ? `${name}/${seg}` : seg;
    found = ctx.localId(name) ?? found;
  }
  return found;
}

/** Create the admin handlers over the shared context. */
export function createAdminRoutes(ctx: HttpContext): AdminRoutes {
  return {
    health: () => text("OK"),

    models(request) {
      // llama-swap echoes the Origin here so browser clients can read the list.
      const origin = request.headers.get("origin");
      return json(listModels(ctx), origin ? { "access-control-allow-origin": origin, vary: "Origin" } : {});
    },

    running() {
      const byModel = new Map(ctx.router.status().map((s) => [s.model, s]));
      const out: RunningRecord[] = [];
      // The router's models too: during a reload's drain a removed model still runs, and a
      // restarted one runs its old settings; each is shown as its process was started.
      for (const id of new Set([...Object.keys(ctx.config.models), ...byModel.keys()])) {
        // The command and proxy its process was started with; the metadata (ttl, name, …) a
        // reload applied in place, from the live config while the model is in it.
        const started = ctx.process(id)?.config ?? ctx.config.models[id];
        if (!started) continue;
        const m = ctx.config.models[id] ? { ...ctx.config.models[id]!, cmd: started.cmd, proxy: started.proxy } : started;
        const s = byModel.get(m.id);
        const state = ctx.process(m.id)?.state ?? s?.state ?? "stopped";
        const inFlight = s?.inFlight ?? 0;
        const queued = s?.queued ?? 0;
        // Loaded (or loading, or stopping) servers only, as llama-swap: a model with requests
        // waiting but no process is not running (the queue shows in /api/events and /metrics).
        if (state === "stopped" || state === "shutdown") continue;
        out.push({
          model: m.id,
          state,
          cmd: m.cmd.map(shellQuote).join(" "),
          proxy: m.proxy,
          ttl: m.ttl,
          name: m.name,
          description: m.description,
          pid: ctx.process(m.id)?.pid ?? null,
          inFlight,
          queued,
          draining: s?.drainingSince != null,
          drainingSince: s?.drainingSince != null ? new Date(s.drainingSince).toISOString() : null,
        });
      }
      out.sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
      // The fit router: each model's memory (figure, source, devices) and every device's budget.
      const memory = ctx.router.memory?.() ?? null;
      if (!memory) return json({ running: out });
      for (const r of out) {
        const mm = memory.models[r.model];
        if (mm) r.memory = { bytes: mm.bytes, perDevice: mm.perDevice, source: mm.source };
      }
      return json({ running: out, devices: memory.devices });
    },

    async unloadAll(shape) {
      await ctx.router.unload();
      return shape === "json" ? json({ msg: "ok" }) : text("OK");
    },

    async unloadModel(name) {
      const id = ctx.localId(name);
      if (id === null) return errorResponse(404, `model "${name}" not found`, { code: "model_not_found" });
      await ctx.router.unload([id]);
      return text("OK");
    },

    async loadModel(name, request) {
      const id = ctx.localId(name);
      if (id === null) return errorResponse(404, `model "${name}" not found`, { code: "model_not_found" });
      // A request like any other (queue, swap, group rules), released at once: the model stays
      // loaded under its ttl. The client leaving cancels it like any queued request.
      try {
        const grant = await ctx.router.acquire(id, { signal: request.signal });
        grant.done();
      } catch (err) {
        return toErrorResponse(err);
      }
      return json({ msg: "ok", model: id, state: "ready" });
    },

    // A browser (a /logs bookmark from llama-swap) is sent to the UI, as llama-swap does.
    logs: (request) =>
      (request?.headers.get("accept") ?? "").includes("text/html") ? new Response(null, { status: 302, headers: { location: "/ui/" } }) : text(ctx.combinedLogs.history()),

    logStream(which, request) {
      const noHistory = new URL(request.url).searchParams.has("no-history");
      if (which === "") return followLogs([ctx.combinedLogs], !noHistory);
      if (which === "proxy") return followLogs([ctx.logs.proxy], !noHistory);
      if (which === "upstream") return followLogs([ctx.logs.upstream], !noHistory);
      const id = longestLocalPrefix(ctx, which);
      if (id === null) return errorResponse(400, "invalid logger. Use 'proxy', 'upstream' or a model's ID");
      return followLogs([ctx.logs.model(id)], !noHistory);
    },

    version: () =>
      json({ version: ctx.version.version, commit: ctx.version.commit, build_date: ctx.version.date }),
  };
}
