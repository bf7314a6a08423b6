import { afterAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { loadingStreamResponse, medianMs } from "../../src/http/loading-stream.ts";
import { RouteError, type Grant } from "../../src/router/types.ts";
import { parseSse } from "../fixtures/sse-parse.ts";
import { createFakeRouter, createGate, fakeSupervisor, makeConfig, modelConfig, startApp, startFakeOpenAI, startUpstream, type FakeModel } from "./helpers.ts";
import { waitFor } from "../fixtures/wait.ts";

const backend = startFakeOpenAI();
afterAll(() => backend.stop());

interface Chunk {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: { index: number; delta: { reasoning_content?: string; content?: string }; finish_reason: string | null }[];
}

function setup(fake: Partial<FakeModel>, history: number[] = [], sendLoadingState = true) {
  const router = createFakeRouter({ cold: { baseUrl: backend.url, ...fake } });
  const config = makeConfig([modelConfig("cold", { sendLoadingState, aliases: ["cold-alias"] })]);
  const models = new Map([["cold", fakeSupervisor("cold", "stopped", history)]]);
  const app = startApp({ config, router, models, loadingTickMs: 20 });
  return { router, app };
}

const chat = (url: string, body: object, signal?: AbortSignal) =>
  fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal });

describe("loading stream", () => {
  test("answers 200 event-stream during the load, reports progress, then the upstream stream", async () => {
    const gate = createGate();
    const { app } = setup(
      { updates: [{ position: 2, model: "cold", loading: false }, { position: 1, model: "cold", loading: false }, { position: 0, model: "cold", loading: true }], gate: gate.wait },
      [2000, 4000, 3000],
    );
    try {
      const res = await chat(app.url, { model: "cold-alias", stream: true, messages: [] });
      // Headers arrive while the model is still loading.
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/event-stream");
      const reader = res.body!.getReader();
      let text = "";
      const dec = new TextDecoder();
      // Wait for a few ticks, then let the model become ready.
      while (!/elapsed/.test(text) || !text.includes("Loading model")) text += dec.decode((await reader.read()).value);
      gate.open();
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        text += dec.decode(r.value);
      }
      const events = parseSse(text);
      const chunks = events.filter((e) => e.data !== "[DONE]").map((e) => JSON.parse(e.data) as Chunk);
      const loading = chunks.filter((c) => c.choices[0].delta.reasoning_content !== undefined);
      for (const c of loading) {
        expect(c.object).toBe("chat.completion.chunk");
        expect(c.model).toBe("cold-alias");
        expect(typeof c.id).toBe("string");
        expect(typeof c.created).toBe("number");
        expect(c.choices[0].index).toBe(0);
      }
      const said = loading.map((c) => c.choices[0].delta.reasoning_content).join("");
      // It began queued: waiting, then the load and what one takes when the load begins.
      expect(said).toContain("switchyard: waiting for model cold\n");
      expect(said).not.toContain("switchyard: loading model cold");
      expect(said).toContain("Loading model cold now\nExpected load time: about 3s (median of 3 past loads)");
      expect(said).toContain("Queue position: #2");
      expect(said).toContain("Queue position: #1");
      expect(said).toContain("Loading model cold now");
      expect(said).toMatch(/\d+s elapsed, (about \d+s left|taking longer than usual)/);
      expect(said).toMatch(/Done! cold ready after \d+\.\d\ds/);
      // Then the upstream's own stream, verbatim, ending with its [DONE].
      const content = chunks.map((c) => c.choices[0].delta.content ?? "").join("");
      expect(content).toBe("Hello wörld");
      expect(events[events.length - 1].data).toBe("[DONE]");
      expect(events.filter((e) => e.data === "[DONE]")).toHaveLength(1);
    } finally {
      app.stop();
    }
  });

  test("says the time left is unknown on a first load", async () => {
    const gate = createGate();
    const { app } = setup({ updates: [{ position: 0, model: "cold", loading: true }], gate: gate.wait });
    try {
      const res = await chat(app.url, { model: "cold", stream: true });
      const reader = res.body!.getReader();
      let text = "";
      while (!text.includes("time left unknown")) text += new TextDecoder().decode((await reader.read()).value);
      expect(text).toContain("unknown (first load)");
      gate.open();
      await reader.cancel();
    } finally {
      app.stop();
    }
  });

  test("the openai client iterates a cold-model stream to the end", async () => {
    const gate = createGate();
    const { app } = setup({ updates: [{ position: 0, model: "cold", loading: true }], gate: gate.wait }, [100]);
    setTimeout(() => gate.open(), 80);
    try {
      const client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: "none" });
      const stream = await client.chat.completions.create({ model: "cold", stream: true, messages: [{ role: "user", content: "hi" }] });
      let reasoning = "";
      let content = "";
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined;
        reasoning += delta?.reasoning_content ?? "";
        content += delta?.content ?? "";
      }
      expect(reasoning).toContain("loading model cold");
      expect(content).toBe("Hello wörld");
    } finally {
      app.stop();
    }
  });

  test("a failed swap ends with one error event and [DONE]; the openai client throws only there", async () => {
    const gate = createGate();
    const { app } = setup({ updates: [{ position: 0, model: "cold", loading: true }], gate: gate.wait });
    setTimeout(() => gate.fail(new RouteError("start_failed", "cold exited with code 1; last lines: CUDA out of memory")), 60);
    try {
      const client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: "none", maxRetries: 0 });
      const stream = await client.chat.completions.create({ model: "cold", stream: true, messages: [] });
      let seen = 0;
      let thrown: unknown = null;
      try {
        for await (const chunk of stream) {
          expect(chunk.object).toBe("chat.completion.chunk");
          seen++;
        }
      } catch (err) {
        thrown = err;
      }
      expect(seen).toBeGreaterThan(0);
      expect(thrown).toBeInstanceOf(OpenAI.APIError);
      expect((thrown as Error).message).toContain("CUDA out of memory");

      // The raw stream: the error event, then [DONE], nothing after.
      const gate2 = createGate();
      const again = setup({ updates: [{ position: 0, model: "cold", loading: true }], gate: gate2.wait });
      try {
        setTimeout(() => gate2.fail(new RouteError("health_timeout", "health check timed out after 60s")), 30);
        const events = parseSse(await (await chat(again.app.url, { model: "cold", stream: true })).text());
        const tail = events.slice(-2);
        const env = JSON.parse(tail[0].data) as { error: { message: string; type: string; code: string } };
        expect(env.error.message).toBe("health check timed out after 60s");
        expect(env.error.type).toBe("server_error");
        expect(tail[1].data).toBe("[DONE]");
      } finally {
        again.app.stop();
      }
    } finally {
      app.stop();
    }
  });

  test("an upstream error status after the load becomes an in-band error event", async () => {
    const failing = startUpstream(() => Response.json({ error: { message: "context length exceeded" } }, { status: 400 }));
    const router = createFakeRouter({ cold: { baseUrl: failing.url, updates: [{ position: 0, model: "cold", loading: true }] } });
    const app = startApp({ config: makeConfig([modelConfig("cold", { sendLoadingState: true })]), router, loadingTickMs: 20 });
    try {
      const res = await chat(app.url, { model: "cold", stream: true });
      expect(res.status).toBe(200);
      const events = parseSse(await res.text());
      const tail = events.slice(-2);
      expect(JSON.parse(tail[0].data).error.message).toBe("context length exceeded");
      expect(tail[1].data).toBe("[DONE]");
      await waitFor(() => router.grants[0]?.doneCalls === 1, 2000, "done");
    } finally {
      app.stop();
      failing.stop();
    }
  });

  test("an error envelope after the load keeps its code in-band (a timeout, a backend's own code)", async () => {
    const failing = startUpstream(() => Response.json({ error: { message: "no headers in time", type: "server_error", code: "upstream_header_timeout" } }, { status: 502 }));
    const router = createFakeRouter({ cold: { baseUrl: failing.url, updates: [{ position: 0, model: "cold", loading: true }] } });
    const app = startApp({ config: makeConfig([modelConfig("cold", { sendLoadingState: true })]), router, loadingTickMs: 20 });
    try {
      const res = await chat(app.url, { model: "cold", stream: true });
      const events = parseSse(await res.text());
      expect(JSON.parse(events.at(-2)!.data).error).toMatchObject({ message: "no headers in time", code: "upstream_header_timeout", type: "server_error" });
      expect(events.at(-1)!.data).toBe("[DONE]");
    } finally {
      app.stop();
      failing.stop();
    }
  });

  test("after the load the upstream is asked for an uncompressed stream though the client accepts gzip (it follows plain events)", async () => {
    const seen: (string | null)[] = [];
    const gzipping = startUpstream((req) => {
      const ae = req.headers.get("accept-encoding");
      seen.push(ae);
      const body = new TextEncoder().encode('data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n');
      if (ae?.includes("gzip")) return new Response(Bun.gzipSync(body), { headers: { "content-type": "text/event-stream", "content-encoding": "gzip" } });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    });
    const router = createFakeRouter({ cold: { baseUrl: gzipping.url, updates: [{ position: 0, model: "cold", loading: true }] } });
    const app = startApp({ config: makeConfig([modelConfig("cold", { sendLoadingState: true })]), router, loadingTickMs: 20 });
    try {
      const res = await fetch(`${app.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "accept-encoding": "gzip" },
        body: JSON.stringify({ model: "cold", stream: true }),
      });
      expect(res.headers.get("content-encoding")).toBeNull();
      const events = parseSse(await res.text());
      expect(seen).toEqual(["identity"]);
      expect(events.some((e) => e.data.includes('"content":"hi"'))).toBe(true);
      expect(events.at(-1)!.data).toBe("[DONE]");
    } finally {
      app.stop();
      gzipping.stop();
    }
  });

  test("a sever while streaming after the load ends with an error event and [DONE]", async () => {
    const slow = startUpstream(() => {
      let n = 0;
      return new Response(
        new ReadableStream({
          async pull(c) {
            await Bun.sleep(10);
            c.enqueue(new TextEncoder().encode(`data: {"n":${n++}}\n\n`));
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      );
    });
    const router = createFakeRouter({ cold: { baseUrl: slow.url, updates: [{ position: 0, model: "cold", loading: true }] } });
    const app = startApp({ config: makeConfig([modelConfig("cold", { sendLoadingState: true })]), router, loadingTickMs: 20 });
    try {
      const res = await chat(app.url, { model: "cold", stream: true });
      const reader = res.body!.getReader();
      let text = "";
      while (!text.includes('{"n":1}')) text += new TextDecoder().decode((await reader.read()).value);
      router.grants[0].sever(new RouteError("severed", "cold was evicted: drain deadline passed"));
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        text += new TextDecoder().decode(r.value);
      }
      const tail = parseSse(text).slice(-2);
      expect(JSON.parse(tail[0].data).error.message).toBe("cold was evicted: drain deadline passed");
      expect(tail[1].data).toBe("[DONE]");
      expect(router.grants[0].doneCalls).toBe(1);
    } finally {
      app.stop();
      slow.stop();
    }
  });

  test("a refusal goes out as a plain status before any byte", async () => {
    const { app } = setup({ refuse: new RouteError("concurrency_limit", "Too many requests", 1) });
    try {
      const res = await chat(app.url, { model: "cold", stream: true });
      expect(res.status).toBe(429);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(res.headers.get("retry-after")).toBe("1");
      expect(await res.text()).not.toContain("reasoning_content");
    } finally {
      app.stop();
    }
  });

  test("a ready model (granted at once), a non-streaming request and sendLoadingState off get no progress", async () => {
    const ready = setup({});
    const gate = createGate();
    const off = setup({ updates: [{ position: 0, model: "cold", loading: true }], gate: gate.wait }, [], false);
    const gate2 = createGate();
    const nonStream = setup({ updates: [{ position: 0, model: "cold", loading: true }], gate: gate2.wait });
    try {
      const a = await (await chat(ready.app.url, { model: "cold", stream: true })).text();
      expect(a).not.toContain("reasoning_content");
      setTimeout(() => gate.open(), 50);
      const b = await (await chat(off.app.url, { model: "cold", stream: true })).text();
      expect(b).not.toContain("reasoning_content");
      expect(b).toContain("wör");
      setTimeout(() => gate2.open(), 50);
      const c = (await (await chat(nonStream.app.url, { model: "cold" })).json()) as { object: string };
      expect(c.object).toBe("chat.completion");
    } finally {
      ready.app.stop();
      off.app.stop();
      nonStream.app.stop();
    }
  });

  test("a client that leaves during the load cancels its wait", async () => {
    const gate = createGate();
    const signals: AbortSignal[] = [];
    const { app, router } = setup({ updates: [{ position: 0, model: "cold", loading: true }], gate: gate.wait, signals });
    try {
      const ac = new AbortController();
      const res = await chat(app.url, { model: "cold", stream: true }, ac.signal);
      await res.body!.getReader().read();
      ac.abort();
      await waitFor(() => signals[0]?.aborted === true, 2000, "the router to see the cancel");
      gate.open();
      await new Promise((r) => setTimeout(r, 30));
      expect(router.grants).toHaveLength(0);
    } finally {
      app.stop();
    }
  });

  test("a grant that arrives after the client left is released at once", async () => {
    const gate = createGate();
    const { app, router } = setup({ updates: [{ position: 0, model: "cold", loading: true }], gate: gate.wait, ignoreCancel: true });
    try {
      const ac = new AbortController();
      const res = await chat(app.url, { model: "cold", stream: true }, ac.signal);
      await res.body!.getReader().read();
      ac.abort();
      await new Promise((r) => setTimeout(r, 50));
      gate.open();
      await waitFor(() => router.grants.length === 1 && router.grants[0].doneCalls === 1, 2000, "the late grant's done()");
      await new Promise((r) => setTimeout(r, 30));
      expect(router.grants[0].doneCalls).toBe(1);
    } finally {
      app.stop();
    }
  });
});

describe("loadingStreamResponse", () => {
  test("a forward that fails unexpectedly ends the stream in-band instead of hanging", async () => {
    let doneCalls = 0;
    const res = loadingStreamResponse({
      model: "cold",
      modelId: "cold",
      loadHistoryMs: [],
      initial: [{ position: 0, model: "cold", loading: true }],
      follow: () => {},
      grant: Promise.resolve({ model: "cold", baseUrl: "http://127.0.0.1:1", severed: new AbortController().signal, done: () => doneCalls++ }),
      forward: async () => {
        throw new Error("boom");
      },
      abort: () => {},
      tickMs: 1000,
      now: Date.now,
      startedAt: Date.now(),
    });
    const events = parseSse(await res.text());
    expect(JSON.parse(events.at(-2)!.data).error.message).toContain("boom");
    expect(events.at(-1)!.data).toBe("[DONE]");
    // Releasing is forward()'s job (it owns the grant once called); the stream never calls done twice.
    expect(doneCalls).toBe(0);
  });
});

describe("loadingStreamResponse: the time left", () => {
  test("a request joining a load already 3 s under way counts from the load's start, rounded up (never about 0s left)", async () => {
    let t = 100_000;
    let resolveGrant!: (g: Grant) => void;
    const grant = new Promise<Grant>((r) => (resolveGrant = r));
    const res = loadingStreamResponse({
      model: "ma",
      modelId: "ma",
      loadHistoryMs: [4000],
      initial: [{ position: 0, model: "ma", loading: true, loadingSince: t - 3000 }],
      follow: () => {},
      grant,
      forward: async () => new Response("data: [DONE]\n\n", { headers: { "content-type": "text/event-stream" } }),
      abort: () => {},
      tickMs: 5,
      now: () => t,
      startedAt: t,
    });
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("left")) text += new TextDecoder().decode((await reader.read()).value);
    // 3 s of a 4 s median gone: about 1 s left, not 4.
    expect(text).toContain("0s elapsed, about 1s left");
    t += 800;
    while (!/elapsed, about 1s left[\s\S]*elapsed, about 1s left/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    resolveGrant({ model: "ma", baseUrl: "http://127.0.0.1:1", severed: new AbortController().signal, done: () => {} });
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    expect(text).not.toContain("about 0s left");
  });
});

describe("medianMs", () => {
  test("is null without history and the middle value otherwise", () => {
    expect(medianMs([])).toBeNull();
    expect(medianMs([5])).toBe(5);
    expect(medianMs([9, 1, 5])).toBe(5);
    expect(medianMs([4, 1, 3, 2])).toBe(2.5);
  });
});
