/**
 * A minimal streaming backend for the per-chunk latency measurement: every SSE event carries the
 * wall-clock time (epoch ms, fractional) at which it was handed to the socket, as `"t"`. The
 * simulator's chunks carry only `created` in whole seconds, which cannot time a chunk.
 * Usage: bun scripts/bench/stamp-backend.ts --port N [--tps R]   (R tokens/s per stream, 0 = flat out)
 */

const argv = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const port = flag("--port", 0);
const tps = flag("--tps", 0);
const enc = new TextEncoder();
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function stream(n: number): ReadableStream<Uint8Array> {
  const gap = tps > 0 ? 1000 / tps : 0;
  let i = 0;
  let t0 = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (i === 0) t0 = performance.now();
      if (i < n) {
        if (gap > 0) {
          const wait = t0 + (i + 1) * gap - performance.now();
          if (wait > 0) await sleep(wait);
        }
        c.enqueue(enc.encode(`data: {"t":${now()},"i":${i},"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"tok"}}]}\n\n`));
        i++;
        return;
      }
      c.enqueue(enc.encode("data: [DONE]\n\n"));
      c.close();
    },
  });
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  // Why: Bun.serve closes connections idle for 10 s by default; paced streams must stay open.
  idleTimeout: 0,
  async fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/health") return Response.json({ status: "ok" });
    if (req.method !== "POST") return new Response("not found", { status: 404 });
    const body = (await req.json()) as { max_tokens?: number; stream?: boolean };
    const n = typeof body.max_tokens === "number" ? body.max_tokens : 16;
    if (body.stream !== true) return Response.json({ object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: "tok".repeat(n) } }] });
    return new Response(stream(n), { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
  },
});
console.log(`listening on ${server.port}`);
