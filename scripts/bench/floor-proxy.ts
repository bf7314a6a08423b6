/**
 * The floor for issue 16's targets: the least a Bun proxy can do, `Bun.serve` + `fetch` with the
 * upstream body handed natively to the response (no JS stream in between, no routing, no
 * accounting). Run as `bun scripts/bench/floor-proxy.ts <upstream-url> <port>`; prints "ready".
 */
const upstream = process.argv[2]!;
const port = Number(process.argv[3]);
Bun.serve({
  port,
  hostname: "127.0.0.1",
  idleTimeout: 0,
  async fetch(req) {
    const u = new URL(req.url);
    const init = { method: req.method, headers: req.headers, body: req.method === "GET" ? null : await req.arrayBuffer(), decompress: false };
    const res = await fetch(upstream + u.pathname + u.search, init as RequestInit);
    return new Response(res.body, { status: res.status, headers: res.headers });
  },
});
console.log("ready");
export {};
