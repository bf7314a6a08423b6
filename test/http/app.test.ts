import { afterAll, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { createFakeRouter, makeConfig, modelConfig, startApp, startRawUpstream, startUpstream, writeChunked } from "./helpers.ts";
import { waitFor } from "../fixtures/wait.ts";

const enc = new TextEncoder();
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups.reverse()) c();
});

describe("app: streaming through Elysia", () => {
  test("an event stream is byte-identical, with multi-byte UTF-8 split across TCP writes", async () => {
    const parts = [
      enc.encode('data: {"t":"caf'),
      new Uint8Array([0xc3]), // first byte of "é"
      new Uint8Array([0xa9, ...enc.encode('"}\n\ndata: {"t":"'), 0xe2, 0x82]), // "é" completes, "€" starts
      new Uint8Array([0xac, ...enc.encode('"}\n\n')]),
      enc.encode("data: [DONE]\n\n"),
    ];
    const up = await startRawUpstream(async (socket) => {
      await writeChunked(socket, { "content-type": "text/event-stream" }, parts);
      socket.end("0\r\n\r\n");
    });
    const router = createFakeRouter({ m: { baseUrl: up.url } });
    const app = startApp({ config: makeConfig([modelConfig("m")]), router });
    cleanups.push(up.stop, app.stop);

    const res = await fetch(`${app.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", stream: true, messages: [] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(res.headers.get("x-accel-buffering")).toBe("no");
    const got = new Uint8Array(await res.arrayBuffer());
    const want = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let off = 0;
    for (const p of parts) {
      want.set(p, off);
      off += p.byteLength;
    }
    expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
    expect(new TextDecoder().decode(got)).toContain("café");
    await waitFor(() => router.grants[0]?.doneCalls === 1, 2000, "done");
  });

  test("a gzip-encoded response reaches the client compressed and decodes to the original", async () => {
    const plain = JSON.stringify({ object: "list", data: Array.from({ length: 200 }, (_, i) => ({ i, s: "naïve café ✓" })) });
    const gz = gzipSync(plain);
    let seenAcceptEncoding: string | null = null;
    const up = startUpstream((req) => {
      seenAcceptEncoding = req.headers.get("accept-encoding");
      return new Response(gz, { headers: { "content-type": "application/json", "content-encoding": "gzip" } });
    });
    const app = startApp({ config: makeConfig([modelConfig("m")]), router: createFakeRouter({ m: { baseUrl: up.url } }) });
    cleanups.push(up.stop, app.stop);
    // Raw bytes: what the proxy sent on the wire is the backend's gzip, untouched.
    const raw = await fetch(`${app.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json", "accept-encoding": "gzip" },
      body: JSON.stringify({ model: "m", input: "x" }),
      decompress: false,
    } as RequestInit);
    expect(raw.headers.get("content-encoding")).toBe("gzip");
    expect(Buffer.from(await raw.arrayBuffer()).equals(gz)).toBe(true);
    expect(String(seenAcceptEncoding)).toBe("gzip");
    // A normal client decodes it.
    const decoded = await fetch(`${app.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json", "accept-encoding": "gzip" },
      body: JSON.stringify({ model: "m", input: "x" }),
    });
    expect(await decoded.text()).toBe(plain);
  });

  test("a client abort mid-stream reaches the backend within 100 ms", async () => {
    let abortedAt = 0;
    const up = startUpstream((req) => {
      req.signal.addEventListener("abort", () => (abortedAt ||= performance.now()));
      let n = 0;
      return new Response(
        new ReadableStream({
          async pull(c) {
            await Bun.sleep(20);
            c.enqueue(enc.encode(`data: {"n":${n++}}\n\n`));
          },
          cancel() {
            abortedAt ||= performance.now();
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      );
    });
    const router = createFakeRouter({ m: { baseUrl: up.url } });
    const app = startApp({ config: makeConfig([modelConfig("m")]), router });
    cleanups.push(up.stop, app.stop);

    const ac = new AbortController();
    const res = await fetch(`${app.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "m", stream: true }),
      headers: { "content-type": "application/json" },
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    const t0 = performance.now();
    ac.abort();
    await waitFor(() => abortedAt > 0, 2000, "backend abort");
    const latency = abortedAt - t0;
    if (process.env.SHOW_LATENCY) console.log(`abort latency ${latency.toFixed(2)} ms`);
    expect(latency).toBeLessThan(100);
    await waitFor(() => router.grants[0]?.doneCalls === 1, 2000, "done after abort");
  });
});

