/**
 * The router over fake supervisors: the loop, Effects over supervisors, grants and their
 * done()/severed, swaps run outside the loop, TTL and crash signals, unload and shutdown.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createRouter, type SwitchyardRouter } from "../../src/router/router.ts";
import { StartError } from "../../src/process/types.ts";
import { RouteError, type Grant, type WaitUpdate } from "../../src/router/types.ts";
import type { Config } from "../../src/config/types.ts";
import { FakeSupervisor, memoryLog, modelConfig, testConfig } from "./fake-supervisor.ts";
import { waitFor } from "../fixtures/wait.ts";

const routers: SwitchyardRouter[] = [];
afterEach(async () => {
  for (const r of routers.splice(0)) await r.shutdown();
});

function setup(config: Config) {
  const journal: string[] = [];
  const sups = new Map<string, FakeSupervisor>();
  for (const id of Object.keys(config.models)) {
    sups.set(id, new FakeSupervisor(id, `http://127.0.0.1:9/${id}/`, journal));
  }
  const log = memoryLog();
  const router = createRouter({ config, supervisors: sups, log });
  routers.push(router);
  const sup = (m: string) => sups.get(m) as FakeSupervisor;
  return { router, sups, sup, log, journal };
}

const signal = () => new AbortController().signal;

/** One model's row of router.status(). */
const statusOf = (router: SwitchyardRouter, model: string) => router.status().find((s) => s.model === model);

/** Put a harmless event in the loop's channel, so that what is posted next waits for a loop turn. */
const holdLoop = (router: SwitchyardRouter): void => router.recordMemory({ model: "a", perDevice: {}, method: "rss", at: 0 });

async function rejection(p: Promise<unknown>): Promise<RouteError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RouteError) return err;
    throw err;
  }
  throw new Error("expected a rejection");
}

describe("grants", () => {
  test("on-demand start, then a grant with the supervisor's base URL; done() frees the model", async () => {
    const { router, sup } = setup(testConfig([modelConfig("a")]));
    const p = router.acquire("a", { signal: signal() });
    await waitFor(() => sup("a").starts === 1, 5000, "start of a");
    expect(router.status()).toEqual([{ model: "a", state: "starting", inFlight: 0, queued: 1, drainingSince: null }]);
    sup("a").ready();
    const g = await p;
    expect(g.model).toBe("a");
    expect(g.baseUrl).toBe("http://127.0.0.1:9/a");
    expect(g.severed.aborted).toBe(false);
    expect(sup("a").busy).toBe(true);
    expect(router.status()[0]).toMatchObject({ state: "ready", inFlight: 1, queued: 0 });
    g.done();
    g.done(); // extra calls are ignored
    await router.settled();
    expect(sup("a").busy).toBe(false);
    expect(router.status()[0]).toMatchObject({ inFlight: 0, queued: 0 });
  });

  test("unknown model: model_not_found", async () => {
    const { router } = setup(testConfig([modelConfig("a")]));
    expect((await rejection(router.acquire("nope", { signal: signal() }))).kind).toBe("model_not_found");
  });

  test("an already aborted signal is refused at once", async () => {
    const { router, sup } = setup(testConfig([modelConfig("a")]));
    const ac = new AbortController();
    ac.abort();
    expect((await rejection(router.acquire("a", { signal: ac.signal }))).kind).toBe("cancelled");
    await router.settled();
    expect(sup("a").starts).toBe(0);
  });

  test("start failures carry the reason and the last output lines", async () => {
    const { router, sup } = setup(testConfig([modelConfig("a")]));
    const p1 = router.acquire("a", { signal: signal() });
    await waitFor(() => sup("a").starts === 1, 5000, "start");
    sup("a").fail(new StartError("timeout", "[a] health check timed out after 30s", null, null, ["loading…", "still loading"]));
    const e1 = await rejection(p1);
    expect(e1.kind).toBe("health_timeout");
    expect(e1.message).toContain("health check timed out");
    expect(e1.message).toContain("still loading");
    const p2 = router.acquire("a", { signal: signal() });
    await waitFor(() => sup("a").starts === 2, 5000, "second start");
    sup("a").fail(new StartError("exited", "[a] exited with code 1 before it became ready", 1, null, ["bad flag --x"]));
    const e2 = await rejection(p2);
    expect(e2.kind).toBe("start_failed");
    expect(e2.message).toContain("exited with code 1");
    expect(e2.message).toContain("bad flag --x");
  });

  test("waiters get queue positions, then loading", async () => {
    const { router, sup } = setup(testConfig([modelConfig("a"), modelConfig("b")]));
    sup("a").autoReady = true;
    const ga = await router.acquire("a", { signal: signal() });
    const updates: WaitUpdate[] = [];
    const pb = router.acquire("b", { signal: signal(), onUpdate: (u) => updates.push(u) });
    await router.settled();
    expect(updates).toEqual([{ position: 1, model: "b", loading: false }]);
    ga.done();
    await waitFor(() => sup("b").starts === 1, 5000, "start of b");
    expect(updates.at(-1)).toEqual({ position: 0, model: "b", loading: true, loadingSince: expect.any(Number) });
    sup("b").ready();
    (await pb).done();
  });
});

