/**
 * WebSocket passthrough on /upstream/<model>/…: the app listening for real, a fake router (its
 * grants count done() calls), and an in-process upstream WebSocket server that tells what its
 * handshake carried, echoes, and closes when asked.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { isWebSocketUpgrade, relayWebSocket, sendableCloseCode, webSocketUrl, type ClientSocket, type ClientSocketEvents } from "../../src/http/websocket-relay.ts";
import type { Supervisor } from "../../src/process/types.ts";
import { RouteError } from "../../src/router/types.ts";
import { openSocket, UPGRADE_HEADERS } from "../fixtures/ws-client.ts";
import { waitFor } from "../fixtures/wait.ts";
import { createFakeRouter, fakeSupervisor, makeConfig, modelConfig, peerConfig, startApp } from "./helpers.ts";

interface Handshake {
  path: string;
  headers: Record<string, string>;
}

/** Closes the upstream saw, in order. */
const upstreamCloses: { code: number; reason: string }[] = [];
const upstream = Bun.serve<Handshake>({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req, server) {
    const u = new URL(req.url);
    if (u.pathname.startsWith("/nows")) return new Response("no socket here", { status: 404 });
    const asked = req.headers.get("sec-websocket-protocol");
    const headers = asked ? { "sec-websocket-protocol": asked.split(",")[0].trim() } : undefined;
    if (server.upgrade(req, { data: { path: u.pathname + u.search, headers: Object.fromEntries(req.headers) }, headers })) return undefined;
    return new Response("not an upgrade", { status: 400 });
  },
  websocket: {
    open(ws) {
      ws.send(JSON.stringify(ws.data));
    },
    message(ws, m) {
      if (m === "close") ws.close(4001, "bye");
      else if (m === "drop") ws.terminate();
      else ws.send(m);
    },
    close(_ws, code, reason) {
      upstreamCloses.push({ code, reason });
    },
  },
});
const base = `http://127.0.0.1:${upstream.port}`;

const supervisors = new Map<string, Supervisor>([
  ["m", fakeSupervisor("m", "ready")],
  ["quiet", fakeSupervisor("quiet", "stopped")],
  ["quiet-up", { ...fakeSupervisor("quiet-up", "ready"), baseUrl: base }],
]);
const config = makeConfig(
  [
    modelConfig("m", { aliases: ["alias"] }),
    modelConfig("quiet", { compat: { ignoreWebsockets: true } }),
    modelConfig("quiet-up", { proxy: base, compat: { ignoreWebsockets: true } }),
  ],
  { peers: { p: peerConfig("p", base, ["remote"], { apiKey: "pk" }) } },
);
const router = createFakeRouter({ m: { baseUrl: base }, quiet: { baseUrl: base }, "quiet-up": { baseUrl: base } });
const app = startApp({ config, router, models: supervisors });
const wsBase = app.url.replace("http:", "ws:");
afterAll(() => {
  app.stop();
  upstream.stop(true);
});

/** Open a relayed socket and read the upstream's handshake report. */
async function relayed(path: string, opts: Parameters<typeof openSocket>[1] = {}) {
  const s = await openSocket(`${wsBase}${path}`, opts);
  const handshake = JSON.parse((await s.next()) as string) as Handshake;
  return { s, handshake };
}

describe("isWebSocketUpgrade (llama-swap's TestIsWebSocketUpgrade)", () => {
  const cases: { name: string; connection: string; upgrade: string; want: boolean }[] = [
    { name: "standard", connection: "Upgrade", upgrade: "websocket", want: true },
    { name: "case insensitive tokens", connection: "keep-alive, UpGrAdE", upgrade: "WebSocket", want: true },
    { name: "missing connection token", connection: "keep-alive", upgrade: "websocket", want: false },
    { name: "different protocol", connection: "Upgrade", upgrade: "h2c", want: false },
  ];
  for (const c of cases) {
    test(c.name, () => {
      expect(isWebSocketUpgrade(new Headers({ connection: c.connection, upgrade: c.upgrade }))).toBe(c.want);
    });
  }
});

