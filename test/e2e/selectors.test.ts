/**
 * Profiles and selectors end to end: dist/switchyard with simulated models, driven by the official
 * `openai` client. A warm selector over two models (once a 404), a spillover selector over two
 * models that run together, and a profile switched at runtime that pins a name to a selector.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { freePortRange } from "../fixtures/ports.ts";
import { ensureBinary, startBinary, type Running } from "./harness.ts";

const CONFIG = `
startPort: ${freePortRange(2)}
models:
  a:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model a --tokens 20 --tps 20 --load-ms 50
  b:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model b --tokens 20 --tps 20 --load-ms 50
groups:
  both:
    swap: false
    members: [a, b]
selectors:
  pick:
    strategy: warm
    targets: [a, b]
  pool:
    strategy: spillover
    targets: [a, b]
profiles:
  night:
    pins:
      assistant: pick
      a: ~
`;

describe("profiles and selectors (dist/switchyard)", () => {
  let sy: Running;
  let client: OpenAI;
  beforeAll(async () => {
    await ensureBinary();
    sy = await startBinary(CONFIG);
    client = new OpenAI({ baseURL: `${sy.url}/v1`, apiKey: "none", maxRetries: 0 });
  });
  afterAll(async () => {
    await sy?.stop("SIGTERM");
  });

  const running = async (): Promise<string[]> => {
    const r = (await (await fetch(`${sy.url}/running`)).json()) as { running: { model: string; state: string }[] };
    return r.running.filter((m) => m.state === "ready").map((m) => m.model).sort();
  };
  const served = async (model: string): Promise<string> => {
    const res = await client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] });
    return res.model;
  };

  test("a warm selector is a model: cold, it starts the first target; with only the second ready, the second serves", async () => {
    expect(await served("pick")).toBe("a");
    expect(await running()).toEqual(["a"]);
    await fetch(`${sy.url}/api/models/unload/a`, { method: "POST" });
    await fetch(`${sy.url}/api/models/load/b`, { method: "POST" });
    expect(await running()).toEqual(["b"]);
    expect(await served("pick")).toBe("b");
    expect(await running()).toEqual(["b"]);
  });

  test("a spillover selector streams to its first free target, then spills to the next", async () => {
    await fetch(`${sy.url}/api/models/unload`, { method: "POST" });
    const first = await client.chat.completions.create({ model: "pool", stream: true, messages: [{ role: "user", content: "hi" }] });
    const it = first[Symbol.asyncIterator]();
    const head = await it.next();
    expect(head.value?.model).toBe("a");
    // While the first stream is open, the second request goes to b.
    expect(await served("pool")).toBe("b");
    for (let r = await it.next(); !r.done; r = await it.next());
    expect(await running()).toEqual(["a", "b"]);
  });

  test("a profile switched at runtime: a pin to a selector serves, a disabled pin is 404, /v1/models lists the pin", async () => {
    const put = await fetch(`${sy.url}/api/profiles/active`, { method: "PUT", body: JSON.stringify({ name: "night" }) });
    expect(await put.json()).toEqual({ active: "night" });
    expect(["a", "b"]).toContain(await served("assistant"));
    const err = await client.chat.completions.create({ model: "a", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    const ids = ((await (await fetch(`${sy.url}/v1/models`)).json()) as { data: { id: string }[] }).data.map((m) => m.id);
    expect(ids).toEqual(["a", "assistant", "b", "pick", "pool"]);
    await fetch(`${sy.url}/api/profiles/active`, { method: "PUT", body: JSON.stringify({ name: null }) });
    expect(await served("a")).toBe("a");
  });
});
