/**
 * Peer requests at shutdown, as local ones: new ones refused with shutting_down before any byte,
 * those in flight waited for, and one still streaming at the drain deadline cut in-band with the
 * error event and [DONE] (the app listening for real, a peer that streams until told to finish).
 */
import { afterAll, expect, test } from "bun:test";
import { createPeerRequests } from "../../src/http/peer-requests.ts";
import { RouteError } from "../../src/router/types.ts";
import { waitFor } from "../fixtures/wait.ts";
import { createFakeRouter, makeConfig, modelConfig, peerConfig, startApp } from "./helpers.ts";

test("holds: done once; a shutdown with none in flight resolves at once and refuses new ones", async () => {
  const p = createPeerRequests();
  const h = p.acquire();
  expect(p.inFlight()).toBe(1);
  h.done();
  h.done();
  expect(p.inFlight()).toBe(0);
  await p.shutdown(60_000);
  expect(() => p.acquire()).toThrow(RouteError);
});

// A peer that sends one event, then the rest when `finish` is called.
let finish: (() => void) | null = null;
const enc = new TextEncoder();
const peer = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  idleTimeout: 0,
  fetch: () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(enc.encode('data: {"choices":[{"delta":{"content":"hi"}}]}\n\n'));
          finish = () => {
            c.enqueue(enc.encode("data: [DONE]\n\n"));
            c.close();
          };
        },
        // The sever cancels the peer's body: nothing is left to finish.
        cancel: () => void (finish = null),
      }),
      { headers: { "content-type": "text/event-stream" } },
    ),
});
afterAll(() => peer.stop(true));

test("a shutdown refuses new peer requests, waits for one in flight, and cuts it in-band at the drain deadline", async () => {
  const peerRequests = createPeerRequests();
  const app = startApp({ config: makeConfig([modelConfig("local")], { peers: { p: peerConfig("p", `http://127.0.0.1:${peer.port}`, ["remote"]) } }), router: createFakeRouter({}), peerRequests });
  try {
    const chat = () => fetch(`${app.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "p/remote", stream: true }) });
    const first = await chat();
    expect(first.status).toBe(200);
    const reader = first.body!.getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    expect(peerRequests.inFlight()).toBe(1);

    let drained = false;
    const stopping = peerRequests.shutdown(100).then(() => (drained = true));
    const refused = await chat();
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("shutting_down");
    expect(drained).toBe(false);

    // The deadline passes: the stream ends with the error event, then [DONE].
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    await stopping;
    expect(text).toContain('"content":"hi"');
    expect(text).toContain("drain timeout (0.1s) passed");
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    await waitFor(() => peerRequests.inFlight() === 0, 5000, "the hold to be released");
  } finally {
    finish?.();
    app.stop();
  }
});
