import { afterAll, describe, expect, test } from "bun:test";
import { MODEL_ROUTES } from "../../src/http/model-routes.ts";
import { forwardPath } from "../../src/http/request.ts";
import { RouteError } from "../../src/router/types.ts";
import { createFakeRouter, makeConfig, modelConfig, peerConfig, startApp, startEchoUpstream, startUpstream } from "./helpers.ts";

interface Echo {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string;
}

const echo = startEchoUpstream();
const peerEcho = startEchoUpstream();
// Parses multipart bodies so the test can look at fields and files.
const formUpstream = startUpstream(async (req) => {
  const form = await req.formData();
  const file = form.get("file") as File;
  return Response.json({ model: form.get("model"), other: form.get("language"), file: await file.text(), name: file.name });
});

const config = makeConfig(
  [
    modelConfig("m", { aliases: ["m-alias"] }),
    modelConfig("renamed", { useModelName: "upstream-name" }),
    modelConfig("filtered", {
      aliases: ["filtered-fast"],
      filters: {
        stripParams: ["top_k", "options.seed"],
        setParams: { temperature: 0.5, "options.mirostat": 2 },
        setParamsByID: { "filtered-fast": { max_tokens: 64 } },
      },
    }),
    modelConfig("form", { useModelName: "whisper-1" }),
    modelConfig("dup"),
  ],
  {
    peers: {
      p1: peerConfig("p1", peerEcho.url, ["remote", "dup", "shared"], {
        apiKey: "peer-secret",
        filters: { stripParams: ["drop_me"], setParams: { injected: true }, setParamsByID: { "p1/dup": { temperature: 0.1, injected: "by-id" }, remote: { top_p: 0.5 } } },
      }),
      p2: peerConfig("p2", peerEcho.url, ["shared"]),
    },
  },
);
const router = createFakeRouter({
  m: { baseUrl: echo.url },
  renamed: { baseUrl: echo.url },
  filtered: { baseUrl: echo.url },
  form: { baseUrl: formUpstream.url },
  dup: { baseUrl: echo.url },
});
const app = startApp({ config, router });
afterAll(() => {
  app.stop();
  echo.stop();
  peerEcho.stop();
  formUpstream.stop();
});

const post = (path: string, body: string | object, headers: Record<string, string> = { "content-type": "application/json" }) =>
  fetch(`${app.url}${path}`, { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });

