/**
 * `/comfyui/…` (llama-swap's TestServer_HandleComfyUI and its neighbours): the redirect, the fixed
 * local model, only the root loads it, escaped paths kept, the socket without a grant, and auth.
 */
import { afterAll, describe, expect, test } from "bun:test";
import type { Supervisor } from "../../src/process/types.ts";
import { openSocket, UPGRADE_HEADERS } from "../fixtures/ws-client.ts";
import { createFakeRouter, fakeSupervisor, makeConfig, modelConfig, peerConfig, startApp } from "./helpers.ts";

interface Echo {
  method: string;
  path: string;
  query: string;
  body: string;
}

/** An upstream that echoes HTTP requests and greets on a socket with the path it was asked for. */
const upstream = Bun.serve<{ path: string }>({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req, server) {
    const u = new URL(req.url);
    if (server.upgrade(req, { data: { path: u.pathname + u.search } })) return undefined;
    return Response.json({ method: req.method, path: u.pathname, query: u.search, body: await req.text() });
  },
  websocket: {
    open(ws) {
      ws.send(`hello ${ws.data.path}`);
    },
    message(ws, m) {
      ws.send(m);
    },
  },
});
const base = `http://127.0.0.1:${upstream.port}`;
afterAll(() => upstream.stop(true));

/** An app whose comfyui_auto is in `state` (the config forces compat.ignoreWebsockets on, as the loader does). */
function comfyApp(state: Supervisor["state"], over: { apiKeys?: string[] } = {}) {
  const sup = { ...fakeSupervisor("comfyui_auto", state), baseUrl: base };
  const config = makeConfig([modelConfig("comfyui_auto", { proxy: base, compat: { ignoreWebsockets: true } })], over);
  const router = createFakeRouter({ comfyui_auto: { baseUrl: base } });
  const app = startApp({ config, router, models: new Map([["comfyui_auto", sup]]) });
  return { ...app, router, sup: sup as { state: Supervisor["state"] } };
}

const apps: { stop(): void }[] = [];
afterAll(() => {
  for (const a of apps) a.stop();
});
function track<T extends { stop(): void }>(a: T): T {
  apps.push(a);
  return a;
}

describe("/comfyui", () => {
  const a = track(comfyApp("stopped"));

  test("the bare path redirects to /comfyui/ with its query: 301 for GET and HEAD, 308 otherwise", async () => {
    for (const [method, status] of [["GET", 301], ["HEAD", 301], ["POST", 308]] as const) {
      const res = await fetch(`${a.url}/comfyui?token=value`, { method, redirect: "manual" });
      expect(res.status).toBe(status);
      expect(res.headers.get("location")).toBe("/comfyui/?token=value");
    }
  });

  test("only the root starts an unloaded model; other paths are 409 and reach nothing", async () => {
    const before = a.router.grants.length;
    const sub = await fetch(`${a.url}/comfyui/api/prompt`, { method: "POST", body: "{}" });
    expect(sub.status).toBe(409);
    expect(((await sub.json()) as { error: { message: string } }).error.message).toBe("model comfyui_auto is not loaded; only /comfyui/ can start it");
    a.sup.state = "starting";
    expect((await fetch(`${a.url}/comfyui/api/prompt`)).status).toBe(409);
    const ws = await fetch(`${a.url}/comfyui/ws`, { headers: UPGRADE_HEADERS });
    expect(ws.status).toBe(409);
    expect(a.router.grants.length).toBe(before);

    a.sup.state = "stopped";
    const root = (await (await fetch(`${a.url}/comfyui/?token=value`)).json()) as Echo;
    expect(root).toMatchObject({ method: "GET", path: "/", query: "?token=value" });
    expect(a.router.grants.length).toBe(before + 1);
    expect(a.router.grants[before].model).toBe("comfyui_auto");
  });

  test("a ready model gets every path, prefix stripped and escapes kept (llama-swap's table)", async () => {
    a.sup.state = "ready";
    const cases = [
      { target: "/comfyui/api/userdata/workflows%2Fexample.json?preview=1", path: "/api/userdata/workflows%2Fexample.json", query: "?preview=1" },
      { target: "/comfyui/api/userdata/workflows%252Fexample.json", path: "/api/userdata/workflows%252Fexample.json", query: "" },
      { target: "/comfyui/api/%E2%9C%93%2Ffile.json", path: "/api/%E2%9C%93%2Ffile.json", query: "" },
    ];
    for (const c of cases) {
      const seen = (await (await fetch(`${a.url}${c.target}`, { method: "POST", body: "x" })).json()) as Echo;
      expect(seen).toMatchObject({ method: "POST", path: c.path, query: c.query, body: "x" });
    }
  });

  test("its socket is relayed without a grant once the model is ready", async () => {
    a.sup.state = "ready";
    const before = a.router.grants.length;
    const s = await openSocket(`${a.url.replace("http:", "ws:")}/comfyui/ws?clientId=c1`);
    expect(await s.next()).toBe("hello /ws?clientId=c1");
    s.send("ping");
    expect(await s.next()).toBe("ping");
    expect(a.router.grants.length).toBe(before);
    s.ws.close(1000);
    expect((await s.closed).code).toBe(1000);
  });
});

describe("/comfyui needs a local comfyui_auto", () => {
  test("absent, or only a peer's model of that name: 404", async () => {
    const none = track(startApp({ config: makeConfig([modelConfig("other")]), router: createFakeRouter({}) }));
    expect((await fetch(`${none.url}/comfyui/`)).status).toBe(404);
    const peer = track(
      startApp({ config: makeConfig([modelConfig("other")], { peers: { p: peerConfig("p", base, ["comfyui_auto"]) } }), router: createFakeRouter({}) }),
    );
    const res = await fetch(`${peer.url}/comfyui/`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe("local model comfyui_auto not found");
  });

  test("an alias named comfyui_auto does not count", async () => {
    const aliased = track(startApp({ config: makeConfig([modelConfig("real", { aliases: ["comfyui_auto"] })]), router: createFakeRouter({}) }));
    expect((await fetch(`${aliased.url}/comfyui/`)).status).toBe(404);
  });
});

describe("/comfyui and apiKeys", () => {
  test("it needs a key like every model path", async () => {
    const a = track(comfyApp("ready", { apiKeys: ["secret"] }));
    expect((await fetch(`${a.url}/comfyui/`)).status).toBe(401);
    const ok = await fetch(`${a.url}/comfyui/`, { headers: { authorization: "Bearer secret" } });
    expect(ok.status).toBe(200);
  });
});
