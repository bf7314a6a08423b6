/**
 * `/api/metrics/activity` (a page of activity records, with llama-swap's filters) and
 * `/api/metrics/stats` (totals and speed histograms), read from the activity store (the database
 * when `store.path` is set, else the records kept in memory). A query the caller got wrong is a
 * 400 in the error envelope; `/api/captures/{id}` (one captured exchange); and `/metrics`, the
 * Prometheus text. Web-standard.
 */
import { ActivityQueryError, parseActivityQuery } from "../observe/activity-query.ts";
import { createMemoryActivityStore, type ActivityStore } from "../observe/activity-store.ts";
import { familyNames, relabelUpstreamMetrics, type UpstreamScrape } from "../observe/upstream-metrics.ts";
import type { HttpContext } from "./context.ts";
import { errorResponse } from "./errors.ts";

/** The activity handlers. */
export interface ActivityRoutes {
  activity(request: Request): Response;
  stats(request: Request): Response;
  /** `/api/captures/{id}`: 404 when captures are off, or that capture is gone or was never taken. */
  capture(id: string): Response;
  /** `/metrics`: the Prometheus text exposition (with each running model's own, when `metrics.upstream`). */
  prometheus(): Promise<Response>;
}

/** Create the handlers over the context's activity log. */
export function createActivityRoutes(ctx: HttpContext): ActivityRoutes {
  const store: ActivityStore = ctx.activityStore ?? createMemoryActivityStore({ recent: () => ctx.activity?.recent() ?? [] });
  return {
    activity(request) {
      try {
        const page = store.query(parseActivityQuery(new URL(request.url).searchParams));
        // A capture can be pushed out of its ring after its record was written: say what is held now.
        const ring = ctx.captures;
        if (ring) page.data = page.data.map((r) => (r.has_capture === ring.has(r.id) ? r : { ...r, has_capture: ring.has(r.id) }));
        return Response.json(page);
      } catch (err) {
        if (err instanceof ActivityQueryError) return errorResponse(400, err.message, { code: "invalid_query" });
        throw err;
      }
    },
    async prometheus() {
      if (!ctx.metrics) return errorResponse(404, "metrics are not enabled", { code: "not_found" });
      const ours = ctx.metrics.render();
      const theirs = ctx.config.upstreamMetrics ? relabelUpstreamMetrics(await scrapeUpstreams(ctx), familyNames(ours)) : "";
      return new Response(ours + theirs, { headers: { "content-type": ctx.metrics.contentType } });
    },
    capture(raw) {
      if (!ctx.captures) return errorResponse(404, "captures are off (set captureBuffer to a size in MB)", { code: "not_found" });
      const id = /^[0-9]{1,15}$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(id)) return errorResponse(400, `capture id ${JSON.stringify(raw)} is not a number`, { code: "invalid_id" });
      const c = ctx.captures.get(id);
      return c ? Response.json(c) : errorResponse(404, `capture ${id} not found`, { code: "not_found" });
    },
    stats(request) {
      const model = new URL(request.url).searchParams.get("model")?.trim() || undefined;
      return Response.json(store.stats(model));
    },
  };
}

/** How long one backend may take to answer its /metrics before it is left out of a scrape. */
const UPSTREAM_METRICS_TIMEOUT_MS = 2000;

/**
 * Each ready local model's own `/metrics`, fetched in parallel. Read straight from its server,
 * outside the router: a scrape neither counts as a request nor keeps a model loaded (a model
 * stopping meanwhile just answers nothing this time).
 */
async function scrapeUpstreams(ctx: HttpContext): Promise<UpstreamScrape[]> {
  const ready = Object.keys(ctx.config.models)
    .sort()
    .filter((id) => ctx.process(id)?.state === "ready");
  return await Promise.all(
    ready.map(async (model): Promise<UpstreamScrape> => {
      try {
        const base = ctx.process(model)!.baseUrl.replace(/\/+$/, "");
        const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(UPSTREAM_METRICS_TIMEOUT_MS), headers: { accept: "text/plain" } });
        if (res.status !== 200) {
          await res.body?.cancel();
          return { model, text: null };
        }
        return { model, text: await res.text() };
      } catch {
        return { model, text: null };
      }
    }),
  );
}
