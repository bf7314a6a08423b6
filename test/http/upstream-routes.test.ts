import { afterAll, describe, expect, test } from "bun:test";
import { createActivityLog } from "../../src/observe/activity.ts";
import { createCaptureRing } from "../../src/observe/captures.ts";
import { RouteError } from "../../src/router/types.ts";
import { startSimulator } from "../fixtures/sim-model.ts";
import { waitFor } from "../fixtures/wait.ts";
import { createFakeRouter, fakeSupervisor, makeConfig, modelConfig, peerConfig, startApp, startEchoUpstream } from "./helpers.ts";

interface Echo {
  method: string;
  path: string;
  query: string;
  body: string;
  headers: Record<string, string>;
}

const echo = startEchoUpstream();
const peer = startEchoUpstream();
const config = makeConfig(
  [modelConfig("org"), modelConfig("org/model", { aliases: ["short"] }), modelConfig("failing")],
  { requestBodyLimitMB: 1, peers: { p: peerConfig("p", peer.url, ["remote"], { apiKey: "pk" }) } },
);
const router = createFakeRouter({
  org: { baseUrl: `${echo.url}/org-base` },
  "org/model": { baseUrl: echo.url },
  failing: { baseUrl: echo.url, refuse: new RouteError("start_failed", "failing exited with code 2") },
});
const supervisors = new Map([
  ["org", fakeSupervisor("org", "stopped")],
  ["org/model", fakeSupervisor("org/model", "ready")],
]);
const app = startApp({ config, router, models: supervisors });
afterAll(() => {
  app.stop();
  echo.stop();
  peer.stop();
});

describe("/upstream/<model>/<path>", () => {
  test("the longest leading path that names a model wins; the rest is forwarded with the query", async () => {
    const before = router.grants.length;
    const seen = (await (await fetch(`${app.url}/upstream/org/model/props?x=1`)).json()) as Echo;
    expect(router.grants[before].model).toBe("org/model");
    expect(seen.path).toBe("/props");
    expect(seen.query).toBe("?x=1");
    const seen2 = (await (await fetch(`${app.url}/upstream/org/other/page`)).json()) as Echo;
    expect(seen2.path).toBe("/org-base/other/page");
  });

  test("percent-encoded names resolve and encoded remainders stay encoded", async () => {
    const seen = (await (await fetch(`${app.url}/upstream/org%2Fmodel/a%2Fb`)).json()) as Echo;
    expect(seen.path).toBe("/a%2Fb");
  });

  test("aliases work; any method and the body stream through unfiltered", async () => {
    const res = await fetch(`${app.url}/upstream/short/v1/whatever`, { method: "PUT", body: "raw body é", headers: { "content-type": "text/plain" } });
    const seen = (await res.json()) as Echo;
    expect(seen.method).toBe("PUT");
    expect(seen.body).toBe("raw body é");
  });

  test("/upstream/<model> redirects to the slash form (301 for GET, 308 otherwise)", async () => {
    const get = await fetch(`${app.url}/upstream/org/model?q=1`, { redirect: "manual" });
    expect(get.status).toBe(301);
    expect(get.headers.get("location")).toBe("/upstream/org/model/?q=1");
    const post = await fetch(`${app.url}/upstream/short`, { method: "POST", redirect: "manual" });
    expect(post.status).toBe(308);
    expect(post.headers.get("location")).toBe("/upstream/short/");
    const slash = (await (await fetch(`${app.url}/upstream/org/model/`)).json()) as Echo;
    expect(slash.path).toBe("/");
  });

  test("unknown models are 404; a failed start is 503 with the reason", async () => {
    expect((await fetch(`${app.url}/upstream/nope/x`)).status).toBe(404);
    const res = await fetch(`${app.url}/upstream/failing/x`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe("failing exited with code 2");
  });

  test("peer models go to the peer with its key", async () => {
    const seen = (await (await fetch(`${app.url}/upstream/p/remote/v1/models`)).json()) as Echo;
    expect(seen.path).toBe("/v1/models");
    expect(seen.headers.authorization).toBe("Bearer pk");
  });

  test("bodies over the limit are 413, declared or chunked", async () => {
    const declared = await fetch(`${app.url}/upstream/org/model/upload`, { method: "POST", body: new Uint8Array(2 * 1024 * 1024) });
    expect(declared.status).toBe(413);
    let sent = 0;
    const chunked = await fetch(`${app.url}/upstream/org/model/upload`, {
      method: "POST",
      duplex: "half",
      body: new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent >= 3 * 1024 * 1024) return c.close();
          sent += 64 * 1024;
          c.enqueue(new Uint8Array(64 * 1024));
        },
      }),
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  test("a static asset of a model that is not loaded is 409 and starts nothing", async () => {
    const before = router.grants.length;
    const res = await fetch(`${app.url}/upstream/org/favicon.ico`);
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { message: string; code: string } };
    expect(body.error.message).toContain("model org is not loaded");
    expect(router.grants.length).toBe(before);
    // a loaded model serves its assets, and a page of an unloaded one still loads it
    expect((await fetch(`${app.url}/upstream/org/model/app.js`)).status).toBe(200);
    expect((await fetch(`${app.url}/upstream/org/index.html`)).status).toBe(200);
    expect(router.grants.length).toBe(before + 2);
  });
});