describe("close codes and URLs", () => {
  test("only codes an endpoint may send pass as they are", () => {
    expect([1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999].every(sendableCloseCode)).toBe(true);
    expect([999, 1004, 1005, 1006, 1015, 1016, 2999, 5000].some(sendableCloseCode)).toBe(false);
  });
  test("http(s) becomes ws(s)", () => {
    expect(webSocketUrl("http://h:1/a?b")).toBe("ws://h:1/a?b");
    expect(webSocketUrl("https://h/x")).toBe("wss://h/x");
  });
});

describe("/upstream/<model>/… WebSockets", () => {
  test("messages flow both ways, text and binary; the client's close reaches the upstream; the grant is released once", async () => {
    const before = router.grants.length;
    const { s, handshake } = await relayed("/upstream/m/ws?clientId=7", { headers: { cookie: "c=1", "x-custom": "yes" } });
    expect(router.grants.length).toBe(before + 1);
    const grant = router.grants[before];
    expect(grant.model).toBe("m");
    expect(handshake.path).toBe("/ws?clientId=7");
    expect(handshake.headers).toMatchObject({ cookie: "c=1", "x-custom": "yes", "x-forwarded-for": "127.0.0.1" });
    expect(handshake.headers.host).toBe(`127.0.0.1:${upstream.port}`);
    s.send("hello");
    expect(await s.next()).toBe("hello");
    s.send(new Uint8Array([1, 2, 3, 250]));
    expect(await s.next()).toEqual(new Uint8Array([1, 2, 3, 250]));
    expect(grant.doneCalls).toBe(0);
    const seen = upstreamCloses.length;
    s.ws.close(4100, "client done");
    await waitFor(() => upstreamCloses.length > seen, 5000, "the upstream to see the close");
    expect(upstreamCloses[seen]).toEqual({ code: 4100, reason: "client done" });
    expect(await s.closed).toEqual({ code: 4100, reason: "client done" });
    await waitFor(() => grant.doneCalls > 0, 5000, "the grant's release");
    expect(grant.doneCalls).toBe(1);
    expect(app.logs.proxy.history()).toContain(`"GET /upstream/m/ws HTTP/1.1" 101`);
  });

  test("the upstream's close reaches the client with its code and reason; the grant is released once", async () => {
    const before = router.grants.length;
    const { s } = await relayed("/upstream/alias/ws");
    const grant = router.grants[before];
    s.send("close");
    expect(await s.closed).toEqual({ code: 4001, reason: "bye" });
    await waitFor(() => grant.doneCalls > 0, 5000, "the grant's release");
    expect(grant.doneCalls).toBe(1);
  });

  test("a dropped upstream connection drops the client's (1006)", async () => {
    const before = router.grants.length;
    const { s } = await relayed("/upstream/m/ws");
    s.send("drop");
    expect((await s.closed).code).toBe(1006);
    await waitFor(() => router.grants[before].doneCalls > 0, 5000, "the grant's release");
    expect(router.grants[before].doneCalls).toBe(1);
  });

  test("the subprotocol the upstream chose is the client's", async () => {
    const { s, handshake } = await relayed("/upstream/m/ws", { protocols: ["chat.v2", "chat.v1"] });
    expect(handshake.headers["sec-websocket-protocol"]).toBe("chat.v2, chat.v1");
    expect(s.ws.protocol).toBe("chat.v2");
    s.ws.close();
    expect((await s.closed).code).toBe(1005);
  });

  test("an upstream that refuses the upgrade is a 502 before any upgrade; the grant is released", async () => {
    const before = router.grants.length;
    const res = await fetch(`${app.url}/upstream/m/nows`, { headers: UPGRADE_HEADERS });
    expect(res.status).toBe(502);
    const message = ((await res.json()) as { error: { message: string } }).error.message;
    expect(message).toStartWith("cannot open a WebSocket to m:");
    expect(message).toContain("404");
    expect(router.grants[before].doneCalls).toBe(1);
  });

  test("a severed grant closes both ends with 1001 and the reason", async () => {
    const before = router.grants.length;
    const { s } = await relayed("/upstream/m/ws");
    const seen = upstreamCloses.length;
    router.grants[before].sever(new RouteError("severed", "request to m severed: drain deadline passed"));
    expect(await s.closed).toEqual({ code: 1001, reason: "request to m severed: drain deadline passed" });
    await waitFor(() => upstreamCloses.length > seen, 5000, "the upstream to see the close");
    expect(upstreamCloses[seen].code).toBe(1001);
    expect(router.grants[before].doneCalls).toBe(1);
  });

  test("a refused acquire is the router's error, as for any request", async () => {
    const res = await fetch(`${app.url}/upstream/nope/ws`, { headers: UPGRADE_HEADERS });
    expect(res.status).toBe(404);
  });

  test("peer models: relayed to the peer with its key, our clients not told", async () => {
    const before = router.grants.length;
    const { s, handshake } = await relayed("/upstream/p/remote/ws", { headers: { "x-forwarded-for": "10.0.0.9" } });
    expect(handshake.path).toBe("/ws");
    expect(handshake.headers.authorization).toBe("Bearer pk");
    expect(handshake.headers["x-forwarded-for"]).toBeUndefined();
    expect(router.grants.length).toBe(before);
    s.ws.close(1000);
    await s.closed;
  });
});

