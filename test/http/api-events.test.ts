/**
 * `/api/events` over real parts: the app on a socket, the real router and supervisors running the
 * simulated backend, the observations composed as in serve mode.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createBroadcast } from "../../src/observe/broadcast.ts";
import type { ObserveEvent } from "../../src/observe/events.ts";
import { observeSupervisor } from "../../src/observe/supervisor-events.ts";
import { createSupervisor } from "../../src/process/supervisor.ts";
import type { Supervisor } from "../../src/process/types.ts";
import { createRouter } from "../../src/router/router.ts";
import { createSseParser } from "../fixtures/sse-parse.ts";
import { simModel } from "../fixtures/sim-model.ts";
import { makeConfig, quietLogs, startApp } from "./helpers.ts";

const logs = quietLogs();
// One resident at a time (the default group swaps); a queued request makes a busy resident
// drain after 0.1 s (maxWait), so a swap shows every step.
const config = makeConfig([simModel(["--tokens", "30", "--tps", "100"], { id: "a", drainTimeout: 30 }), simModel(["--tokens", "3"], { id: "b" })], {
  routing: { router: "group", groups: [{ id: "(default)", members: ["a", "b"], swap: true, exclusive: true, persistent: false }], matrix: null, scheduler: "fifo", fifo: { priority: {}, maxWait: 0.1 } },
});
const events = createBroadcast<ObserveEvent>();
const supervisors = new Map<string, Supervisor>();
for (const m of Object.values(config.models)) {
  const sup = createSupervisor({ model: m, logs });
  observeSupervisor(sup, events.publish);
  supervisors.set(m.id, sup);
}
const router = createRouter({ config, supervisors, log: logs.log, observe: events.publish });
const app = startApp({ config, router, logs, models: supervisors, events });

afterAll(async () => {
  app.stop();
  await router.shutdown();
});

interface Envelope {
  type: string;
  data: unknown;
}

/** Follow /api/events; `until` sees every envelope and says when to stop. */
async function follow(until: (e: Envelope, all: Envelope[]) => boolean, started: () => void = () => {}): Promise<Envelope[]> {
  const abort = new AbortController();
  const res = await fetch(`${app.url}/api/events`, { signal: abort.signal });
  expect(res.headers.get("content-type")).toBe("text/event-stream");
  const parser = createSseParser();
  const decoder = new TextDecoder();
  const all: Envelope[] = [];
  const reader = res.body!.getReader();
  started();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error("the event stream ended");
      for (const msg of parser.push(decoder.decode(value, { stream: true }))) {
        expect(msg.event).toBe("message");
        const env = JSON.parse(msg.data) as { type: string; data: string };
        const e = { type: env.type, data: JSON.parse(env.data) as unknown };
        all.push(e);
        if (until(e, all)) return all;
      }
    }
  } finally {
    abort.abort();
  }
}

const chat = (model: string) =>
  fetch(`${app.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, stream: true, messages: [] }) });

describe("/api/events", () => {
  test("opens with llama-swap's logData and modelStatus", async () => {
    const first = await follow((_, all) => all.length === 3);
    expect(first.map((e) => e.type)).toEqual(["logData", "logData", "modelStatus"]);
    expect(first[0]!.data).toMatchObject({ source: "proxy" });
    expect(first[1]!.data).toMatchObject({ source: "upstream" });
    expect(first[2]!.data).toEqual([
      { id: "a", name: "", description: "", state: "stopped", unlisted: false, peerID: "" },
      { id: "b", name: "", description: "", state: "stopped", unlisted: false, peerID: "" },
    ]);
  });

  test("a swap away from a busy model: drain, stop, load, ready, then the grant, in that order", async () => {
    // a is loaded and streaming when b is asked for.
    const aRes = await chat("a");
    const aBody = aRes.text();
    let bId = -1;
    const seq: string[] = [];
    let lastA = "";
    const got = await follow(
      (e) => {
        const ev = e.data as ObserveEvent & { model?: string; target?: string };
        if (e.type === "modelStatus") {
          const a = (e.data as { id: string; state: string }[]).find((m) => m.id === "a")!.state;
          if (a !== lastA) seq.push(`a:${(lastA = a)}`);
        } else if (e.type === "drain") seq.push(`${ev.type}:${ev.model}`);
        else if (e.type === "swap") seq.push(`${ev.type}:${ev.target}`);
        else if (e.type === "load") seq.push(`${ev.type}:${ev.model}`);
        else if (e.type === "request" && ev.type === "request" && ev.model === "b") {
          if (ev.phase === "admitted") bId = ev.id;
          seq.push(`${ev.phase}:b`);
          return ev.phase === "finished";
        }
        return false;
      },
      () => void chat("b").then((r) => r.text()),
    );
    expect(await aBody).toContain("data: [DONE]");
    expect(bId).toBeGreaterThan(0);
    expect(seq).toEqual([
      "a:ready",
      "admitted:b",
      "drain-start:a",
      "drain-end:a",
      "swap-start:b",
      "a:stopping",
      "a:stopped",
      "load-start:b",
      "load-ready:b",
      "swap-end:b",
      "granted:b",
      "finished:b",
    ]);
    const swap = got.find((e) => e.type === "swap" && (e.data as { type: string }).type === "swap-start")!.data;
    expect(swap).toMatchObject({ target: "b", evict: ["a"], reason: "evict" });
    const drainEnd = got.find((e) => e.type === "drain" && (e.data as { type: string }).type === "drain-end")!.data;
    expect(drainEnd).toMatchObject({ model: "a", severed: 0 });
  }, 20_000);
});

describe("apiEventsResponse", () => {
  test("a slow reader: every source waiting for room resumes when it reads again (a log line written meanwhile stranded the events)", async () => {
    const { apiEventsResponse } = await import("../../src/http/api-events.ts");
    const { createLogStream } = await import("../../src/log/log-stream.ts");
    const proxyLog = createLogStream();
    const ctx = {
      logs: { proxy: proxyLog, upstream: createLogStream() },
      config: { models: {}, ui: {} },
      names: { active: () => null },
      activity: null,
      router: { status: () => [] },
      stateOf: () => "stopped",
      peers: { list: () => [] },
    } as unknown as Parameters<typeof apiEventsResponse>[0];
    const bus = createBroadcast<ObserveEvent>();
    const res = apiEventsResponse(ctx, bus, new Request("http://x/api/events"));
    // Nobody reads: more than the stream holds, so the events subscriber waits for room.
    for (let i = 0; i < 100; i++) bus.publish({ type: "ttl-unload", model: `m${i}`, at: i });
    // The broadcast delivers on a 0 ms timer: let that turn run (an ordering step, not a wait for time).
    const timerTurn = () => new Promise((r) => setTimeout(r, 0));
    await timerTurn();
    await timerTurn();
    // The log follower sends while the events subscriber waits.
    proxyLog.write("one log line\n");
    await timerTurn();
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    let published = false;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      if (!published && text.includes("m99")) {
        bus.publish({ type: "ttl-unload", model: "AFTER", at: 1 });
        published = true;
      }
      if (text.includes("AFTER")) break;
    }
    await reader.cancel();
    expect(text).toContain("one log line");
    expect(text).toContain("AFTER");
  });
});
