/**
 * `/comfyui/…`: llama-swap's ComfyUI passthrough to the fixed local model `comfyui_auto`, whose
 * `compat.ignoreWebsockets` is forced on (and concurrencyLimit raised to at least 50) when the
 * config loads. `/comfyui` redirects to `/comfyui/`; the prefix is stripped and the rest of the
 * path goes to the model's server as written (percent-escapes kept), bodies streamed. Only the
 * root, `/comfyui/`, may load the model: any other path of a model that is not ready is a 409, so
 * a browser tab left open on ComfyUI (polling its API, its socket reconnecting) never loads it
 * again after an unload or a swap.
 */
import { DEFAULTS } from "../config/schema.ts";
import type { HttpContext } from "./context.ts";
import { errorResponse, toErrorResponse } from "./errors.ts";
import { forwardTo } from "./forward.ts";
import type { Handler } from "./model-routes.ts";
import { forwardBounded } from "./upstream-routes.ts";
import { isWebSocketUpgrade, webSocketPassThrough, type WebSocketEdge } from "./websocket-relay.ts";

/** The model ID `/comfyui/` serves (llama-swap's ComfyUIModelID). */
export const COMFYUI_MODEL_ID = DEFAULTS.comfyUIModelId;

/** Create the handler of `/comfyui` and `/comfyui/*`; `webSockets` passes ComfyUI's socket through. */
export function createComfyUiHandler(ctx: HttpContext, webSockets?: WebSocketEdge): Handler {
  return async (request, client) => {
    try {
      const url = new URL(request.url);
      if (url.pathname === "/comfyui") {
        const status = request.method === "GET" || request.method === "HEAD" ? 301 : 308;
        return new Response(null, { status, headers: { location: `/comfyui/${url.search}` } });
      }
      const id = COMFYUI_MODEL_ID;
      // A local model with exactly this ID: an alias or a peer's model does not count.
      const model = Object.hasOwn(ctx.config.models, id) ? ctx.config.models[id] : undefined;
      if (!model) return errorResponse(404, `local model ${id} not found`, { code: "model_not_found" });
      const rest = url.pathname.slice("/comfyui".length);
      if (rest !== "/" && ctx.stateOf(id) !== "ready") {
        return errorResponse(409, `model ${id} is not loaded; only /comfyui/ can start it`, { code: "model_not_loaded" });
      }
      if (isWebSocketUpgrade(request.headers)) {
        return await webSocketPassThrough(ctx, webSockets, request, client, { kind: "local", id, model }, rest, url.search);
      }
      return await forwardBounded(ctx, request, { path: rest, search: url.search, clientIp: client?.ip ?? null }, async (out) => {
        const grant = await ctx.router.acquire(id, { signal: request.signal });
        return forwardTo(ctx, { kind: "local", id, grant }, out);
      });
    } catch (err) {
      return toErrorResponse(err);
    }
  };
}
