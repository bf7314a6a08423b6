/**
 * Captures and in-flight requests over real parts: the app on a socket behind an API key, the real
 * router and supervisors running the simulated backend, activity with a capture ring and the
 * in-flight updates published as in serve mode. Read back as a client would: `/api/captures/{id}`,
 * `/api/inflight`, `POST /api/inflight/{id}/cancel` and the `inflight` messages of `/api/events`.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createActivityLog, OPERATOR_CANCELLED } from "../../src/observe/activity.ts";
import { createBroadcast } from "../../src/observe/broadcast.ts";
import { createCaptureRing, type CaptureJson } from "../../src/observe/captures.ts";
import type { ObserveEvent } from "../../src/observe/events.ts";
import type { InflightEntry, InflightUpdate } from "../../src/observe/inflight.ts";
import { observeSupervisor } from "../../src/observe/supervisor-events.ts";
import { createSupervisor } from "../../src/process/supervisor.ts";
import type { Supervisor } from "../../src/process/types.ts";
import { createRouter } from "../../src/router/router.ts";
import { createSseParser } from "../fixtures/sse-parse.ts";
import { simModel } from "../fixtures/sim-model.ts";
import { waitFor } from "../fixtures/wait.ts";
import { makeConfig, quietLogs, startApp } from "./helpers.ts";

const KEY = "sk-test-0123456789";
const logs = quietLogs();
const config = makeConfig(
  [
    simModel(["--tokens", "4"], { id: "fast" }),
    simModel(["--tokens", "400", "--tps", "40"], { id: "slow", drainTimeout: 30 }),
    simModel(["--tokens", "3"], { id: "other" }),
  ],
  {
    apiKeys: [KEY],
    ui: { activity: { session_id: ["X-Session-ID"] } },
    routing: {
      router: "group",
      groups: [
        { id: "side", members: ["fast"], swap: false, exclusive: false, persistent: true },
        { id: "one", members: ["slow", "other"], swap: true, exclusive: false, persistent: false },
      ],
      matrix: null,
      scheduler: "fifo",
      fifo: { priority: {}, maxWait: 30 },
    },
  },
);
const events = createBroadcast<ObserveEvent>();
const seen: ObserveEvent[] = [];
events.subscribe((d) => void (d.kind === "event" && seen.push(d.event)), { maxQueued: 100_000 });
const captures = createCaptureRing({ megabytes: 1, secrets: [KEY] });
const activity = createActivityLog({
  captures,
  sink: (record) => events.publish({ type: "activity", record }),
  onInflight: (update) => events.publish({ type: "inflight", update }),
  inflightTickMs: 50,
});
const supervisors = new Map<string, Supervisor>();
for (const m of Object.values(config.models)) {
  const sup = createSupervisor({ model: m, logs });
  observeSupervisor(sup, events.publish);
  supervisors.set(m.id, sup);
}
const router = createRouter({ config, supervisors, log: logs.log, observe: events.publish });
const app = startApp({ config, router, logs, models: supervisors, events, activity, captures });

afterAll(async () => {
  app.stop();
  await router.shutdown();
});

const auth = { authorization: `Bearer ${KEY}` };
const chat = (model: string, stream: boolean, extra: Record<string, string> = {}) =>
  fetch(`${app.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth, "x-session-id": "s-42", cookie: "session=abc", ...extra },
    body: JSON.stringify({ model, stream, messages: [{ role: "user", content: `my key is ${KEY}, keep it safe` }] }),
  });
const inflight = async (): Promise<InflightEntry[]> => {
  const res = await fetch(`${app.url}/api/inflight`, { headers: auth });
  expect(res.status).toBe(200);
  const body = (await res.json()) as InflightUpdate;
  expect(body.operation).toBe("snapshot");
  return (body as { requests: InflightEntry[] }).requests;
};
const cancel = (id: string) => fetch(`${app.url}/api/inflight/${id}/cancel`, { method: "POST", headers: auth });
const inflightUpdates = (): InflightUpdate[] => seen.flatMap((e) => (e.type === "inflight" ? [e.update] : []));

describe("captures", () => {
  test("request and response are captured by activity id; credentials never are", async () => {
    const text = await (await chat("fast", false)).text();
    await waitFor(() => activity.recent().some((r) => r.model === "fast"), 5000, "the record");
    const record = activity.recent().find((r) => r.model === "fast")!;
    expect(record.has_capture).toBe(true);

    const res = await fetch(`${app.url}/api/captures/${record.id}`, { headers: auth });
    expect(res.status).toBe(200);
    const c = (await res.json()) as CaptureJson;
    expect(c).toMatchObject({ id: record.id, req_path: "/v1/chat/completions" });
    expect(c.req_headers.authorization).toBe("[REDACTED]");
    expect(c.req_headers.cookie).toBe("[REDACTED]");
    expect(c.req_headers["x-session-id"]).toBe("s-42");
    expect(c.resp_headers["content-type"]).toContain("application/json");
    // Bodies are base64, as llama-swap's JSON carries them.
    const reqBody = Buffer.from(c.req_body, "base64").toString();
    expect(reqBody).toContain('"model":"fast"');
    expect(reqBody).not.toContain(KEY);
    expect(reqBody).toContain("*".repeat(KEY.length));
    expect(Buffer.from(c.resp_body, "base64").toString()).toBe(text);
    // Nothing of the key anywhere in the capture's JSON.
    expect(JSON.stringify(c)).not.toContain(KEY);

    const page = (await (await fetch(`${app.url}/api/metrics/activity?model=fast`, { headers: auth })).json()) as { data: { id: number; has_capture: boolean }[] };
    expect(page.data.find((r) => r.id === record.id)?.has_capture).toBe(true);
  });

  test("an unknown capture is 404, a malformed id 400, both in the envelope; the API key is required", async () => {
    const missing = await fetch(`${app.url}/api/captures/99999`, { headers: auth });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toBe("capture 99999 not found");
    const bad = await fetch(`${app.url}/api/captures/abc`, { headers: auth });
    expect(bad.status).toBe(400);
    expect((await fetch(`${app.url}/api/captures/1`)).status).toBe(401);
  });
});

describe("in-flight requests", () => {
  test("a serving stream and a queued request are listed; an operator cancels both", async () => {
    const slow = await chat("slow", true);
    expect(slow.status).toBe(200);
    const slowBody = slow.text();
    await waitFor(async () => (await inflight()).some((e) => e.model === "slow" && e.resp_bytes > 0), 5000, "slow serving with bytes");
    // "other" needs slow's group slot: it waits behind slow's drain (drainTimeout 30 s).
    const other = chat("other", false);
    await waitFor(async () => (await inflight()).some((e) => e.model === "other"), 5000, "other listed");

    const list = await inflight();
    const s = list.find((e) => e.model === "slow")!;
    const o = list.find((e) => e.model === "other")!;
    expect(list.indexOf(s)).toBeLessThan(list.indexOf(o));
    expect(s).toMatchObject({ req_path: "/v1/chat/completions", method: "POST", state: "serving", streamed: true, peer: "" });
    expect(s.req_headers.authorization).toBe("[REDACTED]");
    expect(s.req_headers["x-session-id"]).toBe("s-42");
    expect(s.resp_headers["content-type"]).toContain("text/event-stream");
    expect(s.remote_ip).not.toBe("");
    expect(o.state === "queued" || o.state === "loading").toBe(true);
    expect(o.resp_bytes).toBe(0);

    // The waiting one leaves its queue with a clear error; its record says who cancelled it.
    expect((await cancel(o.id)).status).toBe(200);
    const refused = await other;
    expect(refused.status).toBe(499);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(OPERATOR_CANCELLED);

    // Byte counts move in upserts while slow streams (every inflightTickMs, not per chunk).
    const slowBytes = () => new Set(inflightUpdates().flatMap((u) => (u.operation === "upsert" && u.request.id === s.id ? [u.request.resp_bytes] : []))).size;
    await waitFor(() => slowBytes() > 2, 5000, "three byte counts of slow");

    // The serving one is cut in-band, after the bytes it already had.
    expect(await (await cancel(s.id)).json()).toEqual({ msg: "ok" });
    const text = await slowBody;
    expect(text).toContain('"content"');
    expect(text).toContain(OPERATOR_CANCELLED);
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);

    await waitFor(() => activity.recent().filter((r) => r.model === "slow" || r.model === "other").length === 2, 5000, "both records");
    for (const r of activity.recent().filter((x) => x.model === "slow" || x.model === "other")) {
      expect(r).toMatchObject({ outcome: "cancelled", error_msg: OPERATOR_CANCELLED });
    }
    await waitFor(async () => (await inflight()).length === 0, 5000, "nothing in flight");
    // Each request was upserted at least once and removed once, in that order.
    const ups = inflightUpdates();
    for (const id of [s.id, o.id]) {
      const mine = ups.filter((u) => (u.operation === "upsert" && u.request.id === id) || (u.operation === "remove" && u.id === id));
      expect(mine.at(-1)?.operation).toBe("remove");
      expect(mine.filter((u) => u.operation === "remove")).toHaveLength(1);
    }
  }, 30_000);

  test("cancelling what is not in flight is 404 in the envelope", async () => {
    const res = await cancel("123456");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('inflight request "123456" not found');
    expect((await fetch(`${app.url}/api/inflight/1/cancel`, { headers: auth })).status).toBe(405);
  });

  test("/api/events opens with uiConfig, profileChanged and an inflight snapshot, then follows requests", async () => {
    const abort = new AbortController();
    const res = await fetch(`${app.url}/api/events`, { headers: auth, signal: abort.signal });
    const parser = createSseParser();
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const got: { type: string; data: unknown }[] = [];
    const until = async (cond: () => boolean): Promise<void> => {
      while (!cond()) {
        const { done, value } = await reader.read();
        if (done) throw new Error("the event stream ended");
        for (const m of parser.push(decoder.decode(value, { stream: true }))) {
          const env = JSON.parse(m.data) as { type: string; data: string };
          got.push({ type: env.type, data: JSON.parse(env.data) });
        }
      }
    };
    await until(() => got.some((e) => e.type === "inflight"));
    expect(got.find((e) => e.type === "uiConfig")?.data).toEqual({ activity: { session_id: ["X-Session-ID"] } });
    expect(got.find((e) => e.type === "profileChanged")?.data).toEqual({ active: null });
    expect(got.find((e) => e.type === "inflight")?.data).toEqual({ operation: "snapshot", requests: [] });

    await (await chat("fast", true)).text();
    const removed = (): boolean => got.some((e) => e.type === "inflight" && (e.data as InflightUpdate).operation === "remove");
    await until(removed);
    const ops = got.filter((e) => e.type === "inflight").map((e) => (e.data as InflightUpdate).operation);
    expect(ops[0]).toBe("snapshot");
    expect(ops.slice(1, -1).every((op) => op === "upsert")).toBe(true);
    expect(ops.at(-1)).toBe("remove");
    abort.abort();
    await reader.cancel().catch(() => {});
  });
});