describe("compat.ignoreWebsockets (llama-swap's)", () => {
  test("a model that is not ready is a 409: the socket cannot start it", async () => {
    const before = router.grants.length;
    const res = await fetch(`${app.url}/upstream/quiet/ws`, { headers: UPGRADE_HEADERS });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe("model quiet is not loaded; ignored websocket requests cannot start it");
    expect(router.grants.length).toBe(before);
  });

  test("a ready model gets the socket without a grant (no in-flight count, no TTL hold)", async () => {
    const before = router.grants.length;
    const { s, handshake } = await relayed("/upstream/quiet-up/socket");
    expect(handshake.path).toBe("/socket");
    s.send("hi");
    expect(await s.next()).toBe("hi");
    expect(router.grants.length).toBe(before);
    s.send("close");
    expect(await s.closed).toEqual({ code: 4001, reason: "bye" });
  });

  test("ordinary HTTP requests to that model still go through the router", async () => {
    const before = router.grants.length;
    await (await fetch(`${app.url}/upstream/quiet-up/x`)).text();
    expect(router.grants.length).toBe(before + 1);
  });
});

describe("a client too slow for its upstream", () => {
  test("a message the client's backlog would drop closes both ends (1011, said and logged) instead of leaving a gap", async () => {
    // An upstream that sends numbered messages as soon as it opens.
    const closes: number[] = [];
    const flood = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req, server) => (server.upgrade(req) ? undefined : new Response("no", { status: 400 })),
      websocket: {
        open(ws) {
          for (let i = 0; i < 5; i++) ws.send(`m${i}`);
        },
        message() {},
        close: (_ws, code) => void closes.push(code),
      },
    });
    try {
      const got: string[] = [];
      const clientCloses: [number | undefined, string | undefined][] = [];
      // Bun's ServerWebSocket answers 0 once the backlog is over its limit: from the third message on here.
      const client: ClientSocket = {
        send: (data) => (got.length >= 2 ? 0 : (got.push(String(data)), String(data).length)),
        close: (code, reason) => void clientCloses.push([code, reason]),
        terminate: () => {},
      };
      let released = 0;
      const warnings: string[] = [];
      const res = await relayWebSocket({
        request: new Request("http://x/ws"),
        edge: {
          upgrade(_req, events: ClientSocketEvents) {
            queueMicrotask(() => events.open(client));
            return true;
          },
          connect: (url) => new WebSocket(url),
        },
        url: `ws://127.0.0.1:${flood.port}/`,
        headers: new Headers(),
        label: "m",
        release: () => void released++,
        log: { debug: () => {}, info: () => {}, warn: (m) => void warnings.push(m), error: () => {} },
      });
      expect(res.headers.has("x-switchyard-upgraded")).toBe(true);
      await waitFor(() => closes.length === 1, 5000, "the upstream to be closed");
      expect(got).toEqual(["m0", "m1"]);
      expect(clientCloses).toEqual([[1011, "the client fell too far behind; closed rather than drop messages"]]);
      expect(closes).toEqual([1001]);
      expect(released).toBe(1);
      expect(warnings).toEqual(["websocket m: the client fell too far behind; closed rather than drop messages"]);
    } finally {
      flood.stop(true);
    }
  });
});