describe("model routes", () => {
  test("every route family reaches the model's server, /v/... without the /v, /audioapi/... without /audioapi", async () => {
    for (const route of MODEL_ROUTES) {
      const method = route.methods[0];
      const res =
        method === "GET"
          ? await fetch(`${app.url}${route.path}?model=m&x=1`)
          : await post(route.path, { model: "m", input: "hi" });
      expect(res.status, route.path).toBe(200);
      const seen = (await res.json()) as Echo;
      expect(seen.method).toBe(method);
      expect(seen.path).toBe(forwardPath(route.path));
      if (method === "GET") expect(seen.query).toBe("?model=m&x=1");
    }
  });

  test("GET and POST both work on /v1/audio/voices; a wrong method is 405", async () => {
    expect((await fetch(`${app.url}/v1/audio/voices?model=m`)).status).toBe(200);
    expect((await post("/v1/audio/voices", { model: "m" })).status).toBe(200);
    const res = await fetch(`${app.url}/v1/chat/completions?model=m`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    // HEAD goes where GET does, as with Go's mux.
    const head = await fetch(`${app.url}/props?model=m`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect((await fetch(`${app.url}/props?model=m`, { method: "DELETE" })).headers.get("allow")).toBe("GET, HEAD");
  });

  test("audio.cpp's /audioapi/v1/tasks/run goes upstream as /v1/tasks/run", async () => {
    const seen = (await (await post("/audioapi/v1/tasks/run", { model: "m", task: "tts" })).json()) as Echo;
    expect(seen.path).toBe("/v1/tasks/run");
  });

  test("X-Forwarded-For gets the client's address appended, as Go's reverse proxy does", async () => {
    const fresh = (await (await post("/v1/embeddings", { model: "m" })).json()) as Echo;
    expect(fresh.headers["x-forwarded-for"]).toBe("127.0.0.1");
    const chained = (await (await post("/v1/embeddings", { model: "m" }, { "content-type": "application/json", "x-forwarded-for": "203.0.113.7" })).json()) as Echo;
    expect(chained.headers["x-forwarded-for"]).toBe("203.0.113.7, 127.0.0.1");
    const viaUpstream = (await (await fetch(`${app.url}/upstream/m/props`)).json()) as Echo;
    expect(viaUpstream.headers["x-forwarded-for"]).toBe("127.0.0.1");
  });

  test("forwards the client's exact bytes when no rewrite applies", async () => {
    const raw = '{ "model" : "m",\n  "n": 1.50, "u": "\\u00e9",  "messages": [] }';
    const seen = (await (await post("/v1/chat/completions", raw)).json()) as Echo;
    expect(seen.body).toBe(raw);
  });

  test("a big agent body (model last, read by the scan) routes to its model with its bytes exact, and rewrites still apply", async () => {
    const messages = Array.from({ length: 30 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: `step ${i}: "quoted" \\ {[` + "text ".repeat(60) }));
    // A nested "model" (a tool's parameter) is a decoy: only the top level's counts.
    const tools = [{ type: "function", function: { name: "f", parameters: { properties: { model: "dup" } } } }];
    const raw = JSON.stringify({ messages, tools, model: "m-alias" });
    expect(raw.length).toBeGreaterThan(4096);
    const before = router.grants.length;
    const seen = (await (await post("/v1/chat/completions", raw)).json()) as Echo;
    expect(router.grants[before].model).toBe("m");
    expect(seen.body).toBe(raw);
    const renamed = (await (await post("/v1/chat/completions", raw.replace('"m-alias"', '"renamed"'))).json()) as Echo;
    expect(JSON.parse(renamed.body)).toEqual({ messages, tools, model: "upstream-name" });
  });

  test("an alias routes to its model and is forwarded unchanged", async () => {
    const before = router.grants.length;
    const seen = (await (await post("/v1/completions", { model: "m-alias", prompt: "x" })).json()) as Echo;
    expect(router.grants[before].model).toBe("m");
    expect(JSON.parse(seen.body).model).toBe("m-alias");
  });

  test("curl-style JSON sent as url-encoded still finds the model", async () => {
    const res = await post("/v1/completions", '{"model":"m"}', { "content-type": "application/x-www-form-urlencoded" });
    expect(res.status).toBe(200);
  });

  test("useModelName rewrites the JSON model", async () => {
    const seen = (await (await post("/v1/chat/completions", { model: "renamed", messages: [{ role: "user", content: "é" }] })).json()) as Echo;
    expect(JSON.parse(seen.body)).toEqual({ model: "upstream-name", messages: [{ role: "user", content: "é" }] });
  });

  test("useModelName rewrites ?model= on GET routes", async () => {
    const seen = (await (await fetch(`${app.url}/props?model=renamed`)).json()) as Echo;
    expect(seen.query).toBe("?model=upstream-name");
  });

  test("useModelName rewrites the multipart model field and keeps the rest", async () => {
    const form = new FormData();
    form.append("model", "form");
    form.append("language", "fr");
    form.append("file", new File(["RIFF-bytes-é"], "a.wav", { type: "audio/wav" }));
    const res = await fetch(`${app.url}/v1/audio/transcriptions`, { method: "POST", body: form });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ model: "whisper-1", other: "fr", file: "RIFF-bytes-é", name: "a.wav" });
  });

  test("filters strip, set (dotted keys nest) and setParamsByID for the requested alias", async () => {
    const body = { model: "filtered-fast", top_k: 5, temperature: 1, options: { seed: 1, keep: true } };
    const seen = (await (await post("/v1/chat/completions", body)).json()) as Echo;
    expect(JSON.parse(seen.body)).toEqual({
      model: "filtered-fast",
      temperature: 0.5,
      options: { keep: true, mirostat: 2 },
      max_tokens: 64,
    });
    // By the model ID, setParamsByID of the alias does not apply.
    const seen2 = (await (await post("/v1/chat/completions", { model: "filtered" })).json()) as Echo;
    expect(JSON.parse(seen2.body)).toEqual({ model: "filtered", temperature: 0.5, options: { mirostat: 2 } });
  });
});

describe("model routes: exact numbers through rewrites", () => {
  test("a rewrite re-serialises only what it touched: 64-bit seeds, 1.50 and 1e400 reach the server as sent", async () => {
    const raw = '{"model":"filtered","seed":12345678901234567890,"n":1.50,"big":1e400,"top_k":5,"nested":{"v":-0,"id":9007199254740993}}';
    const seen = (await (await post("/v1/chat/completions", raw)).json()) as Echo;
    expect(seen.body).toContain('"seed":12345678901234567890');
    expect(seen.body).toContain('"n":1.50');
    expect(seen.body).toContain('"big":1e400');
    expect(seen.body).toContain('"nested":{"v":-0,"id":9007199254740993');
    expect(seen.body).not.toContain("top_k");
    expect(JSON.parse(seen.body).temperature).toBe(0.5);
  });
});

