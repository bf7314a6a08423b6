/**
 * llama-swap's `timeouts` on the proxy path, over real sockets: responseHeader (no headers in time:
 * a 502 envelope before any byte, or an in-band error when a loading stream already began), connect
 * (a second connection attempt decides), the grant released once, and a response that has begun
 * never cut by a timer.
 */
import { afterAll, describe, expect, test } from "bun:test";
import type { ModelConfig } from "../../src/config/types.ts";
import { createProxy, type DialProbe, type ForwardEnd } from "../../src/http/proxy.ts";
import { parseSse } from "../fixtures/sse-parse.ts";
import { MODEL_TIMEOUTS } from "../fixtures/model-config.ts";
import { createFakeRouter, makeConfig, modelConfig, peerConfig, startApp, startUpstream } from "./helpers.ts";

const enc = new TextEncoder();

function grant() {
  const sever = new AbortController();
  const g = {
    doneCalls: 0,
    severed: sever.signal,
    done() {
      g.doneCalls++;
    },
  };
  return g;
}

function observer() {
  const ends: { how: ForwardEnd; status?: number; error?: string }[] = [];
  return { ends, response() {}, chunk() {}, end: (how: ForwardEnd, o: { status?: number; error?: string } = {}) => void ends.push({ how, ...o }) };
}

