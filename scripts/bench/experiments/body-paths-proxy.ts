/**
 * Issue 16 experiment (not part of `npm run bench`): a minimal Bun proxy with five body paths,
 * to price switchyard's body wrapper: `native` hands the upstream body to the Response, `pull`
 * wraps it in a pull-based ReadableStream as src/http/track-body.ts does, `direct` uses Bun's
 * `type: "direct"` stream, `transform` pipes it through an identity TransformStream (whose
 * `flush` would be an end hook), `iter` hands over an async generator of its chunks, `tee` hands
 * one branch of `res.body.tee()` to the Response and reads the other (an accounting reader beside
 * the client's).
 * `HEAP=<n>` keeps n small objects alive (three cells each), to price a bigger live heap.
 * Usage: [HEAP=n] bun body-paths-proxy.ts <native|pull|direct|transform|iter|tee> <upstream> <port>.
 */
const mode = process.argv[2]!;
const upstream = process.argv[3]!;
const port = Number(process.argv[4]);
// Reachable from the global object, so the collector must mark them on every cycle.
const keep: unknown[] = [];
for (let i = 0; i < Number(process.env.HEAP ?? 0); i++) keep.push({ i, s: "x" + i, a: [i] });
(globalThis as { keep?: unknown }).keep = keep;
Bun.serve({
  port, hostname: "127.0.0.1", idleTimeout: 0,
  async fetch(req) {
    const u = new URL(req.url);
    const res = await fetch(upstream + u.pathname, { method: req.method, headers: req.headers, body: await req.arrayBuffer(), decompress: false } as RequestInit);
    if (mode === "native") return new Response(res.body, { status: res.status, headers: res.headers });
    if (mode === "transform") {
      let ended = 0;
      const t = new TransformStream<Uint8Array, Uint8Array>({ flush() { ended++; } });
      return new Response(res.body!.pipeThrough(t), { status: res.status, headers: res.headers });
    }
    if (mode === "tee") {
      const [client, counter] = res.body!.tee();
      void (async () => {
        const r = counter.getReader();
        while (!(await r.read()).done);
      })();
      return new Response(client, { status: res.status, headers: res.headers });
    }
    if (mode === "iter") {
      const r = res.body!.getReader();
      const chunks = async function* () { for (;;) { const x = await r.read(); if (x.done) return; yield x.value; } };
      // Bun takes an async iterable as a body; the DOM lib's BodyInit does not name it.
      return new Response(chunks() as unknown as BodyInit, { status: res.status, headers: res.headers });
    }
    const reader = res.body!.getReader();
    if (mode === "pull") {
      return new Response(new ReadableStream<Uint8Array>({
        async pull(c) { const r = await reader.read(); if (r.done) { c.close(); return; } c.enqueue(r.value); },
        cancel() { reader.cancel(); },
      }, { highWaterMark: 0 }), { status: res.status, headers: res.headers });
    }
    return new Response(new ReadableStream({
      type: "direct",
      async pull(c: { write(b: Uint8Array): number | Promise<number>; close(): void }) {
        for (;;) { const r = await reader.read(); if (r.done) break; await c.write(r.value); }
        c.close();
      },
      cancel() { reader.cancel(); },
    } as unknown as UnderlyingDefaultSource<Uint8Array>), { status: res.status, headers: res.headers });
  },
});
console.log("ready");
export {};