describe("swaps", () => {
  test("a request for B waits for A's request, then A stops before B starts", async () => {
    const { router, sup, journal } = setup(testConfig([modelConfig("a", { unloadTimeout: 7 }), modelConfig("b")]));
    sup("a").autoReady = true;
    const ga = await router.acquire("a", { signal: signal() });
    let bGranted = false;
    const pb = router.acquire("b", { signal: signal() }).then((g) => {
      bGranted = true;
      return g;
    });
    await router.settled();
    expect(sup("a").stops).toEqual([]);
    ga.done();
    await waitFor(() => sup("b").starts === 1, 5000, "start of b");
    expect(journal).toEqual(["start a", "stop a", "start b"]);
    expect(sup("a").stops).toEqual([7000]);
    expect(bGranted).toBe(false);
    sup("b").ready();
    const gb = await pb;
    expect(gb.model).toBe("b");
    gb.done();
  });

  test("a swap whose every waiter left while evictees stopped never starts its target", async () => {
    const { router, sup, log } = setup(testConfig([modelConfig("a"), modelConfig("b")]));
    sup("a").autoReady = true;
    (await router.acquire("a", { signal: signal() })).done();
    sup("a").holdStops = true;
    const ac = new AbortController();
    const pb = router.acquire("b", { signal: ac.signal });
    await waitFor(() => sup("a").stops.length === 1, 5000, "stop of a");
    ac.abort();
    expect((await rejection(pb)).kind).toBe("cancelled");
    await router.settled();
    sup("a").holdStops = false;
    sup("a").releaseStop();
    await waitFor(() => log.lines.some((l) => l.includes("not loading it")), 5000, "the swap gives up");
    await router.settled();
    expect(sup("b").starts).toBe(0);
    expect(statusOf(router, "b")).toMatchObject({ state: "stopped", queued: 0 });
    // The model is still loadable afterwards.
    sup("b").autoReady = true;
    (await router.acquire("b", { signal: signal() })).done();
    expect(sup("b").starts).toBe(1);
  });

  test("a swap committed after its client left (cancel still queued) stops and starts nothing", async () => {
    const { router, sup, log } = setup(testConfig([modelConfig("a"), modelConfig("b")]));
    sup("a").autoReady = true;
    const ga = await router.acquire("a", { signal: signal() });
    const ac = new AbortController();
    const pb = router.acquire("b", { signal: ac.signal });
    await router.settled();
    holdLoop(router); // so that both wait for the loop (on an idle loop serve-done is handled at once)
    ga.done(); // serve-done goes first: the loop commits b's swap before it hears of the cancel
    ac.abort();
    expect((await rejection(pb)).kind).toBe("cancelled");
    await waitFor(() => log.lines.some((l) => l.includes("not loading it")), 5000, "the swap gives up");
    await router.settled();
    expect(sup("a").stops).toEqual([]);
    expect(sup("b").starts).toBe(0);
  });

  test("a client that leaves before the loop decides is cancelled, whether it would be granted or queued", async () => {
    // The abort listener is added only once a request waits: these aborts land before it exists.
    const { router, sup } = setup(testConfig([modelConfig("a"), modelConfig("b")]));
    sup("a").autoReady = true;
    const ga = await router.acquire("a", { signal: signal() });
    await router.settled();
    holdLoop(router); // an event ahead: the requests wait in the channel (an idle loop decides at once)
    const granted = new AbortController();
    const pa = router.acquire("a", { signal: granted.signal });
    granted.abort();
    const queued = new AbortController();
    const pb = router.acquire("b", { signal: queued.signal });
    queued.abort();
    expect((await rejection(pa)).kind).toBe("cancelled");
    expect((await rejection(pb)).kind).toBe("cancelled");
    await router.settled();
    expect(statusOf(router, "a")).toMatchObject({ inFlight: 1, queued: 0 });
    expect(statusOf(router, "b")).toMatchObject({ inFlight: 0, queued: 0 });
    ga.done();
    await router.settled();
    expect(sup("b").starts).toBe(0);
    expect(statusOf(router, "a")).toMatchObject({ inFlight: 0, queued: 0 });
  });

  test("on an idle loop a request is decided inside acquire(): granted at once, or queued and cancellable", async () => {
    const { router, sup } = setup(testConfig([modelConfig("a"), modelConfig("b")]));
    sup("a").autoReady = true;
    const ga = await router.acquire("a", { signal: signal() });
    await router.settled();
    // Granted before acquire() returns: the status shows it in flight with no loop turn between.
    const later = new AbortController();
    const pa = router.acquire("a", { signal: later.signal });
    expect(statusOf(router, "a")).toMatchObject({ inFlight: 2, queued: 0 });
    later.abort(); // after the grant: the caller's to notice (the proxy cuts and calls done())
    const ga2 = await pa;
    // Queued (b must wait for a): the lazily added listener turns the abort into a cancel.
    const queued = new AbortController();
    const pb = router.acquire("b", { signal: queued.signal });
    expect(statusOf(router, "b")).toMatchObject({ queued: 1 });
    queued.abort();
    expect((await rejection(pb)).kind).toBe("cancelled");
    // done() on an idle loop frees the slot at once.
    ga2.done();
    expect(statusOf(router, "a")).toMatchObject({ inFlight: 1 });
    ga.done();
    await router.settled();
    expect(sup("b").starts).toBe(0);
    expect(statusOf(router, "a")).toMatchObject({ inFlight: 0, queued: 0 });
  });

  test("a queued client that leaves is rejected with cancelled and costs no load", async () => {
    const { router, sup } = setup(testConfig([modelConfig("a"), modelConfig("b")]));
    sup("a").autoReady = true;
    const ga = await router.acquire("a", { signal: signal() });
    const ac = new AbortController();
    const pb = router.acquire("b", { signal: ac.signal });
    await router.settled();
    ac.abort();
    expect((await rejection(pb)).kind).toBe("cancelled");
    ga.done();
    await router.settled();
    expect(sup("b").starts).toBe(0);
    expect(sup("a").stops).toEqual([]);
  });
});

