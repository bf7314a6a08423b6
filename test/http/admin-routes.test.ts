import { afterAll, describe, expect, test } from "bun:test";
import { RouteError } from "../../src/router/types.ts";
import { createFakeRouter, fakeSupervisor, makeConfig, modelConfig, peerConfig, quietLogs, startApp } from "./helpers.ts";

const config = makeConfig(
  [
    modelConfig("b-model", { name: " B model ", description: "the b", aliases: ["b-alias"], metadata: { ctx: 8192, type: "user-type" }, cmd: ["llama-server", "-m", "my model.gguf"], ttl: 300, proxy: "http://127.0.0.1:9001" }),
    modelConfig("a-model"),
    modelConfig("hidden", { unlisted: true }),
    modelConfig("org/with-slash"),
  ],
  { includeAliasesInList: true, peers: { p: peerConfig("p", "http://127.0.0.1:1", ["remote"]) } },
);
const router = createFakeRouter({ "a-model": { baseUrl: "http://127.0.0.1:9002" }, "org/with-slash": { baseUrl: "http://127.0.0.1:9003", refuse: new RouteError("start_failed", "org/with-slash did not start: exit 1") } });
router.statuses = [
  { model: "b-model", state: "ready", inFlight: 2, queued: 1, drainingSince: 1_700_000_000_000 },
  { model: "a-model", state: "stopped", inFlight: 0, queued: 0, drainingSince: null },
  // Requests wait for it, but it has no process: not running (llama-swap lists processes only).
  { model: "org/with-slash", state: "stopped", inFlight: 0, queued: 2, drainingSince: null },
];
const models = new Map([
  ["b-model", fakeSupervisor("b-model", "ready")],
  ["a-model", fakeSupervisor("a-model", "stopped")],
  ["hidden", fakeSupervisor("hidden", "starting")],
  ["org/with-slash", fakeSupervisor("org/with-slash", "stopped")],
]);
const logs = quietLogs();
const app = startApp({ config, router, models, logs, now: () => 1_750_000_000_000 });
afterAll(() => app.stop());