describe("model routes: errors", () => {
  const errOf = async (res: Response) => ((await res.json()) as { error: { message: string; type: string; code: string } }).error;

  test("no model is 400", async () => {
    const res = await post("/v1/chat/completions", { messages: [] });
    expect(res.status).toBe(400);
    expect((await errOf(res)).type).toBe("invalid_request_error");
  });

  test("invalid JSON is 400, a non-string model is 400", async () => {
    const bad = await post("/v1/chat/completions", '{"model": "m",');
    expect(bad.status).toBe(400);
    expect((await errOf(bad)).message).toContain("invalid JSON");
    expect((await post("/v1/chat/completions", { model: 7 })).status).toBe(400);
  });

  test("an unknown model is 404", async () => {
    const res = await post("/v1/chat/completions", { model: "nope" });
    expect(res.status).toBe(404);
    expect((await errOf(res)).message).toContain("nope");
  });

  test("router refusals map to honest statuses", async () => {
    const cases: [RouteError, number, string | null][] = [
      [new RouteError("concurrency_limit", "Too many requests", 3), 429, "3"],
      [new RouteError("start_failed", "llama-server exited with code 1: last lines: out of memory"), 503, null],
      [new RouteError("health_timeout", "health check timed out after 60s"), 504, null],
      [new RouteError("shutting_down", "switchyard is shutting down"), 503, null],
      [new RouteError("unloaded", "model was unloaded while waiting"), 503, null],
    ];
    for (const [err, status, retryAfter] of cases) {
      const r = createFakeRouter({ m: { baseUrl: echo.url, refuse: err } });
      const a = startApp({ config: makeConfig([modelConfig("m")]), router: r });
      try {
        const res = await fetch(`${a.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "m" }), headers: { "content-type": "application/json" } });
        expect(res.status, err.kind).toBe(status);
        expect(res.headers.get("retry-after")).toBe(retryAfter);
        const e = await errOf(res);
        expect(e.message).toBe(err.message);
        expect(typeof e.code).toBe("string");
      } finally {
        a.stop();
      }
    }
  });
});

describe("model routes: peers", () => {
  test("<peer>/<model> goes to the peer with its key, its filters and the bare model name", async () => {
    const res = await post("/v1/chat/completions", { model: "p1/remote", drop_me: 1, keep: 2 }, {
      "content-type": "application/json",
      authorization: "Bearer client-key",
    });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Echo;
    expect(seen.path).toBe("/v1/chat/completions");
    expect(seen.headers.authorization).toBe("Bearer peer-secret");
    expect(seen.headers["x-api-key"]).toBe("peer-secret");
    expect(JSON.parse(seen.body)).toEqual({ model: "remote", keep: 2, injected: true });
  });

  test("peer setParamsByID applies the entry of the name the client used, after setParams", async () => {
    const full = JSON.parse(((await (await post("/v1/chat/completions", { model: "p1/dup" })).json()) as Echo).body);
    expect(full).toEqual({ model: "dup", injected: "by-id", temperature: 0.1 });
    const bare = JSON.parse(((await (await post("/v1/chat/completions", { model: "remote" })).json()) as Echo).body);
    expect(bare).toEqual({ model: "remote", injected: true, top_p: 0.5 });
    // The same peer model by its full name has no entry of its own.
    const other = JSON.parse(((await (await post("/v1/chat/completions", { model: "p1/remote" })).json()) as Echo).body);
    expect(other).toEqual({ model: "remote", injected: true });
  });

  test("a peer learns nothing of the client's forwarding chain (llama-swap's peer proxy drops it)", async () => {
    const headers = {
      "content-type": "application/json",
      "x-forwarded-for": "203.0.113.7",
      "x-forwarded-host": "inside.example",
      "x-forwarded-proto": "http",
      forwarded: "for=203.0.113.7",
    };
    const seen = (await (await post("/v1/embeddings", { model: "p1/remote" }, headers)).json()) as Echo;
    for (const h of ["x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "forwarded"]) expect(seen.headers[h], h).toBeUndefined();
    const viaUpstream = (await (await fetch(`${app.url}/upstream/p1/remote/v1/models`, { headers })).json()) as Echo;
    expect(viaUpstream.headers["x-forwarded-for"]).toBeUndefined();
  });

  test("a form-encoded body's model is rewritten to the peer's name, like JSON and multipart", async () => {
    const res = await post("/v1/audio/speech", "model=p1%2Fremote&input=hi+there", { "content-type": "application/x-www-form-urlencoded" });
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Echo;
    expect(Object.fromEntries(new URLSearchParams(seen.body))).toEqual({ model: "remote", input: "hi there" });
  });

  test("a bare peer model name works when exactly one peer has it", async () => {
    const seen = (await (await post("/v1/embeddings", { model: "remote" })).json()) as Echo;
    expect(JSON.parse(seen.body).model).toBe("remote");
    expect((await post("/v1/embeddings", { model: "shared" })).status).toBe(404);
    expect((await post("/v1/embeddings", { model: "p2/shared" })).status).toBe(200);
  });

  test("a local model wins over a bare peer name", async () => {
    const before = router.grants.length;
    await post("/v1/embeddings", { model: "dup" });
    expect(router.grants.length).toBe(before + 1);
    expect(router.grants[before].model).toBe("dup");
  });

  test("an unreachable peer is 502", async () => {
    const closed = startUpstream(() => new Response("x"));
    closed.stop();
    const cfg = makeConfig([], { peers: { gone: peerConfig("gone", closed.url, ["x"]) } });
    const a = startApp({ config: cfg, router: createFakeRouter({}) });
    try {
      const res = await fetch(`${a.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "gone/x" }), headers: { "content-type": "application/json" } });
      expect(res.status).toBe(502);
    } finally {
      a.stop();
    }
  });
});