describe("bounded drain", () => {
  test("a stalled request is severed at the drain deadline and the next model is served", async () => {
    const config = testConfig([modelConfig("a", { drainTimeout: 0.2 }), modelConfig("b")], { fifo: { maxWait: 0.05 } });
    const { router, sup, log } = setup(config);
    sup("a").autoReady = true;
    sup("b").autoReady = true;
    const ga: Grant = await router.acquire("a", { signal: signal() });
    const severed = new Promise<unknown>((resolve) => ga.severed.addEventListener("abort", () => resolve(ga.severed.reason)));
    const t0 = Date.now();
    const gb = await router.acquire("b", { signal: signal() });
    const elapsed = Date.now() - t0;
    const reason = await severed;
    expect(reason).toBeInstanceOf(RouteError);
    expect((reason as RouteError).kind).toBe("severed");
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect(elapsed).toBeLessThan(5000);
    expect(sup("a").busy).toBe(false); // the severed grant no longer counts for a's TTL clock
    expect(log.lines.some((l) => l.includes("severed 1 request"))).toBe(true);
    ga.done(); // late done() of a severed grant is harmless
    gb.done();
    await router.settled();
    expect(router.status().map((s) => s.inFlight)).toEqual([0, 0]);
  });

  test("admin unload waits for in-flight requests, then stops; new requests reload", async () => {
    const { router, sup } = setup(testConfig([modelConfig("a", { drainTimeout: 30 })]));
    sup("a").autoReady = true;
    const g = await router.acquire("a", { signal: signal() });
    let unloaded = false;
    const u = router.unload(["a"]).then(() => {
      unloaded = true;
    });
    await router.settled();
    expect(router.status()[0]?.drainingSince).not.toBeNull();
    const again = router.acquire("a", { signal: signal() });
    await router.settled();
    expect(sup("a").stops).toEqual([]);
    expect(unloaded).toBe(false);
    g.done();
    await u;
    expect(sup("a").stops).toHaveLength(1);
    (await again).done();
    expect(sup("a").starts).toBe(2);
  });

  test("unload() of nothing running resolves at once; unload() with no names covers every model", async () => {
    const { router, sup } = setup(testConfig([modelConfig("a"), modelConfig("b", { }), ]));
    await router.unload(["a"]);
    expect(sup("a").stops).toEqual([]);
    sup("a").autoReady = true;
    (await router.acquire("a", { signal: signal() })).done();
    await router.unload();
    expect(sup("a").stops).toHaveLength(1);
    expect(sup("b").stops).toEqual([]);
  });
});

