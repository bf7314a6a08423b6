/**
 * The proxy's one resend: a request whose connection died before any response byte goes out once
 * more on a fresh connection, never twice, never with a streamed body, never once a response
 * began. The last tests run a real simulator process that closes every connection after its
 * response while advertising keep-alive, as llama-server does.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createProxy, isDeadConnection, type FetchLike } from "../../src/http/proxy.ts";
import { createLogHub } from "../../src/log/log-hub.ts";
import { parseSse } from "../fixtures/sse-parse.ts";
import { startSimulator } from "../fixtures/sim-model.ts";
import { waitFor } from "../fixtures/wait.ts";
import { startRawUpstream } from "./helpers.ts";

const enc = new TextEncoder();

/** An error shaped like Bun's fetch rejection for a connection the server had closed. */
function connError(code: string): Error {
  return Object.assign(new Error(`${code}: The socket connection was closed unexpectedly`), { code });
}

/** A fetch that fails with `failures` in order, then answers 200; records each call's init. */
function scriptedFetch(failures: Error[]) {
  const calls: (RequestInit & { keepalive?: boolean })[] = [];
  const fetch: FetchLike = async (_url, init) => {
    calls.push(init ?? {});
    const f = failures[calls.length - 1];
    if (f) throw f;
    return new Response("ok");
  };
  return { fetch, calls };
}

function forwardOpts(body: Uint8Array | ReadableStream<Uint8Array> | null, signal = new AbortController().signal) {
  let done = 0;
  const grant = { severed: new AbortController().signal, done: () => void done++ };
  return { opts: { url: "http://127.0.0.1:1/v1/chat/completions", method: "POST", headers: new Headers(), body, signal, grant, label: "m" }, doneCount: () => done };
}

describe("isDeadConnection", () => {
  test("reset, closed and broken pipe are dead connections; refused, timeouts and plain errors are not", () => {
    for (const code of ["ECONNRESET", "EPIPE", "ConnectionClosed", "ECONNABORTED"]) expect(isDeadConnection(connError(code))).toBe(true);
    for (const code of ["ConnectionRefused", "ECONNREFUSED", "TimeoutError"]) expect(isDeadConnection(connError(code))).toBe(false);
    expect(isDeadConnection(new Error("boom"))).toBe(false);
    expect(isDeadConnection(null)).toBe(false);
  });
});

describe("proxy resend", () => {
  test("a dead connection before any byte is sent once more on a fresh connection, counted and logged at debug", async () => {
    const logs = createLogHub({ level: "debug", logToStdout: "none" });
    const { fetch, calls } = scriptedFetch([connError("ECONNRESET")]);
    const proxy = createProxy({ fetch, log: logs.log });
    const { opts, doneCount } = forwardOpts(enc.encode('{"model":"m"}'));
    const res = await proxy.forward(opts);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok");
    expect(calls).toHaveLength(2);
    expect(calls[0]!.keepalive).toBeUndefined();
    expect(calls[1]!.keepalive).toBe(false);
    // The same bytes go out again.
    expect(calls[1]!.body).toBe(calls[0]!.body);
    expect(proxy.stats().retries).toBe(1);
    expect(logs.proxy.history()).toMatch(/\[DEBUG\] upstream m: ECONNRESET before any response byte; sending once more on a fresh connection/);
    await waitFor(() => doneCount() === 1);
  });

  test("never twice: a second dead connection is a 502 and the grant is released once", async () => {
    const { fetch, calls } = scriptedFetch([connError("ECONNRESET"), connError("EPIPE")]);
    const proxy = createProxy({ fetch });
    const { opts, doneCount } = forwardOpts(enc.encode("{}"));
    const res = await proxy.forward(opts);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("upstream m unreachable: EPIPE");
    expect(calls).toHaveLength(2);
    expect(proxy.stats().retries).toBe(1);
    expect(doneCount()).toBe(1);
  });

  test("a streamed request body cannot be replayed, so it is not resent", async () => {
    const { fetch, calls } = scriptedFetch([connError("ECONNRESET")]);
    const proxy = createProxy({ fetch });
    const body = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(enc.encode("x")), c.close()) });
    const res = await proxy.forward(forwardOpts(body).opts);
    expect(res.status).toBe(502);
    expect(calls).toHaveLength(1);
    expect(proxy.stats().retries).toBe(0);
  });

  test("a refused connection or a client that left is not resent", async () => {
    const refused = scriptedFetch([connError("ConnectionRefused")]);
    expect((await createProxy({ fetch: refused.fetch }).forward(forwardOpts(null).opts)).status).toBe(502);
    expect(refused.calls).toHaveLength(1);

    const client = new AbortController();
    const gone = scriptedFetch([connError("ECONNRESET")]);
    const fetchThenLeave: FetchLike = async (url, init) => {
      client.abort(new Error("client left"));
      return gone.fetch(url, init);
    };
    const res = await createProxy({ fetch: fetchThenLeave }).forward(forwardOpts(enc.encode("{}"), client.signal).opts);
    expect(res.status).toBe(499);
    expect(gone.calls).toHaveLength(1);
  });

  test("once a response byte arrived, a dying connection is never resent: the stream ends in-band", async () => {
    const sockets: import("node:net").Socket[] = [];
    const raw = await startRawUpstream((socket) => {
      sockets.push(socket);
      const event = 'data: {"n":1}\n\n';
      socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n${Buffer.byteLength(event).toString(16)}\r\n${event}\r\n`);
    });
    try {
      const proxy = createProxy();
      const { opts } = forwardOpts(enc.encode("{}"));
      const res = await proxy.forward({ ...opts, url: `${raw.url}/v1/chat/completions` });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toBe('data: {"n":1}\n\n');
      // The connection dies after the first byte reached the client.
      sockets[0]!.resetAndDestroy();
      let rest = "";
      for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
      const events = parseSse(rest);
      expect(events[0]!.data).toContain('"error"');
      expect(events[events.length - 1]!.data).toBe("[DONE]");
      expect(sockets).toHaveLength(1);
      expect(proxy.stats().retries).toBe(0);
    } finally {
      raw.stop();
    }
  });
});

describe("against a backend that closes after each response (simulate --close-after-response)", () => {
  const sim = startSimulator(["--close-after-response", "--tokens", "4"]);
  afterAll(async () => (await sim).proc.kill("SIGKILL"));
  const base = async (): Promise<string> => (await sim).url;
  const chat = (stream: boolean) => enc.encode(JSON.stringify({ model: "m", stream, messages: [{ role: "user", content: "hi" }] }));

  test("4 keep-alive clients × 100 back-to-back requests, streamed and not: every one is served, by resending", async () => {
    const url = `${await base()}/v1/chat/completions`;
    const proxy = createProxy();
    const failures: string[] = [];
    let served = 0;
    await Promise.all(
      Array.from({ length: 4 }, async (_, client) => {
        for (let i = 0; i < 100; i++) {
          const stream = (i + client) % 2 === 0;
          const res = await proxy.forward({ url, method: "POST", headers: new Headers({ "content-type": "application/json" }), body: chat(stream), signal: new AbortController().signal, label: "sim" });
          const text = await res.text();
          if (res.status !== 200 || (stream ? !text.includes("data: [DONE]") : !text.includes('"completion_tokens":4'))) failures.push(`${res.status} ${text.slice(0, 200)}`);
          else served++;
        }
      }),
    );
    expect(failures).toEqual([]);
    expect(served).toBe(400);
    // The mode reproduces the failure: without the resend these would have been 502s.
    expect(proxy.stats().retries).toBeGreaterThan(0);
  });
});
