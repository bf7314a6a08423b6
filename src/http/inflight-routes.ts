/**
 * `GET /api/inflight` (the requests open now, oldest first, as llama-swap's snapshot) and
 * `POST /api/inflight/{id}/cancel` (llama-swap's cancel: a queued request leaves its queue, one
 * being served is cut with an in-band error; its activity record says an operator cancelled it).
 * Web-standard.
 */
import type { HttpContext } from "./context.ts";
import { errorResponse } from "./errors.ts";

/** The in-flight handlers. */
export interface InflightRoutes {
  list(): Response;
  cancel(id: string): Response;
}

/** Create the handlers over the context's activity log. */
export function createInflightRoutes(ctx: HttpContext): InflightRoutes {
  return {
    list: () => Response.json({ operation: "snapshot", requests: ctx.activity?.inflight() ?? [] }),
    cancel(raw) {
      const id = /^[0-9]{1,15}$/.test(raw) ? Number(raw) : NaN;
      if (!ctx.activity || !Number.isSafeInteger(id) || !ctx.activity.cancel(id)) {
        return errorResponse(404, `inflight request ${JSON.stringify(raw)} not found`, { code: "not_found" });
      }
      return Response.json({ msg: "ok" });
    },
  };
}
