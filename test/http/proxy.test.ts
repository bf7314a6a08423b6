import { afterAll, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { createProxy } from "../../src/http/proxy.ts";
import { RouteError } from "../../src/router/types.ts";
import { parseSse } from "../fixtures/sse-parse.ts";
import { startEchoUpstream, startRawUpstream, startUpstream, writeChunked } from "./helpers.ts";
import { waitFor } from "../fixtures/wait.ts";

const enc = new TextEncoder();

function grant() {
  const sever = new AbortController();
  const g = {
    doneCalls: 0,
    severed: sever.signal,
    done() {
      g.doneCalls++;
    },
    sever: (reason: unknown) => sever.abort(reason),
  };
  return g;
}

/** A backend that sends a JSON head declaring 100 bytes, then one byte, then stalls; `closed()` says whether its socket closed. */
async function stalledJson() {
  let closed = false;
  const server = await startRawUpstream((socket) => {
    socket.on("close", () => (closed = true));
    socket.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{");
  });
  return { url: server.url, closed: () => closed, stop: () => server.stop() };
}

const echo = startEchoUpstream();
// Streams SSE events until told to stop.
const sse = startUpstream((req) => {
  const path = new URL(req.url).pathname;
  let n = 0;
  return new Response(
    new ReadableStream({
      async pull(c) {
        await Bun.sleep(15);
        if (path === "/short" && n >= 3) return c.close();
        c.enqueue(enc.encode(`data: {"n":${n++}}\n\n`));
      },
    }),
    { headers: { "content-type": "text/event-stream" } },
  );
});
afterAll(() => {
  echo.stop();
  sse.stop();
});

describe("proxy.forward", () => {
  test("strips hop-by-hop request headers, including those Connection lists, and drops host", async () => {
    const res = await createProxy().forward({
      url: `${echo.url}/x?a=1`,
      method: "POST",
      headers: new Headers({
        connection: "x-secret, keep-alive",
        "x-secret": "1",
        "keep-alive": "timeout=5",
        "proxy-authorization": "Basic abc",
        te: "trailers",
        host: "client.example",
        "x-kept": "yes",
        "content-type": "application/json",
      }),
      body: enc.encode('{"a":1}'),
      signal: new AbortController().signal,
      label: "m",
    });
    const seen = (await res.json()) as { headers: Record<string, string>; body: string; query: string; path: string };
    expect(seen.path).toBe("/x");
    expect(seen.query).toBe("?a=1");
    expect(seen.body).toBe('{"a":1}');
    expect(seen.headers["x-kept"]).toBe("yes");
    for (const h of ["x-secret", "keep-alive", "proxy-authorization", "te"]) expect(seen.headers[h]).toBeUndefined();
    expect(seen.headers.host).toBe(new URL(echo.url).host);
    // No encoding asked by the client: identity, not Bun's default "gzip, deflate, br, zstd".
    expect(seen.headers["accept-encoding"]).toBe("identity");
  });

  test("forwards the client's accept-encoding and sets injected headers after stripping", async () => {
    const res = await createProxy().forward({
      url: `${echo.url}/y`,
      method: "GET",
      headers: new Headers({ "accept-encoding": "gzip", connection: "authorization", authorization: "Bearer client" }),
      body: null,
      signal: new AbortController().signal,
      setHeaders: { authorization: "Bearer peer-key", "x-api-key": "peer-key" },
      label: "peer",
    });
    const seen = (await res.json()) as { headers: Record<string, string> };
    expect(seen.headers["accept-encoding"]).toBe("gzip");
    expect(seen.headers.authorization).toBe("Bearer peer-key");
    expect(seen.headers["x-api-key"]).toBe("peer-key");
  });

  test("strips hop-by-hop response headers and keeps the rest", async () => {
    const proxy = createProxy({
      fetch: async () =>
        new Response("body", {
          status: 201,
          headers: {
            connection: "x-hop",
            "x-hop": "1",
            "keep-alive": "timeout=5",
            "transfer-encoding": "chunked",
            upgrade: "h2c",
            "x-end": "2",
          },
        }),
    });
    const res = await proxy.forward({ url: "http://u/", method: "GET", headers: new Headers(), body: null, signal: new AbortController().signal, label: "m" });
    expect(res.status).toBe(201);
    for (const h of ["connection", "x-hop", "keep-alive", "transfer-encoding", "upgrade"]) expect(res.headers.get(h)).toBeNull();
    expect(res.headers.get("x-end")).toBe("2");
    expect(await res.text()).toBe("body");
  });

  test("passes a gzip body through as the same compressed bytes", async () => {
    const plain = JSON.stringify({ text: "é€ ".repeat(500) });
    const gz = gzipSync(plain);
    const up = startUpstream(() => new Response(gz, { headers: { "content-encoding": "gzip", "content-type": "application/json" } }));
    try {
      const g = grant();
      const res = await createProxy().forward({
        url: up.url,
        method: "GET",
        headers: new Headers({ "accept-encoding": "gzip" }),
        body: null,
        signal: new AbortController().signal,
        grant: g,
        label: "m",
      });
      expect(res.headers.get("content-encoding")).toBe("gzip");
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(Buffer.from(bytes).equals(gz)).toBe(true);
      await waitFor(() => g.doneCalls === 1, 2000, "done");
    } finally {
      up.stop();
    }
  });

  test("answers 502 with the envelope when the upstream is unreachable, and releases the grant", async () => {
    const closed = startUpstream(() => new Response("x"));
    const url = closed.url;
    closed.stop();
    const g = grant();
    const res = await createProxy().forward({ url, method: "GET", headers: new Headers(), body: null, signal: new AbortController().signal, grant: g, label: "m1" });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { message: string; type: string; code: string; param: null } };
    expect(body.error.type).toBe("server_error");
    expect(body.error.message).toContain("m1");
    expect(body.error.param).toBeNull();
    expect(g.doneCalls).toBe(1);
  });

  test("marks event streams X-Accel-Buffering: no and calls done once at the end", async () => {
    const g = grant();
    const res = await createProxy().forward({ url: `${sse.url}/short`, method: "GET", headers: new Headers(), body: null, signal: new AbortController().signal, grant: g, label: "m" });
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    expect(g.doneCalls).toBe(0);
    const text = await res.text();
    expect(parseSse(text).map((e) => e.data)).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
    expect(g.doneCalls).toBe(1);
  });

  test("a sever mid-stream ends the event stream with one error event and [DONE]", async () => {
    const g = grant();
    const res = await createProxy().forward({ url: `${sse.url}/forever`, method: "GET", headers: new Headers(), body: null, signal: new AbortController().signal, grant: g, label: "m" });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('data: {"n":0}\n\n');
    g.sever(new RouteError("severed", "drain deadline passed for m"));
    let rest = "";
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      rest += new TextDecoder().decode(r.value);
    }
    const events = parseSse(rest);
    const last2 = events.slice(-2);
    expect(JSON.parse(last2[0].data).error.message).toBe("drain deadline passed for m");
    expect(last2[1].data).toBe("[DONE]");
    expect(g.doneCalls).toBe(1);
  });

  test("a sever mid-way through a gzip event stream is a transport error, never plain bytes inside the gzip", async () => {
    // A gzip member per event, flushed as it goes (what a compressing server sends), and then nothing.
    const gz = startUpstream(
      () =>
        new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(Bun.gzipSync(new TextEncoder().encode('data: {"n":0}\n\n')));
            },
          }),
          { headers: { "content-type": "text/event-stream", "content-encoding": "gzip" } },
        ),
    );
    try {
      const g = grant();
      const res = await createProxy().forward({ url: gz.url, method: "GET", headers: new Headers({ "accept-encoding": "gzip" }), body: null, signal: new AbortController().signal, grant: g, label: "m" });
      expect(res.headers.get("content-encoding")).toBe("gzip");
      const reader = res.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(Bun.gunzipSync(first.value!))).toBe('data: {"n":0}\n\n');
      g.sever(new RouteError("severed", "drain deadline passed for m"));
      await expect(reader.read()).rejects.toThrow("drain deadline passed for m");
      await waitFor(() => g.doneCalls === 1, 3000, "the grant released");
    } finally {
      gz.stop();
    }
  });

  test("a sever before the upstream answers gives 503 with the reason", async () => {
    const slow = startUpstream(async () => {
      await Bun.sleep(3000);
      return new Response("late");
    });
    try {
      const g = grant();
      const p = createProxy().forward({ url: slow.url, method: "GET", headers: new Headers(), body: null, signal: new AbortController().signal, grant: g, label: "m" });
      setTimeout(() => g.sever(new RouteError("severed", "cut by drain")), 50);
      const res = await p;
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe("cut by drain");
      expect(g.doneCalls).toBe(1);
    } finally {
      slow.stop();
    }
  });

  test("a small whole body is handed over as bytes: a sever while it is read gives 503 with the reason and aborts the upstream", async () => {
    // Headers and a declared length of 100, then half of the body, then nothing (a stalled backend).
    let closed = false;
    const stalled = await startRawUpstream((socket) => {
      socket.on("close", () => (closed = true));
      socket.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n" + "x".repeat(50));
    });
    try {
      const g = grant();
      // The observer hears the response head before the body is read: then the sever hits the read.
      let head = false;
      const ends: string[] = [];
      const observer = { response: () => void (head = true), chunk: () => {}, end: (how: string) => void ends.push(how) };
      const p = createProxy().forward({ url: stalled.url, method: "GET", headers: new Headers(), body: null, signal: new AbortController().signal, grant: g, label: "m", observer });
      await waitFor(() => head, 3000, "the response head");
      g.sever(new RouteError("severed", "model m is being swapped out and its drain timeout (0s) passed"));
      const res = await p;
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "request_severed", message: expect.stringContaining("drain timeout") });
      expect(g.doneCalls).toBe(1);
      expect(ends).toEqual(["severed"]);
      await waitFor(() => closed, 3000, "the upstream socket closed");
    } finally {
      stalled.stop();
    }
  });

  test("an operator's cancel gets the same 499 while a small body is read as before the response head", async () => {
    const cancel = new RouteError("cancelled", "cancelled by an operator (POST /api/inflight/{id}/cancel)");
    const silent = await startRawUpstream(() => {});
    const stalled = await startRawUpstream((socket) => {
      socket.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{");
    });
    try {
      const before = grant();
      let sent = false;
      const p1 = createProxy({ fetch: (u, i) => ((sent = true), fetch(u, i)) }).forward({ url: silent.url, method: "GET", headers: new Headers(), body: null, signal: new AbortController().signal, grant: before, label: "m" });
      await waitFor(() => sent, 3000, "the request sent");
      before.sever(cancel);
      const r1 = await p1;

      const during = grant();
      let head = false;
      const ends: [string, number | undefined][] = [];
      const observer = { response: () => void (head = true), chunk: () => {}, end: (how: string, o?: { status?: number }) => void ends.push([how, o?.status]) };
      const p2 = createProxy().forward({ url: stalled.url, method: "GET", headers: new Headers(), body: null, signal: new AbortController().signal, grant: during, label: "m", observer });
      await waitFor(() => head, 3000, "the response head");
      during.sever(cancel);
      const r2 = await p2;

      expect([r1.status, r2.status]).toEqual([499, 499]);
      expect(((await r2.json()) as { error: { code: string } }).error.code).toBe("cancelled");
      expect(ends).toEqual([["severed", 499]]);
      expect(during.doneCalls).toBe(1);
    } finally {
      silent.stop();
      stalled.stop();
    }
  });

  test("a small whole body: the client's abort while it is read aborts the upstream and releases the grant once", async () => {
    const stalled = await stalledJson();
    try {
      const g = grant();
      const client = new AbortController();
      let head = false;
      const observer = { response: () => void (head = true), chunk: () => {}, end: () => {} };
      const p = createProxy().forward({ url: stalled.url, method: "GET", headers: new Headers(), body: null, signal: client.signal, grant: g, label: "m", observer });
      await waitFor(() => head, 3000, "the response head");
      client.abort();
      expect((await p).status).toBe(499);
      expect(g.doneCalls).toBe(1);
      await waitFor(stalled.closed, 3000, "the upstream socket closed");
    } finally {
      stalled.stop();
    }
  });

  for (const cut of ["the client's abort", "a sever"] as const) {
    test(`the caller's own controller (\`upstream\`): ${cut} while the body is read aborts the upstream through it, once`, async () => {
      const stalled = await stalledJson();
      try {
        const g = grant();
        const own = new AbortController();
        let head = false;
        const ends: string[] = [];
        const observer = { response: () => void (head = true), chunk: () => {}, end: (how: string) => void ends.push(how) };
        const p = createProxy().forward({ url: stalled.url, method: "GET", headers: new Headers(), body: null, signal: own.signal, upstream: own, grant: g, label: "m", observer });
        await waitFor(() => head, 3000, "the response head");
        if (cut === "a sever") g.sever(new RouteError("severed", "cut by drain"));
        else own.abort();
        const res = await p;
        expect(res.status).toBe(cut === "a sever" ? 503 : 499);
        expect(ends).toEqual([cut === "a sever" ? "severed" : "cancelled"]);
        expect(g.doneCalls).toBe(1);
        // The sever reached the upstream through the caller's controller, which it aborted.
        expect(own.signal.aborted).toBe(true);
        await waitFor(stalled.closed, 3000, "the upstream socket closed");
      } finally {
        stalled.stop();
      }
    });
  }

  test("an upstream that dies mid-stream yields an in-band error event, then [DONE]", async () => {
    // The backend writes two events and its socket drops (a crash), without the last chunk.
    const dying = await startRawUpstream(async (socket) => {
      await writeChunked(socket, { "content-type": "text/event-stream" }, [enc.encode('data: {"n":0}\n\n'), enc.encode('data: {"n":1}\n\n')]);
      setTimeout(() => socket.destroy(), 20);
    });
    const g = grant();
    const res = await createProxy().forward({ url: dying.url, method: "GET", headers: new Headers(), body: null, signal: new AbortController().signal, grant: g, label: "m" });
    const events = parseSse(await res.text());
    expect(events.slice(0, 2).map((e) => e.data)).toEqual(['{"n":0}', '{"n":1}']);
    const err = JSON.parse(events[2].data) as { error: { message: string; code: string } };
    expect(err.error.message).toContain("mid-stream");
    expect(events[3].data).toBe("[DONE]");
    expect(events).toHaveLength(4);
    expect(g.doneCalls).toBe(1);
    dying.stop();
  });

  test("cancelling the response body aborts the upstream and calls done once", async () => {
    let aborted = false;
    const up = startUpstream((req) => {
      req.signal.addEventListener("abort", () => (aborted = true));
      return new Response(
        new ReadableStream({
          async pull(c) {
            await Bun.sleep(10);
            c.enqueue(enc.encode("data: x\n\n"));
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      );
    });
    try {
      const g = grant();
      const res = await createProxy().forward({ url: up.url, method: "GET", headers: new Headers(), body: null, signal: new AbortController().signal, grant: g, label: "m" });
      const reader = res.body!.getReader();
      await reader.read();
      await reader.cancel("bye");
      expect(g.doneCalls).toBe(1);
      await waitFor(() => aborted, 3000, "upstream abort");
      expect(g.doneCalls).toBe(1);
    } finally {
      up.stop();
    }
  });

  test("an upstream status a Response cannot carry (600-999) is a 502, and the grant is released", async () => {
    const odd = await startRawUpstream((socket) => socket.end("HTTP/1.1 999 Odd\r\ncontent-length: 2\r\n\r\nhi"));
    try {
      const g = grant();
      const res = await createProxy().forward({ url: odd.url, method: "GET", headers: new Headers(), body: null, signal: new AbortController().signal, grant: g, label: "m" });
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain("999");
      expect(g.doneCalls).toBe(1);
    } finally {
      odd.stop();
    }
  });

  test("a header value fetch refuses is a 502 envelope, and the grant is released, not leaked", async () => {
    const g = grant();
    const res = await createProxy().forward({
      url: echo.url,
      method: "GET",
      headers: new Headers(),
      body: null,
      signal: new AbortController().signal,
      grant: g,
      // e.g. a key pasted with a trailing newline from a YAML block scalar
      setHeaders: { "x-api-key": "key\nwith-newline" },
      label: "m",
    });
    expect(res.status).toBe(502);
    expect(g.doneCalls).toBe(1);
  });

  test("forwarding: appends the client to X-Forwarded-For, or drops every forwarding header", async () => {
    const send = async (forwarding: { appendFor: string | null } | "drop") => {
      const res = await createProxy().forward({
        url: echo.url,
        method: "GET",
        headers: new Headers({ "x-forwarded-for": "198.51.100.1", "x-forwarded-proto": "https", forwarded: "for=198.51.100.1" }),
        body: null,
        signal: new AbortController().signal,
        forwarding,
        label: "m",
      });
      return ((await res.json()) as { headers: Record<string, string> }).headers;
    };
    const appended = await send({ appendFor: "10.0.0.2" });
    expect(appended["x-forwarded-for"]).toBe("198.51.100.1, 10.0.0.2");
    expect(appended["x-forwarded-proto"]).toBe("https");
    const dropped = await send("drop");
    for (const h of ["x-forwarded-for", "x-forwarded-proto", "forwarded"]) expect(dropped[h]).toBeUndefined();
  });
});