describe("supervisor signals", () => {
  test("TTL idle unloads an idle model, never one with work", async () => {
    const { router, sup } = setup(testConfig([modelConfig("a")]));
    sup("a").autoReady = true;
    const g = await router.acquire("a", { signal: signal() });
    sup("a").emit({ type: "idle", model: "a", at: Date.now() });
    await router.settled();
    expect(sup("a").stops).toEqual([]);
    g.done();
    await router.settled();
    sup("a").emit({ type: "idle", model: "a", at: Date.now() });
    await waitFor(() => sup("a").state === "stopped", 5000, "a stopped by ttl");
    expect(sup("a").stops).toHaveLength(1);
  });

  test("an idle signal racing a grant never unloads under it (llama-swap #946)", async () => {
    const { router, sup } = setup(testConfig([modelConfig("a")]));
    sup("a").autoReady = true;
    (await router.acquire("a", { signal: signal() })).done();
    const p = router.acquire("a", { signal: signal() });
    sup("a").emit({ type: "idle", model: "a", at: Date.now() });
    const g = await p;
    await router.settled();
    expect(sup("a").stops).toEqual([]);
    g.done();
  });

  test("a crash re-examines the queue", async () => {
    const { router, sup } = setup(testConfig([modelConfig("a"), modelConfig("b")]));
    sup("a").autoReady = true;
    sup("b").autoReady = true;
    const ga = await router.acquire("a", { signal: signal() });
    const pb = router.acquire("b", { signal: signal() });
    await router.settled();
    expect(sup("b").starts).toBe(0);
    sup("a").state = "stopped";
    sup("a").emit({ type: "crash", model: "a", exitCode: 1, signal: null, lastLines: [], at: Date.now() });
    const gb = await pb;
    expect(sup("a").stops).toEqual([]); // nothing to evict: a is gone
    ga.done();
    gb.done();
  });
});

describe("shutdown", () => {
  test("fails waiters, drains, shuts every supervisor down, refuses new work, is idempotent", async () => {
    const { router, sup } = setup(testConfig([modelConfig("a", { drainTimeout: 30 }), modelConfig("b")]));
    sup("a").autoReady = true;
    const ga = await router.acquire("a", { signal: signal() });
    const pb = router.acquire("b", { signal: signal() });
    const s1 = router.shutdown();
    const s2 = router.shutdown();
    expect(s2).toBe(s1);
    expect((await rejection(pb)).kind).toBe("shutting_down");
    await router.settled();
    expect(sup("a").shutdowns).toBe(0); // still draining a's request
    expect(sup("b").shutdowns).toBe(1);
    ga.done();
    await s1;
    expect(sup("a").shutdowns).toBe(1);
    expect(sup("a").state).toBe("shutdown");
    expect(sup("a").listenerCount).toBe(0);
    expect((await rejection(router.acquire("a", { signal: signal() }))).kind).toBe("shutting_down");
  });
});

describe("serial and matrix composition", () => {
  test("serial: A B A is served in order, reloading A", async () => {
    const { router, sup, journal } = setup(
      testConfig([modelConfig("a"), modelConfig("b")], {
        scheduler: "serial",
        groups: [{ id: "g", members: ["a", "b"], swap: false, exclusive: false, persistent: false }],
      }),
    );
    sup("a").autoReady = true;
    sup("b").autoReady = true;
    const order: string[] = [];
    const take = (m: string) =>
      router.acquire(m, { signal: signal() }).then((g) => {
        order.push(m);
        g.done();
      });
    await Promise.all([take("a"), take("b"), take("a")]);
    expect(order).toEqual(["a", "b", "a"]);
    expect(journal).toEqual(["start a", "stop a", "start b", "stop b", "start a"]);
  });

  test("matrix: models of one set run together, others evict them", async () => {
    const { router, sup } = setup(
      testConfig([modelConfig("a"), modelConfig("b"), modelConfig("c")], {
        router: "matrix",
        matrix: { vars: {}, evictCosts: {}, sets: [{ name: "pair", dsl: "a & b" }], compiled: [{ set: "pair", dsl: "a & b", models: ["a", "b"], expr: { kind: "and", children: [{ kind: "model", id: "a" }, { kind: "model", id: "b" }] } }], costById: {} },
      }),
    );
    for (const m of ["a", "b", "c"]) sup(m).autoReady = true;
    (await router.acquire("a", { signal: signal() })).done();
    (await router.acquire("b", { signal: signal() })).done();
    expect(sup("a").stops).toEqual([]);
    (await router.acquire("c", { signal: signal() })).done();
    expect(sup("a").stops).toHaveLength(1);
    expect(sup("b").stops).toHaveLength(1);
  });
});
