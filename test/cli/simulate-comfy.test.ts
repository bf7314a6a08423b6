/** The simulator's WebSocket echo on /ws and its ComfyUI shape (--comfy), against real simulator processes. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSimulator } from "../fixtures/sim-model.ts";
import { openSocket } from "../fixtures/ws-client.ts";

const procs: Bun.Subprocess[] = [];

/** Start a simulator; its `host:port`. */
async function start(args: string[]): Promise<string> {
  const sim = await startSimulator(args);
  procs.push(sim.proc);
  return `127.0.0.1:${sim.port}`;
}

let plain = "";
let comfy = "";
beforeAll(async () => {
  [plain, comfy] = await Promise.all([start([]), start(["--comfy"])]);
});
afterAll(() => {
  for (const p of procs) p.kill("SIGKILL");
});

describe("/ws echo", () => {
  test("text comes back as text, binary as binary; the text 'close' closes with 4000", async () => {
    const s = await openSocket(`ws://${plain}/ws`);
    s.send("hello");
    expect(await s.next()).toBe("hello");
    s.send(new Uint8Array([0, 1, 255]));
    expect(await s.next()).toEqual(new Uint8Array([0, 1, 255]));
    s.send("close");
    expect(await s.closed).toEqual({ code: 4000, reason: "closing as asked" });
  });

  test("without --comfy, / is still the echo", async () => {
    const echo = (await (await fetch(`http://${plain}/?a=1`)).json()) as { path: string; query: string };
    expect(echo).toMatchObject({ path: "/", query: "a=1" });
  });
});

describe("--comfy", () => {
  test("the page, /api/queue and /api/prompt", async () => {
    const page = await fetch(`http://${comfy}/`);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("ComfyUI (simulated)");
    expect(await (await fetch(`http://${comfy}/api/queue`)).json()).toEqual({ queue_running: [], queue_pending: [] });
    const queued = (await (await fetch(`http://${comfy}/api/prompt`, { method: "POST", body: JSON.stringify({ prompt: {}, client_id: "c1" }) })).json()) as Record<string, unknown>;
    expect(queued).toMatchObject({ number: 0, node_errors: {} });
    expect(typeof queued.prompt_id).toBe("string");
    expect((await fetch(`http://${comfy}/api/prompt`, { method: "POST", body: "{}" })).status).toBe(400);
  });

  test("/ws?clientId= says its status first, with the session id, then echoes", async () => {
    const s = await openSocket(`ws://${comfy}/ws?clientId=abc123`);
    expect(JSON.parse((await s.next()) as string)).toEqual({ type: "status", data: { status: { exec_info: { queue_remaining: 0 } }, sid: "abc123" } });
    s.send("ping");
    expect(await s.next()).toBe("ping");
    s.ws.close(1000, "done");
    expect((await s.closed).code).toBe(1000);
  });
});
