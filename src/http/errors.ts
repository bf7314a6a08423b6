/**
 * The one error envelope switchyard generates, OpenAI-style:
 * `{"error":{"message","type","param","code"}}`, with an honest status for each cause.
 */
import { RouteError } from "../router/types.ts";
import { sseBytes, sseEvent, SSE_DONE } from "../sse/encode.ts";

/** The envelope body. */
export interface ErrorEnvelope {
  error: { message: string; type: string; param: string | null; code: string };
}

/** Default `type` and `code` per status (llama-swap's table). */
function defaults(status: number): { type: string; code: string } {
  switch (status) {
    case 400:
      return { type: "invalid_request_error", code: "bad_request" };
    case 401:
      return { type: "authentication_error", code: "unauthorized" };
    case 403:
      return { type: "authentication_error", code: "forbidden" };
    case 404:
      return { type: "invalid_request_error", code: "not_found" };
    case 405:
      return { type: "invalid_request_error", code: "method_not_allowed" };
    case 409:
      return { type: "invalid_request_error", code: "conflict" };
    case 413:
      return { type: "invalid_request_error", code: "request_too_large" };
    case 429:
      return { type: "rate_limit_error", code: "rate_limit_exceeded" };
    case 502:
      return { type: "server_error", code: "bad_gateway" };
    case 503:
      return { type: "server_error", code: "service_unavailable" };
    case 504:
      return { type: "server_error", code: "gateway_timeout" };
    default:
      return status < 500
        ? { type: "invalid_request_error", code: "invalid_request" }
        : { type: "server_error", code: "internal_error" };
  }
}

/** Options of one generated error. */
export interface ErrorOptions {
  code?: string;
  type?: string;
  param?: string | null;
  headers?: Record<string, string>;
}

/** Build the envelope object for a status and message. */
export function errorEnvelope(status: number, message: string, opts: ErrorOptions = {}): ErrorEnvelope {
  const d = defaults(status);
  return {
    error: { message, type: opts.type ?? d.type, param: opts.param ?? null, code: opts.code ?? d.code },
  };
}

/** A complete JSON error response. */
export function errorResponse(status: number, message: string, opts: ErrorOptions = {}): Response {
  const headers = new Headers(opts.headers);
  headers.set("content-type", "application/json");
  return new Response(JSON.stringify(errorEnvelope(status, message, opts)), { status, headers });
}

/** An error raised inside request handling that already knows its status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly opts: ErrorOptions = {},
  ) {
    super(message);
    this.name = "HttpError";
  }

  /** The response for this error. */
  toResponse(): Response {
    return errorResponse(this.status, this.message, this.opts);
  }
}

/** Status and options for a router refusal. */
export function routeErrorStatus(err: RouteError): { status: number; opts: ErrorOptions } {
  switch (err.kind) {
    case "model_not_found":
      return { status: 404, opts: { code: "model_not_found" } };
    case "concurrency_limit":
      return {
        status: 429,
        opts: { code: "concurrency_limit", headers: { "retry-after": String(Math.max(1, Math.ceil(err.retryAfterSec ?? 1))) } },
      };
    case "start_failed":
      return { status: 503, opts: { code: "model_start_failed" } };
    case "health_timeout":
      return { status: 504, opts: { code: "model_health_timeout" } };
    case "unloaded":
      return { status: 503, opts: { code: "model_unloaded" } };
    case "severed":
      return { status: 503, opts: { code: "request_severed" } };
    case "shutting_down":
      return { status: 503, opts: { code: "shutting_down" } };
    case "cancelled":
      // Nobody reads it (the client left); 499 is nginx's "client closed request".
      return { status: 499, opts: { code: "cancelled", type: "invalid_request_error" } };
  }
}

/** Map any error thrown while routing or proxying to an envelope response (never a bare 500). */
export function toErrorResponse(err: unknown): Response {
  if (err instanceof HttpError) return err.toResponse();
  if (err instanceof RouteError) {
    const { status, opts } = routeErrorStatus(err);
    return errorResponse(status, err.message, opts);
  }
  const message = err instanceof Error ? err.message : String(err);
  return errorResponse(500, `internal error: ${message}`);
}

/** An in-band error event followed by `[DONE]`, for a stream whose headers are already sent. */
export function sseErrorBytes(message: string, opts: { type?: string; code?: string; status?: number } = {}): Uint8Array {
  const status = opts.status ?? 502;
  const env = errorEnvelope(status, message, opts);
  return sseBytes(sseEvent(env) + SSE_DONE);
}

/** The in-band error event for a RouteError (severed, start failure, ...). */
export function sseRouteErrorBytes(err: unknown): Uint8Array {
  if (err instanceof RouteError) {
    const { status, opts } = routeErrorStatus(err);
    return sseErrorBytes(err.message, { ...opts, status });
  }
  if (err instanceof HttpError) return sseErrorBytes(err.message, { ...err.opts, status: err.status });
  return sseErrorBytes(err instanceof Error ? err.message : String(err), { status: 502 });
}
