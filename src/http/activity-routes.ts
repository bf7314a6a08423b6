/**
 * `/api/metrics/activity` (a page of activity records, with llama-swap's filters) and
 * `/api/metrics/stats` (totals and speed histograms), read from the activity store (the database
 * when `store.path` is set, else the records kept in memory). A query the caller got wrong is a
 * 400 in the error envelope; and `/metrics`, the Prometheus text. Web-standard.
 */
import { ActivityQueryError, parseActivityQuery } from "../observe/activity-query.ts";
import { createMemoryActivityStore, type ActivityStore } from "../observe/activity-store.ts";
import type { HttpContext } from "./context.ts";
import { errorResponse } from "./errors.ts";

/** The activity handlers. */
export interface ActivityRoutes {
  activity(request: Request): Response;
  stats(request: Request): Response;
  /** `/metrics`: the Prometheus text exposition. */
  prometheus(): Response;
}

/** Create the handlers over the context's activity log. */
export function createActivityRoutes(ctx: HttpContext): ActivityRoutes {
  const store: ActivityStore = ctx.activityStore ?? createMemoryActivityStore({ recent: () => ctx.activity?.recent() ?? [] });
  return {
    activity(request) {
      try {
        return Response.json(store.query(parseActivityQuery(new URL(request.url).searchParams)));
      } catch (err) {
        if (err instanceof ActivityQueryError) return errorResponse(400, err.message, { code: "invalid_query" });
        throw err;
      }
    },
    prometheus() {
      if (!ctx.metrics) return errorResponse(404, "metrics are not enabled", { code: "not_found" });
      return new Response(ctx.metrics.render(), { headers: { "content-type": ctx.metrics.contentType } });
    },
    stats(request) {
      const model = new URL(request.url).searchParams.get("model")?.trim() || undefined;
      return Response.json(store.stats(model));
    },
  };
}
