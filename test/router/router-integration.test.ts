/**
 * The router over real supervisors and real simulated backends (child processes, sockets): a long
 * stream on A is never cut by a request for B within the drain timeout, and a stalled stream on A
 * bounds (never blocks) B's availability: it is severed at A's drain deadline and B is served.
 */
import { afterEach, expect, test } from "bun:test";
import { createLogHub } from "../../src/log/log-hub.ts";
import { createSupervisor } from "../../src/process/supervisor.ts";
import type { Supervisor } from "../../src/process/types.ts";
import { createRouter, type SwitchyardRouter } from "../../src/router/router.ts";
import { RouteError, type Grant } from "../../src/router/types.ts";
import type { ModelConfig } from "../../src/config/types.ts";
import { simModel } from "../fixtures/sim-model.ts";
import { testConfig } from "./fake-supervisor.ts";

const routers: SwitchyardRouter[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.shutdown()));
});

function build(models: ModelConfig[], maxWait: number) {
  const logs = createLogHub({ level: "debug", logToStdout: "none" });
  const supervisors = new Map<string, Supervisor>(models.map((m) => [m.id, createSupervisor({ model: m, logs })]));
  const router = createRouter({ config: testConfig(models, { fifo: { maxWait } }), supervisors, log: logs.log });
  routers.push(router);
  return { router, logs };
}

/** Start a streamed chat completion on the grant; resolves with the whole body text, or the error. */
function stream(g: Grant, maxTokens: number, signal: AbortSignal, onFirstChunk: () => void) {
  return (async () => {
    const res = await fetch(`${g.baseUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: g.model, stream: true, max_tokens: maxTokens, messages: [{ role: "user", content: "hi" }] }),
      signal,
    });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const dec = new TextDecoder();
    let text = "";
    let first = true;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += dec.decode(value, { stream: true });
        if (first) {
          first = false;
          onFirstChunk();
        }
      }
      return { text, error: null as unknown };
    } catch (error) {
      return { text, error };
    }
  })();
}

const chunks = (text: string) => text.split("\n").filter((l) => l.startsWith("data: {")).length;

test("a long stream on A completes intact, then B is served", async () => {
  const a = simModel(["--tps", "25", "--tokens", "20"], { id: "a", drainTimeout: 30 });
  const b = simModel(["--load-ms", "200"], { id: "b" });
  const { router } = build([a, b], 0.2);
  const ga = await router.acquire("a", { signal: new AbortController().signal });
  let bRequested!: () => void;
  const firstChunk = new Promise<void>((r) => (bRequested = r));
  const aStream = stream(ga, 20, new AbortController().signal, () => bRequested());
  await firstChunk;
  let aEnded = 0;
  const aDone = aStream.then((r) => {
    aEnded = Date.now();
    ga.done();
    return r;
  });
  const gb = await router.acquire("b", { signal: new AbortController().signal });
  const bGranted = Date.now();
  const aResult = await aDone;
  expect(aResult.error).toBeNull();
  expect(aResult.text).toContain("data: [DONE]");
  expect(chunks(aResult.text)).toBeGreaterThanOrEqual(20);
  expect(ga.severed.aborted).toBe(false);
  expect(aEnded).toBeGreaterThan(0);
  expect(bGranted).toBeGreaterThanOrEqual(aEnded);
  const res = await fetch(`${gb.baseUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "b", messages: [{ role: "user", content: "hi" }] }),
  });
  expect(res.status).toBe(200);
  await res.json();
  gb.done();
  const status = router.status();
  expect(status.find((s) => s.model === "a")?.state).toBe("stopped");
  expect(status.find((s) => s.model === "b")?.state).toBe("ready");
}, 30_000);

test("with drainTimeout 1, a stalled stream on A is severed and B is served within about 1 s plus its load", async () => {
  const a = simModel(["--stall-after", "2"], { id: "a", drainTimeout: 1 });
  const b = simModel(["--load-ms", "200"], { id: "b" });
  const { router, logs } = build([a, b], 0.2);
  const ga = await router.acquire("a", { signal: new AbortController().signal });
  // What the HTTP layer does: abort the upstream when the grant is severed, then call done().
  const upstream = new AbortController();
  const severed = new Promise<unknown>((resolve) =>
    ga.severed.addEventListener("abort", () => {
      resolve(ga.severed.reason);
      upstream.abort(ga.severed.reason);
    }),
  );
  let started!: () => void;
  const firstChunk = new Promise<void>((r) => (started = r));
  const aStream = stream(ga, 50, upstream.signal, () => started()).then((r) => {
    ga.done();
    return r;
  });
  await firstChunk;
  const t0 = Date.now();
  const gb = await router.acquire("b", { signal: new AbortController().signal });
  const elapsed = Date.now() - t0;
  const reason = await severed;
  expect(reason).toBeInstanceOf(RouteError);
  expect((reason as RouteError).kind).toBe("severed");
  const aResult = await aStream;
  expect(aResult.error).not.toBeNull();
  // maxWait 0.2 s + drainTimeout 1 s + b's 0.2 s load, with generous room for a busy machine.
  expect(elapsed).toBeGreaterThanOrEqual(1000);
  expect(elapsed).toBeLessThan(4500);
  expect(logs.proxy.history()).toContain("severed 1 request(s)");
  const res = await fetch(`${gb.baseUrl}/health`);
  expect(res.status).toBe(200);
  gb.done();
}, 30_000);
