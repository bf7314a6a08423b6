/**
 * `GET /api/profiles` and `PUT /api/profiles/active` in llama-swap's shapes (internal/server/
 * apigroup.go): the profiles sorted by ID with the active one (null for none), and
 * `{"name": "<id>" | null}` to switch, answering `{"active": ...}`. Web-standard.
 */
import { compareCodePoints } from "../config/compare-code-points.ts";
import type { HttpContext } from "./context.ts";
import { errorResponse, toErrorResponse } from "./errors.ts";

const json = (body: unknown): Response => new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });

/** The profiles and the active one. */
export function profilesResponse(ctx: HttpContext): Response {
  const profiles = Object.entries(ctx.config.profiles)
    .sort(([a], [b]) => compareCodePoints(a, b))
    .map(([id, p]) => ({ id, description: p.description, pins: p.pins }));
  return json({ active: ctx.names.active(), profiles });
}

/** Switch the active profile (`null` or "" for none). */
export async function setActiveProfileResponse(ctx: HttpContext, request: Request): Promise<Response> {
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
  } catch {
    return errorResponse(400, "invalid profile request");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return errorResponse(400, "invalid profile request");
  if (!Object.hasOwn(body, "name")) return errorResponse(400, "profile name is required");
  const name = (body as { name: unknown }).name;
  if (name !== null && typeof name !== "string") return errorResponse(400, "profile name must be a string or null");
  try {
    ctx.names.setActive(name === "" ? null : name);
  } catch (err) {
    return toErrorResponse(err);
  }
  return json({ active: ctx.names.active() });
}