describe("admin routes", () => {
  test("GET /health is OK", async () => {
    const res = await fetch(`${app.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("OK");
  });

  test("GET /v1/models and /models list models, aliases and peers in llama-swap's shape", async () => {
    for (const path of ["/v1/models", "/models"]) {
      const res = await fetch(`${app.url}${path}`, { headers: { origin: "http://ui.example" } });
      expect(res.headers.get("access-control-allow-origin")).toBe("http://ui.example");
      const body = (await res.json()) as { object: string; data: Record<string, unknown>[] };
      expect(body.object).toBe("list");
      expect(body.data.map((d) => d.id)).toEqual(["a-model", "b-alias", "b-model", "org/with-slash", "p/remote"]);
      const b = body.data.find((d) => d.id === "b-model")!;
      expect(b).toEqual({
        id: "b-model",
        object: "model",
        created: 1_750_000_000,
        owned_by: "llama-swap",
        name: "B model",
        description: "the b",
        meta: { llamaswap: { ctx: 8192, type: "model", aliases: ["b-alias"] } },
        status: { value: "loaded" },
      });
      const alias = body.data.find((d) => d.id === "b-alias")!;
      expect(alias.meta).toEqual({ llamaswap: { ctx: 8192, type: "alias", modelID: "b-model" } });
      const a = body.data.find((d) => d.id === "a-model")!;
      expect(a.status).toEqual({ value: "unloaded" });
      expect(a.name).toBeUndefined();
      const peer = body.data.find((d) => d.id === "p/remote")!;
      expect(peer.name).toBe("p: remote");
      expect(peer.meta).toEqual({ llamaswap: { type: "peer", peerID: "p" } });
    }
  });

  test("GET /running lists non-stopped models with counters and drain state", async () => {
    const body = (await (await fetch(`${app.url}/running`)).json()) as { running: Record<string, unknown>[] };
    expect(body.running).toEqual([
      {
        model: "b-model",
        state: "ready",
        cmd: "llama-server -m 'my model.gguf'",
        proxy: "http://127.0.0.1:9001",
        ttl: 300,
        name: " B model ",
        description: "the b",
        pid: null,
        inFlight: 2,
        queued: 1,
        draining: true,
        drainingSince: new Date(1_700_000_000_000).toISOString(),
      },
      {
        model: "hidden",
        state: "starting",
        cmd: "llama-server --port 1",
        proxy: "http://127.0.0.1:1",
        ttl: 0,
        name: "",
        description: "",
        pid: null,
        inFlight: 0,
        queued: 0,
        draining: false,
        drainingSince: null,
      },
    ]);
  });

  test("unload endpoints call the router", async () => {
    router.unloads.length = 0;
    const all = await fetch(`${app.url}/api/models/unload`, { method: "POST" });
    expect(await all.json()).toEqual({ msg: "ok" });
    const get = await fetch(`${app.url}/unload`);
    expect(await get.text()).toBe("OK");
    const one = await fetch(`${app.url}/api/models/unload/b-alias`, { method: "POST" });
    expect(await one.text()).toBe("OK");
    const slash = await fetch(`${app.url}/api/models/unload/org/with-slash`, { method: "POST" });
    expect(slash.status).toBe(200);
    const missing = await fetch(`${app.url}/api/models/unload/nope`, { method: "POST" });
    expect(missing.status).toBe(404);
    // An empty name (a script's unset $MODEL) is the model "", not everything.
    const empty = await fetch(`${app.url}/api/models/unload/`, { method: "POST" });
    expect(empty.status).toBe(404);
    expect(((await empty.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
    expect(router.unloads).toEqual([undefined, undefined, ["b-model"], ["org/with-slash"]]);
  });

  test("POST /api/models/load/<model> loads through the router and answers once ready; its grant is released at once", async () => {
    const before = router.grants.length;
    const ok = await fetch(`${app.url}/api/models/load/a-model`, { method: "POST" });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ msg: "ok", model: "a-model", state: "ready" });
    expect(router.grants.length).toBe(before + 1);
    expect(router.grants.at(-1)!.doneCalls).toBe(1);
    const failed = await fetch(`${app.url}/api/models/load/org/with-slash`, { method: "POST" });
    expect(failed.status).toBe(503);
    expect(((await failed.json()) as { error: { message: string } }).error.message).toContain("did not start");
    expect((await fetch(`${app.url}/api/models/load/nope`, { method: "POST" })).status).toBe(404);
    expect((await fetch(`${app.url}/api/models/load/a-model`)).status).toBe(405);
  });

  test("a browser asking for /logs or /upstream is sent to the UI, as llama-swap does", async () => {
    for (const path of ["/logs", "/upstream"]) {
      const res = await fetch(`${app.url}${path}`, { redirect: "manual", headers: { accept: "text/html,application/xhtml+xml" } });
      expect([path, res.status, res.headers.get("location")]).toEqual([path, 302, "/ui/"]);
    }
    const plain = await fetch(`${app.url}/logs`, { redirect: "manual" });
    expect(plain.status).toBe(200);
    expect(plain.headers.get("content-type")).toStartWith("text/plain");
  });

  test("a Prometheus scrape of /metrics leaves no access-log line (llama-swap skips it too); other routes do", async () => {
    await (await fetch(`${app.url}/metrics`)).text();
    await (await fetch(`${app.url}/api/version`)).text();
    const hist = logs.proxy.history();
    expect(hist).toContain('"GET /api/version HTTP/1.1"');
    expect(hist).not.toContain('"GET /metrics');
  });

  test("GET /api/version", async () => {
    expect(await (await fetch(`${app.url}/api/version`)).json()).toEqual({ version: "1.2.3", commit: "abc", build_date: "2026-01-01" });
  });

  test("GET /logs returns the history; /logs/stream follows live text", async () => {
    logs.log.info("hello from the proxy");
    logs.upstream.write("[b-model] upstream line\n");
    const hist = await (await fetch(`${app.url}/logs`)).text();
    expect(hist).toContain("hello from the proxy");
    expect(hist).toContain("upstream line");

    const ac = new AbortController();
    const res = await fetch(`${app.url}/logs/stream`, { signal: ac.signal });
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("upstream line")) text += new TextDecoder().decode((await reader.read()).value);
    logs.log.warn("live line");
    while (!text.includes("live line")) text += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
  });

  test("GET /logs interleaves proxy and upstream text in arrival order, as llama-swap's combined log does", async () => {
    // Separate event-loop turns, as real proxy lines and child output arrive (followers are fed
    // in batches per turn, so writes within one turn may interleave coarsely).
    const turn = () => new Promise((r) => setTimeout(r, 0));
    logs.log.info("order-1 proxy");
    await turn();
    logs.model("b-model").write("order-2 upstream\n");
    await turn();
    logs.log.info("order-3 proxy");
    const hist = await (await fetch(`${app.url}/logs`)).text();
    const at = ["order-1", "order-2", "order-3"].map((m) => hist.indexOf(m));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  test("GET /logs/stream/<model> takes the longest leading model name, trailing segments allowed", async () => {
    logs.model("org/with-slash").write("prefix-match line\n");
    const ac = new AbortController();
    const res = await fetch(`${app.url}/logs/stream/org/with-slash/`, { signal: ac.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("prefix-match line")) text += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
  });

  test("GET /logs/stream/<which> picks a stream; ?no-history skips the history; bad names are 400", async () => {
    logs.model("org/with-slash").write("model says hi\n");
    const read = async (path: string, until: string, trigger?: () => void) => {
      const ac = new AbortController();
      const res = await fetch(`${app.url}${path}`, { signal: ac.signal });
      const reader = res.body!.getReader();
      trigger?.();
      let text = "";
      while (!text.includes(until)) text += new TextDecoder().decode((await reader.read()).value);
      ac.abort();
      return text;
    };
    expect(await read("/logs/stream/org/with-slash", "model says hi")).toContain("model says hi");
    const live = await read("/logs/stream/proxy?no-history", "fresh", () => setTimeout(() => logs.log.info("fresh"), 20));
    expect(live).not.toContain("hello from the proxy");
    expect((await fetch(`${app.url}/logs/stream/nope`)).status).toBe(400);
  });
});

describe("during a reload's drain", () => {
  test("/running and /api/events' modelStatus show a removed model whose process still runs, and a restarted one as its process was started", async () => {
    // The live config: `kept` restarted with a new cmd (its old process still runs), `gone` removed.
    const live = makeConfig([modelConfig("kept", { cmd: ["serve", "--new"], ttl: 77 })]);
    const oldKept = { ...fakeSupervisor("kept", "ready"), pid: 101, config: modelConfig("kept", { cmd: ["serve", "--old"] }) };
    const gone = { ...fakeSupervisor("gone", "ready"), pid: 102, config: modelConfig("gone", { name: "Gone model" }) };
    const r = createFakeRouter({});
    r.statuses.push({ model: "kept", state: "ready", inFlight: 1, queued: 0, drainingSince: 1 }, { model: "gone", state: "ready", inFlight: 1, queued: 0, drainingSince: 1 });
    const a = startApp({ config: live, router: r, models: new Map([["kept", oldKept], ["gone", gone]]) });
    try {
      const running = (await (await fetch(`${a.url}/running`)).json()) as { running: { model: string; cmd: string; pid: number; draining: boolean; ttl: number }[] };
      // kept: the command its process runs, and the ttl the reload applied in place.
      expect(running.running.map((x) => [x.model, x.cmd, x.pid, x.draining, x.ttl])).toEqual([
        ["gone", expect.any(String), 102, true, 0],
        ["kept", "serve --old", 101, true, 77],
      ]);
      const events = await fetch(`${a.url}/api/events`);
      const reader = events.body!.getReader();
      let text = "";
      while (!text.includes('"modelStatus"')) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      // The message's data is JSON in a JSON string, as llama-swap sends it.
      expect(text).toContain('\\"id\\":\\"gone\\",\\"name\\":\\"Gone model\\"');
    } finally {
      a.stop();
    }
  });
});
