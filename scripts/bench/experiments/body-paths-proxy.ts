/**
 * Issue 16 experiment (not part of `npm run bench`): a minimal Bun proxy with three body paths,
 * to price switchyard's body wrapper: `native` hands the upstream body to the Response, `pull`
 * wraps it in a pull-based ReadableStream as src/http/track-body.ts does, `direct` uses Bun's
 * `type: "direct"` stream. Usage: bun body-paths-proxy.ts <native|pull|direct> <upstream> <port>.
 */
const mode = process.argv[2]!;
const upstream = process.argv[3]!;
const port = Number(process.argv[4]);
Bun.serve({
  port, hostname: "127.0.0.1", idleTimeout: 0,
  async fetch(req) {
    const u = new URL(req.url);
    const res = await fetch(upstream + u.pathname, { method: req.method, headers: req.headers, body: await req.arrayBuffer(), decompress: false } as RequestInit);
    if (mode === "native") return new Response(res.body, { status: res.status, headers: res.headers });
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
