import { afterAll, describe, expect, test } from "bun:test";
import { preflightResponse } from "../../src/http/cors.ts";
import { createFakeRouter, makeConfig, modelConfig, startApp } from "./helpers.ts";

describe("preflightResponse", () => {
  test("only answers OPTIONS", () => {
    expect(preflightResponse(new Request("http://x/", { method: "GET" }))).toBeNull();
  });
  test("defaults the allowed headers when none are requested", () => {
    const res = preflightResponse(new Request("http://x/", { method: "OPTIONS" }))!;
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-headers")).toBe("Content-Type, Authorization, Accept, X-Requested-With");
    expect(res.headers.get("access-control-allow-methods")).toBe("GET, POST, PUT, PATCH, DELETE, OPTIONS");
  });
});

describe("CORS in the app", () => {
  const locked = startApp({ config: makeConfig([modelConfig("m")], { apiKeys: ["k1"] }), router: createFakeRouter({}) });
  afterAll(() => locked.stop());

  test("OPTIONS preflight is answered 204 without a key", async () => {
    const res = await fetch(`${locked.url}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: { origin: "http://x", "access-control-request-headers": "content-type, x-api-key, bad header" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")).toBe("content-type, x-api-key");
    expect(res.headers.get("access-control-max-age")).toBe("86400");
  });
});
