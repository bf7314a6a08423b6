import { afterAll, describe, expect, test } from "bun:test";
import { preflightResponse } from "../../src/http/cors.ts";
import { createFakeRouter, createGate, fakeSupervisor, makeConfig, modelConfig, startApp, startFakeOpenAI } from "./helpers.ts";

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

describe("CORS on the model routes' own answers", () => {
  const backend = startFakeOpenAI();
  const gate = createGate();
  const open = startApp({
    config: makeConfig([modelConfig("cold", { sendLoadingState: true })]),
    router: createFakeRouter({ cold: { baseUrl: backend.url, updates: [{ position: 0, model: "cold", loading: true }], gate: gate.wait } }),
    models: new Map([["cold", fakeSupervisor("cold", "stopped")]]),
  });
  const locked = startApp({ config: makeConfig([modelConfig("m")], { apiKeys: ["k1"] }), router: createFakeRouter({}) });
  afterAll(() => {
    open.stop();
    locked.stop();
    backend.stop();
  });
  const post = (url: string, body: object, origin?: string) =>
    fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...(origin ? { origin } : {}) }, body: JSON.stringify(body) });

  test("an error envelope, a refused key and a loading stream echo the Origin (a browser on another origin reads them); admin routes do not", async () => {
    const notFound = await post(open.url, { model: "nope", messages: [] }, "http://app.example");
    expect([notFound.status, notFound.headers.get("access-control-allow-origin"), notFound.headers.get("vary")]).toEqual([404, "http://app.example", "Origin"]);
    const denied = await post(locked.url, { model: "m", messages: [] }, "http://app.example");
    expect([denied.status, denied.headers.get("access-control-allow-origin")]).toEqual([401, "http://app.example"]);
    const loading = await post(open.url, { model: "cold", stream: true, messages: [] }, "http://app.example");
    expect([loading.status, loading.headers.get("content-type"), loading.headers.get("access-control-allow-origin")]).toEqual([200, "text/event-stream", "http://app.example"]);
    gate.open();
    await loading.text();
    // Without an Origin nothing is added; the admin routes keep llama-swap's policy.
    expect((await post(open.url, { model: "nope", messages: [] })).headers.get("access-control-allow-origin")).toBeNull();
    expect((await fetch(`${open.url}/running`, { headers: { origin: "http://app.example" } })).headers.get("access-control-allow-origin")).toBeNull();
  });
});