describe("/upstream with upstream.ignorePaths from the config", () => {
  const own = startEchoUpstream();
  const cfg = makeConfig([modelConfig("cold")], { upstreamIgnorePaths: ["^/static/", "(?i)\\.PNG$"] });
  const r = createFakeRouter({ cold: { baseUrl: own.url } });
  const a = startApp({ config: cfg, router: r, models: new Map([["cold", fakeSupervisor("cold", "stopped")]]) });
  afterAll(() => {
    a.stop();
    own.stop();
  });

  test("the configured Go patterns replace the default: matched against the decoded path, 409 and nothing loaded", async () => {
    for (const path of ["/upstream/cold/static/app.js", "/upstream/cold/img/Logo.png", "/upstream/cold/%73tatic/x"]) {
      const res = await fetch(`${a.url}${path}`);
      expect(res.status, path).toBe(409);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe("model cold is not loaded; path matches upstream.ignorePaths");
    }
    expect(r.grants.length).toBe(0);
    // The default pattern no longer applies: a favicon loads the model like any page.
    expect((await fetch(`${a.url}/upstream/cold/favicon.ico`)).status).toBe(200);
    expect(r.grants.length).toBe(1);
  });
});

describe("/upstream/<model>/<model endpoint> in the activity log (llama-swap's metrics middleware)", () => {
  test("with captures on, its capture keeps the request body that streamed past", async () => {
    const captures = createCaptureRing({ megabytes: 1 });
    const activity = createActivityLog({ captures });
    const logged = startApp({ config, router, models: supervisors, activity, captures });
    try {
      const sent = '{"model":"x","messages":[{"role":"user","content":"hello"}]}';
      const res = await fetch(`${logged.url}/upstream/short/v1/chat/completions`, { method: "POST", body: sent, headers: { "content-type": "application/json" } });
      await res.text();
      await waitFor(() => activity.recent().length === 1, 5000, "the record");
      const c = captures.get(activity.recent()[0]!.id)!;
      expect(Buffer.from(c.req_body, "base64").toString()).toBe(sent);
    } finally {
      logged.stop();
    }
  });

  test("a POST to a model endpoint is recorded under the model; other paths and methods are not; a refusal is recorded as one", async () => {
    const activity = createActivityLog({});
    const logged = startApp({ config, router, models: supervisors, activity });
    try {
      const ok = await fetch(`${logged.url}/upstream/short/v1/chat/completions`, { method: "POST", body: '{"model":"x"}', headers: { "content-type": "application/json" } });
      expect(ok.status).toBe(200);
      await ok.text();
      await (await fetch(`${logged.url}/upstream/short/health`)).text();
      await (await fetch(`${logged.url}/upstream/short/v1/chat/completions`)).text();
      const refused = await fetch(`${logged.url}/upstream/failing/v1/embeddings`, { method: "POST", body: "{}" });
      expect(refused.status).toBe(503);
      await refused.text();
      const peerRes = await fetch(`${logged.url}/upstream/p/remote/v1/completions`, { method: "POST", body: "{}" });
      await peerRes.text();
      await waitFor(() => activity.recent().length === 3, 5000, "three records");
      expect(activity.recent().map((r) => [r.model, r.req_path, r.outcome, r.resp_status_code, r.streamed])).toEqual([
        ["org/model", "/v1/chat/completions", "ok", 200, false],
        ["failing", "/v1/embeddings", "refused", 503, false],
        ["p/remote", "/v1/completions", "ok", 200, false],
      ]);
    } finally {
      logged.stop();
    }
  });
});

describe("/upstream POSTs to a backend that closes after each response (as llama-server does)", () => {
  const sim = startSimulator(["--close-after-response", "--tokens", "4"]);
  afterAll(async () => (await sim).proc.kill("SIGKILL"));

  test("4 keep-alive clients × 100 back-to-back POSTs with a declared length: every one is served (the body is bytes, so a dead pooled connection is resent)", async () => {
    const closing = startApp({
      config: makeConfig([modelConfig("closing")]),
      router: createFakeRouter({ closing: { baseUrl: (await sim).url } }),
      models: new Map([["closing", fakeSupervisor("closing", "ready")]]),
    });
    try {
      const failures: string[] = [];
      await Promise.all(
        Array.from({ length: 4 }, async (_, client) => {
          for (let i = 0; i < 100; i++) {
            const stream = (i + client) % 2 === 0;
            const res = await fetch(`${closing.url}/upstream/closing/v1/chat/completions`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ model: "m", stream, messages: [{ role: "user", content: "hi" }] }),
            });
            const text = await res.text();
            if (res.status !== 200 || (stream ? !text.includes("data: [DONE]") : !text.includes('"completion_tokens":4'))) failures.push(`${res.status} ${text.slice(0, 200)}`);
          }
        }),
      );
      expect(failures).toEqual([]);
    } finally {
      closing.stop();
    }
  }, 60_000);
});