describe("app: errors", () => {
  const app = startApp({ config: makeConfig([modelConfig("m")], { requestBodyLimitMB: 1 }), router: createFakeRouter({}) });
  cleanups.push(app.stop);

  test("an unknown route is a 404 envelope", async () => {
    const res = await fetch(`${app.url}/nope/at/all`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { message: string; type: string; code: string; param: unknown } };
    expect(body.error).toEqual({ message: "not found", type: "invalid_request_error", param: null, code: "not_found" });
  });

  test("our errors carry src and follow Accept (text/plain, text/html), as llama-swap's do", async () => {
    const json = await fetch(`${app.url}/nope`);
    expect(((await json.json()) as { src: string }).src).toBe("switchyard");
    const plain = await fetch(`${app.url}/nope`, { headers: { accept: "text/plain" } });
    expect(plain.status).toBe(404);
    expect(plain.headers.get("content-type")).toStartWith("text/plain");
    expect(await plain.text()).toBe("switchyard: not found");
    const html = await fetch(`${app.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/html,*/*;q=0.8" },
      body: JSON.stringify({ model: "<nope>" }),
    });
    expect(html.status).toBe(404);
    expect(await html.text()).toBe('<html><body><h1>switchyard</h1><p>model &#34;&lt;nope&gt;&#34; not found</p></body></html>');
  });

  test("a known path asked with the wrong method is 405 with Allow, as Go's mux answers", async () => {
    const res = await fetch(`${app.url}/v1/models`, { method: "POST" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    expect((await fetch(`${app.url}/api/models/unload`)).status).toBe(405);
    expect((await fetch(`${app.url}/api/models/unload/m`)).headers.get("allow")).toBe("POST");
    expect((await fetch(`${app.url}/health`, { method: "HEAD" })).status).toBe(200);
  });

  test("a body over requestBodyLimitMB with content-length is our 413 envelope", async () => {
    const res = await fetch(`${app.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Uint8Array(2 * 1024 * 1024),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("1 MB");
  });

  test("a chunked body over the limit is our 413 envelope too", async () => {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= 3 * 1024 * 1024) return c.close();
        sent += 64 * 1024;
        c.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const res = await fetch(`${app.url}/v1/chat/completions`, { method: "POST", body, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("request_too_large");
  });
});

describe("app: a quiet stream", () => {
  // SLOW (about 61 s), required by the acceptance criteria: a stream silent for 60 s must survive
  // Bun's and Elysia's idle timeouts (10 s / 30 s by default). The only slow test in the suite.
  test(
    "a stream that is quiet for 60 s survives",
    async () => {
      const up = startUpstream(() => {
        let step = 0;
        return new Response(
          new ReadableStream({
            async pull(c) {
              if (step === 0) c.enqueue(enc.encode('data: {"n":0}\n\n'));
              else if (step === 1) {
                await Bun.sleep(61_000);
                c.enqueue(enc.encode('data: {"n":1}\n\n'));
              } else c.close();
              step++;
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        );
      });
      const app = startApp({ config: makeConfig([modelConfig("m")]), router: createFakeRouter({ m: { baseUrl: up.url } }) });
      cleanups.push(up.stop, app.stop);
      const t0 = Date.now();
      const res = await fetch(`${app.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "m", stream: true }),
      });
      expect(await res.text()).toBe('data: {"n":0}\n\ndata: {"n":1}\n\n');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(60_000);
    },
    { timeout: 90_000 },
  );
});
