/**
 * End-to-end WebSockets: dist/switchyard in front of `switchyard simulate` backends. A socket on
 * /upstream/<model>/ws loads the model through the router, holds it busy while open (in flight 1
 * in /running) and frees it when either end closes; with compat.ignoreWebsockets it neither loads
 * nor holds the model; /comfyui/ serves comfyui_auto (simulate --comfy) with its socket.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freePortRange } from "../fixtures/ports.ts";
import { waitFor } from "../fixtures/wait.ts";
import { openSocket, UPGRADE_HEADERS } from "../fixtures/ws-client.ts";
import { startBinary, type Running } from "./harness.ts";

interface RunningModel {
  model: string;
  state: string;
  inFlight: number;
}

let sy: Running;
beforeAll(async () => {
  sy = await startBinary(`
startPort: ${freePortRange(3)}
models:
  echo:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model echo
  quiet:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model quiet
    compat:
      ignoreWebsockets: true
  comfyui_auto:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --comfy
    checkEndpoint: /api/queue
routing:
  router:
    settings:
      groups:
        all: { members: [echo, quiet, comfyui_auto], swap: false }
`);
});
afterAll(async () => {
  await sy?.stop("SIGTERM");
});

const wsUrl = (path: string): string => `${sy.url.replace("http:", "ws:")}${path}`;

async function running(model: string): Promise<RunningModel | undefined> {
  const body = (await (await fetch(`${sy.url}/running`)).json()) as { running: RunningModel[] };
  return body.running.find((m) => m.model === model);
}
const inFlight = async (model: string): Promise<number> => (await running(model))?.inFlight ?? 0;

describe("/upstream/<model>/ws", () => {
  test("loads the model, echoes both ways, holds it busy, and the client's close frees it", async () => {
    expect(await running("echo")).toBeUndefined();
    const s = await openSocket(wsUrl("/upstream/echo/ws"));
    expect((await running("echo"))?.state).toBe("ready");
    expect(await inFlight("echo")).toBe(1);
    s.send("hello through switchyard");
    expect(await s.next()).toBe("hello through switchyard");
    const bytes = new Uint8Array(70_000).map((_, i) => i % 251);
    s.send(bytes);
    expect(await s.next()).toEqual(bytes);
    s.ws.close(1000, "bye from the client");
    expect(await s.closed).toEqual({ code: 1000, reason: "bye from the client" });
    await waitFor(async () => (await inFlight("echo")) === 0, 5000, "echo's in-flight count back to 0");
  });

  test("the server's close reaches the client with its code and reason, and frees the model", async () => {
    const s = await openSocket(wsUrl("/upstream/echo/ws"));
    expect(await inFlight("echo")).toBe(1);
    s.send(new Uint8Array([1, 2, 3]));
    expect(await s.next()).toEqual(new Uint8Array([1, 2, 3]));
    s.send("close");
    expect(await s.closed).toEqual({ code: 4000, reason: "closing as asked" });
    await waitFor(async () => (await inFlight("echo")) === 0, 5000, "echo's in-flight count back to 0");
  });

  test("a client that drops its connection frees the model too", async () => {
    const s = await openSocket(wsUrl("/upstream/echo/ws"));
    expect(await inFlight("echo")).toBe(1);
    // Bun's client has terminate(): the TCP connection goes without a close frame.
    (s.ws as WebSocket & { terminate(): void }).terminate();
    await waitFor(async () => (await inFlight("echo")) === 0, 5000, "echo's in-flight count back to 0");
  });
});

describe("compat.ignoreWebsockets", () => {
  test("a socket cannot load the model (409); once it is loaded, the socket does not count in flight", async () => {
    const refused = await fetch(`${sy.url}/upstream/quiet/ws`, { headers: UPGRADE_HEADERS });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe("model quiet is not loaded; ignored websocket requests cannot start it");
    expect(await running("quiet")).toBeUndefined();

    await (await fetch(`${sy.url}/upstream/quiet/v1/models`)).text();
    expect((await running("quiet"))?.state).toBe("ready");
    const s = await openSocket(wsUrl("/upstream/quiet/ws"));
    s.send("still here");
    expect(await s.next()).toBe("still here");
    expect(await inFlight("quiet")).toBe(0);
    s.send("close");
    expect((await s.closed).code).toBe(4000);
  });
});

describe("/comfyui/", () => {
  test("the root loads comfyui_auto; its API and its socket go through; after an unload only the root loads it again", async () => {
    expect((await fetch(`${sy.url}/comfyui/api/queue`)).status).toBe(409);
    const page = await fetch(`${sy.url}/comfyui/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("ComfyUI (simulated)");

    const s = await openSocket(wsUrl("/comfyui/ws?clientId=tab1"));
    expect(JSON.parse((await s.next()) as string)).toMatchObject({ type: "status", data: { sid: "tab1" } });
    const queued = (await (await fetch(`${sy.url}/comfyui/api/prompt`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt: {}, client_id: "tab1" }) })).json()) as { prompt_id?: string };
    expect(typeof queued.prompt_id).toBe("string");
    // The socket is ignored: it holds nothing.
    expect(await inFlight("comfyui_auto")).toBe(0);

    // Unloading drops the socket (its server went away) and a stale tab cannot load the model back.
    expect((await fetch(`${sy.url}/api/models/unload/comfyui_auto`, { method: "POST" })).status).toBe(200);
    const closed = await s.closed;
    expect(closed.code).not.toBe(1000);
    expect((await fetch(`${sy.url}/comfyui/api/queue`)).status).toBe(409);
    expect((await fetch(`${sy.url}/comfyui/ws`, { headers: UPGRADE_HEADERS })).status).toBe(409);
    expect(await running("comfyui_auto")).toBeUndefined();
  });
});