// Accepts and never answers, until the test is over.
const pending: (() => void)[] = [];
const silent = startUpstream(() => new Promise<Response>((resolve) => pending.push(() => resolve(new Response("late")))));
// Sends its headers and a first event at once, then the rest only after 300 ms (longer than any limit here).
const HOLD_MS = 300;
const slowBody = startUpstream(
  () =>
    new Response(
      new ReadableStream({
        async start(c) {
          c.enqueue(enc.encode('data: {"n":0}\n\n'));
          await new Promise((r) => setTimeout(r, HOLD_MS));
          c.enqueue(enc.encode('data: {"n":1}\n\ndata: [DONE]\n\n'));
          c.close();
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    ),
);
// Answers 150 ms after the request, well past the short limits used here.
const late = startUpstream(() => new Promise<Response>((resolve) => setTimeout(() => resolve(new Response("answer")), 150)));
afterAll(() => {
  for (const p of pending) p();
  silent.stop();
  slowBody.stop();
  late.stop();
});

const base = { method: "POST", headers: new Headers({ "content-type": "application/json" }), body: enc.encode('{"model":"m"}'), label: "m" };

describe("timeouts.responseHeader", () => {
  test("no response headers in time: 502 before any byte, the grant released once, the end told once", async () => {
    const g = grant();
    const obs = observer();
    const started = Date.now();
    const res = await createProxy().forward({ ...base, url: `${silent.url}/v1/chat/completions`, signal: new AbortController().signal, grant: g, observer: obs, timeouts: { connectMs: 0, responseHeaderMs: 80 } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { message: string; code: string } };
    expect(body.error.code).toBe("upstream_header_timeout");
    expect(body.error.message).toBe("upstream m sent no response headers within 0.08s (timeouts.responseHeader)");
    expect(g.doneCalls).toBe(1);
    expect(obs.ends).toEqual([{ how: "upstream_error", status: 502, error: body.error.message }]);
  });

  test("a response whose headers came in time is never cut, however long its body pauses", async () => {
    const g = grant();
    const res = await createProxy().forward({ ...base, url: `${slowBody.url}/s`, signal: new AbortController().signal, grant: g, timeouts: { connectMs: 50, responseHeaderMs: 50 } });
    expect(res.status).toBe(200);
    expect(parseSse(await res.text()).map((e) => e.data)).toEqual(['{"n":0}', '{"n":1}', "[DONE]"]);
    expect(g.doneCalls).toBe(1);
  });

  test("0 means no limit", async () => {
    const res = await createProxy().forward({ ...base, url: `${late.url}/x`, signal: new AbortController().signal, timeouts: { connectMs: 0, responseHeaderMs: 0 } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("answer");
  });
});

describe("timeouts.connect", () => {
  test("unanswered after the connect time and a fresh attempt cannot connect either: 502 naming host and port", async () => {
    const calls: [string, number, number][] = [];
    const dial: DialProbe = async (host, port, ms) => {
      calls.push([host, port, ms]);
      return "timeout";
    };
    const g = grant();
    const res = await createProxy({ dial }).forward({ ...base, url: `${silent.url}/x`, signal: new AbortController().signal, grant: g, timeouts: { connectMs: 60, responseHeaderMs: 0 } });
    expect(res.status).toBe(502);
    const port = Number(new URL(silent.url).port);
    expect(calls).toEqual([["127.0.0.1", port, 60]]);
    const body = (await res.json()) as { error: { message: string; code: string } };
    expect(body.error.code).toBe("upstream_connect_timeout");
    expect(body.error.message).toBe(`upstream m: could not connect to 127.0.0.1:${port} within 0.06s (timeouts.connect)`);
    expect(g.doneCalls).toBe(1);
  });

  test("a server that accepts connections is left to answer (a slow prefill is not a connect timeout)", async () => {
    let dialled = 0;
    const dial: DialProbe = async () => {
      dialled++;
      return "connected";
    };
    const res = await createProxy({ dial }).forward({ ...base, url: `${late.url}/x`, signal: new AbortController().signal, timeouts: { connectMs: 40, responseHeaderMs: 0 } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("answer");
    expect(dialled).toBe(1);
  });

  test("no probe when the answer comes before the connect time", async () => {
    let dialled = 0;
    const dial: DialProbe = async () => {
      dialled++;
      return "timeout";
    };
    const res = await createProxy({ dial }).forward({ ...base, url: `${slowBody.url}/s`, signal: new AbortController().signal, timeouts: { connectMs: 1000, responseHeaderMs: 0 } });
    expect(res.status).toBe(200);
    await res.text();
    expect(dialled).toBe(0);
  });
});

describe("timeouts from the config, through the app", () => {
  const withTimeouts = (id: string, responseHeader: number, over: Partial<ModelConfig> = {}) => modelConfig(id, { timeouts: { ...MODEL_TIMEOUTS, responseHeader }, ...over });
  const config = makeConfig([withTimeouts("m", 0.1), withTimeouts("loading", 0.1, { sendLoadingState: true })], {
    peers: { p: peerConfig("p", silent.url, ["remote"], { timeouts: { ...MODEL_TIMEOUTS, responseHeader: 0.1 } }) },
  });
  const router = createFakeRouter({ m: { baseUrl: silent.url }, loading: { baseUrl: silent.url, updates: [{ position: 0, model: "loading", loading: true }] } });
  const app = startApp({ config, router });
  afterAll(() => app.stop());
  const post = (body: object) => fetch(`${app.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

  test("a model's responseHeader limit: the client gets the 502 envelope and the grant is released once", async () => {
    const res = await post({ model: "m" });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upstream_header_timeout");
    const g = router.grants.find((x) => x.model === "m")!;
    expect(g.doneCalls).toBe(1);
  });

  test("after a loading stream began, the timeout arrives in-band, then [DONE]", async () => {
    const res = await post({ model: "loading", stream: true });
    expect(res.status).toBe(200);
    const events = parseSse(await res.text());
    const last = events.slice(-2).map((e) => e.data);
    expect(last[1]).toBe("[DONE]");
    expect(JSON.parse(last[0]).error.message).toContain("sent no response headers within 0.1s (timeouts.responseHeader)");
    expect(router.grants.find((x) => x.model === "loading")!.doneCalls).toBe(1);
  });

  test("a peer's responseHeader limit", async () => {
    const res = await post({ model: "p/remote" });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe("upstream peer p sent no response headers within 0.1s (timeouts.responseHeader)");
  });
});
