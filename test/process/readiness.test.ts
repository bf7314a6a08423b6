import { afterEach, describe, expect, test } from "bun:test";
import { waitForReady } from "../../src/process/readiness.ts";

let servers: { stop(force?: boolean): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.stop(true);
});

/** A /health that answers 503 until `readyAfterMs`, recording probe times. */
function healthServer(readyAfterMs: number) {
  const t0 = performance.now();
  const probes: number[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch() {
      probes.push(performance.now() - t0);
      return new Response(null, { status: performance.now() - t0 >= readyAfterMs ? 200 : 503 });
    },
  });
  servers.push(server);
  return { url: `http://127.0.0.1:${server.port}/health`, probes };
}

describe("waitForReady", () => {
  test("waits 10 ms, then backs off by 1.5x to at most maxDelayMs between probes, and returns ready on the first 200", async () => {
    // The schedule is checked through the injected sleep (no timing assertions); the probes are real.
    let answers = 0;
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(null, { status: ++answers >= 6 ? 200 : 503 }) });
    servers.push(server);
    const waits: number[] = [];
    const ac = new AbortController();
    const result = await waitForReady({ url: `http://127.0.0.1:${server.port}/health`, fetch, signal: ac.signal, deadline: Date.now() + 60_000, now: Date.now, sleep: async (ms) => void waits.push(ms) });
    expect(result).toBe("ready");
    expect(answers).toBe(6);
    expect(waits).toEqual([10, 15, 20, 20, 20, 20]);
  });

  test("returns timeout at the deadline when the endpoint never answers 200", async () => {
    const { url } = healthServer(Number.POSITIVE_INFINITY);
    const t0 = Date.now();
    const result = await waitForReady({ url, fetch, signal: new AbortController().signal, deadline: t0 + 300, now: Date.now });
    expect(result).toBe("timeout");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(299);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  test("a server that accepts but never answers cannot stall the loop past the deadline", async () => {
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 0, fetch: () => new Promise<Response>(() => {}) });
    servers.push(server);
    const t0 = Date.now();
    const result = await waitForReady({
      url: `http://127.0.0.1:${server.port}/health`,
      fetch,
      signal: new AbortController().signal,
      deadline: t0 + 400,
      now: Date.now,
      probeTimeoutMs: 100,
    });
    expect(result).toBe("timeout");
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  test("an abort rejects with the signal's reason", async () => {
    const { url } = healthServer(Number.POSITIVE_INFINITY);
    const ac = new AbortController();
    const p = waitForReady({ url, fetch, signal: ac.signal, deadline: Date.now() + 10_000, now: Date.now });
    setTimeout(() => ac.abort(new Error("stop now")), 50);
    await expect(p).rejects.toThrow("stop now");
  });
});
