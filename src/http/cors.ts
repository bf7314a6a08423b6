/**
 * CORS as llama-swap does it: every OPTIONS request is a preflight answered 204 with
 * permissive headers (before auth, since browsers send no credentials on preflight);
 * other responses carry no CORS headers except `/v1/models`, which echoes the Origin, and (switchyard)
 * the model routes' own answers (error envelopes, the loading stream), which echo it too (app.ts).
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const DEFAULT_HEADERS = "Content-Type, Authorization, Accept, X-Requested-With";

/** The 204 preflight answer for an OPTIONS request, or null for any other method. */
export function preflightResponse(request: Request): Response | null {
  if (request.method !== "OPTIONS") return null;
  const requested = (request.headers.get("access-control-request-headers") ?? "")
    .split(",")
    .map((h) => h.trim())
    .filter((h) => TOKEN.test(h));
  return new Response(null, {
    status: 204,
    headers: {
      "access-control-allow-origin": "*",
      "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
      "access-control-allow-headers": requested.length ? requested.join(", ") : DEFAULT_HEADERS,
      "access-control-max-age": "86400",
    },
  });
}
