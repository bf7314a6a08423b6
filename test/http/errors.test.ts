import { describe, expect, test } from "bun:test";
import { errorEnvelope, errorResponse, HttpError, negotiateError, routeErrorStatus, sseRouteErrorBytes, toErrorResponse } from "../../src/http/errors.ts";
import { RouteError, type RouteErrorKind } from "../../src/router/types.ts";
import { parseSse } from "../fixtures/sse-parse.ts";

describe("error envelope", () => {
  test("has message, type, param and code for every status", () => {
    const table: [number, string, string][] = [
      [400, "invalid_request_error", "bad_request"],
      [401, "authentication_error", "unauthorized"],
      [404, "invalid_request_error", "not_found"],
      [409, "invalid_request_error", "conflict"],
      [413, "invalid_request_error", "request_too_large"],
      [429, "rate_limit_error", "rate_limit_exceeded"],
      [502, "server_error", "bad_gateway"],
      [503, "server_error", "service_unavailable"],
      [504, "server_error", "gateway_timeout"],
      [418, "invalid_request_error", "invalid_request"],
      [500, "server_error", "internal_error"],
    ];
    for (const [status, type, code] of table) expect(errorEnvelope(status, "m")).toEqual({ src: "switchyard", error: { message: "m", type, param: null, code } });
  });

  test("responses are JSON with the status and extra headers", async () => {
    const res = errorResponse(429, "slow down", { headers: { "retry-after": "2" } });
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("retry-after")).toBe("2");
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe("slow down");
  });

  test("every RouteError kind maps to an honest status", () => {
    const want: Record<RouteErrorKind, number> = {
      model_not_found: 404,
      concurrency_limit: 429,
      start_failed: 503,
      health_timeout: 504,
      unloaded: 503,
      model_removed: 404,
      severed: 503,
      shutting_down: 503,
    does_not_fit: 503,
      cancelled: 499,
    };
    for (const [kind, status] of Object.entries(want)) expect(routeErrorStatus(new RouteError(kind as RouteErrorKind, "x")).status).toBe(status);
    expect(routeErrorStatus(new RouteError("concurrency_limit", "x", 2.2)).opts.headers).toEqual({ "retry-after": "3" });
    expect(routeErrorStatus(new RouteError("concurrency_limit", "x")).opts.headers).toEqual({ "retry-after": "1" });
  });

  test("unknown errors become a 500 envelope with the message, never a bare body", async () => {
    const res = toErrorResponse(new Error("kaboom"));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("kaboom");
    expect(toErrorResponse(new HttpError(409, "busy")).status).toBe(409);
  });

  test("the in-band form is one error event then [DONE]", () => {
    const events = parseSse(new TextDecoder().decode(sseRouteErrorBytes(new RouteError("severed", "cut"))));
    expect(events).toHaveLength(2);
    expect(JSON.parse(events[0].data)).toEqual({ src: "switchyard", error: { message: "cut", type: "server_error", param: null, code: "request_severed" } });
    expect(events[1].data).toBe("[DONE]");
  });

  test("Accept picks text/plain or HTML for our errors, as llama-swap does; JSON otherwise", async () => {
    const make = () => errorResponse(401, `bad <key> & "quote"`, { headers: { "www-authenticate": 'Basic realm="switchyard"' } });
    const plain = negotiateError(make(), "text/plain");
    expect(plain.status).toBe(401);
    expect(plain.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(plain.headers.get("www-authenticate")).toBe('Basic realm="switchyard"');
    expect(await plain.text()).toBe(`switchyard: bad <key> & "quote"`);
    // A browser's Accept: text/html wins over the */* it also lists.
    const html = negotiateError(make(), "text/html,application/xhtml+xml,*/*;q=0.8");
    expect(html.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await html.text()).toBe("<html><body><h1>switchyard</h1><p>bad &lt;key&gt; &amp; &#34;quote&#34;</p></body></html>");
    for (const accept of [null, "*/*", "application/json", "text/event-stream"]) {
      const res = negotiateError(make(), accept);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(((await res.json()) as { src: string }).src).toBe("switchyard");
    }
    // An upstream's own error body is never rewritten.
    const upstream = new Response("upstream says no", { status: 500, headers: { "content-type": "text/plain" } });
    expect(negotiateError(upstream, "text/html")).toBe(upstream);
  });
});
