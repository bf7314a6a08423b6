/**
 * Issue 16 experiment (not part of `npm run bench`): the body-paths proxy's native passthrough,
 * behind one Elysia route, to price Elysia's own share of a request.
 * Usage: bun elysia-proxy.ts <upstream> <port>.
 */
import { Elysia } from "elysia";
const upstream = process.argv[2]!;
const port = Number(process.argv[3]);
new Elysia().post("/v1/chat/completions", async ({ request }) => {
  const res = await fetch(upstream + "/v1/chat/completions", { method: "POST", headers: request.headers, body: await request.arrayBuffer(), decompress: false } as RequestInit);
  return new Response(res.body, { status: res.status, headers: res.headers });
}, { parse: "none" }).listen({ port, hostname: "127.0.0.1" });
console.log("ready");
export {};
