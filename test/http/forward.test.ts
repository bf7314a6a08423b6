import { afterAll, describe, expect, test } from "bun:test";
import { createHttpContext } from "../../src/http/context.ts";
import { forwardTo, type Outgoing } from "../../src/http/forward.ts";
import { createFakeRouter, makeConfig, peerConfig, quietLogs, startEchoUpstream } from "./helpers.ts";

const echo = startEchoUpstream();
afterAll(() => echo.stop());

const ctx = createHttpContext({
  config: makeConfig([], { peers: { p: peerConfig("p", `${echo.url}/base`, ["m"], { apiKey: "secret" }) } }),
  router: createFakeRouter({}),
  logs: quietLogs(),
  version: { version: "0", commit: "x", date: "d" },
});

function outgoing(): Outgoing {
  const request = new Request("http://switchyard/v1/chat/completions?x=1", {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": "10.0.0.1", authorization: "Bearer client-key" },
  });
  return { request, path: "/v1/chat/completions", search: "?x=1", body: new TextEncoder().encode('{"model":"m"}'), clientIp: "127.0.0.9" };
}

type Echoed = { path: string; query: string; headers: Record<string, string>; body: string };

describe("forwardTo", () => {
  test("a local model: the grant's base URL, the client appended to X-Forwarded-For, done() once at the end", async () => {
    let done = 0;
    const grant = { model: "m", baseUrl: echo.url, severed: new AbortController().signal, done: () => void done++ };
    const res = await forwardTo(ctx, { kind: "local", id: "m", grant }, outgoing());
    const got = (await res.json()) as Echoed;
    expect(got.path).toBe("/v1/chat/completions");
    expect(got.query).toBe("?x=1");
    expect(got.body).toBe('{"model":"m"}');
    expect(got.headers["x-forwarded-for"]).toBe("10.0.0.1, 127.0.0.9");
    expect(got.headers.authorization).toBe("Bearer client-key");
    expect(done).toBe(1);
  });

  test("a peer: its base path, its API key, and nothing of our clients", async () => {
    const res = await forwardTo(ctx, { kind: "peer", peer: ctx.config.peers.p! }, outgoing());
    const got = (await res.json()) as Echoed;
    expect(got.path).toBe("/base/v1/chat/completions");
    expect(got.headers.authorization).toBe("Bearer secret");
    expect(got.headers["x-api-key"]).toBe("secret");
    expect(got.headers["x-forwarded-for"]).toBeUndefined();
  });
});
