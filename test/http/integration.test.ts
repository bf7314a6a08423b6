/**
 * The HTTP layer over the real parts: supervisors running the simulated backend as child
 * processes, the real router, and the official openai and @anthropic-ai/sdk clients.
 */
import { afterAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { createSupervisor } from "../../src/process/supervisor.ts";
import type { Supervisor } from "../../src/process/types.ts";
import { createRouter } from "../../src/router/router.ts";
import { parseSse } from "../fixtures/sse-parse.ts";
import { simModel } from "../fixtures/sim-model.ts";
import { makeConfig, quietLogs, startApp } from "./helpers.ts";
import { waitFor } from "../fixtures/wait.ts";

const logs = quietLogs();
const config = makeConfig(
  [
    simModel(["--tokens", "6"], { id: "warm", aliases: ["warm-alias"] }),
    simModel(["--tokens", "4", "--load-ms", "600"], { id: "cold", sendLoadingState: true }),
    simModel(["--tokens", "40", "--tps", "200", "--crash-after", "5"], { id: "crashy" }),
    simModel(["--exit-at-start", "3", "--print-lines", "3"], { id: "broken", sendLoadingState: true }),
    simModel(["--tokens", "20", "--tps", "50"], { id: "slow" }),
  ],
  // Enough room for all of them at once: no group swaps in this file.
  {},
);
config.routing.groups = [{ id: "all", members: Object.keys(config.models), swap: false, exclusive: false, persistent: false }];
const supervisors = new Map<string, Supervisor>();
for (const m of Object.values(config.models)) supervisors.set(m.id, createSupervisor({ model: m, logs }));
const router = createRouter({ config, supervisors, log: logs.log });
const app = startApp({ config, router, logs, models: supervisors, loadingTickMs: 100 });
const openai = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: "none", maxRetries: 0 });

afterAll(async () => {
  app.stop();
  await router.shutdown();
});

describe("with the real router and the simulated backend", () => {
  test("openai client: non-streaming chat, streaming chat, embeddings", async () => {
    const done = await openai.chat.completions.create({ model: "warm-alias", messages: [{ role: "user", content: "hi" }] });
    expect(done.object).toBe("chat.completion");
    expect(done.choices[0].message.content?.length).toBeGreaterThan(0);
    expect(done.usage?.completion_tokens).toBe(6);

    const stream = await openai.chat.completions.create({ model: "warm", stream: true, messages: [{ role: "user", content: "hi" }] });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text.length).toBeGreaterThan(0);

    const emb = await openai.embeddings.create({ model: "warm", input: "hello" });
    expect(emb.data[0].embedding.length).toBeGreaterThan(0);
  });

  test("the access log has llama-swap's line for each model request once its body has been sent: the bytes the client got, the whole duration", async () => {
    const line = (size: number) => new RegExp(`Request 127\\.0\\.0\\.1 "POST /v1/chat/completions HTTP/1\\.1" 200 ${size} "access-test-(\\w+)" ([\\d.]+)(ms|s)\\n`, "g");
    const post = (stream: boolean, ua: string) =>
      fetch(`${app.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": ua },
        body: JSON.stringify({ model: "slow", stream, messages: [{ role: "user", content: "hi" }] }),
      });
    const whole = await post(false, "access-test-whole");
    const wholeBytes = (await whole.bytes()).byteLength;
    await waitFor(() => logs.proxy.history().includes('"access-test-whole"'), 5000, "the whole answer's line");
    expect([...logs.proxy.history().matchAll(line(wholeBytes))].map((m) => m[1])).toEqual(["whole"]);

    const streamed = await post(true, "access-test-stream");
    expect(streamed.headers.get("content-type")).toStartWith("text/event-stream");
    // 20 tokens at 50 a second: the body is still coming, so no line yet (the old log wrote it now).
    expect(logs.proxy.history()).not.toContain('"access-test-stream"');
    const started = performance.now();
    const streamBytes = (await streamed.bytes()).byteLength;
    const tookMs = performance.now() - started;
    await waitFor(() => logs.proxy.history().includes('"access-test-stream"'), 5000, "the stream's line");
    const m = [...logs.proxy.history().matchAll(line(streamBytes))].find((x) => x[1] === "stream");
    expect(m).toBeDefined();
    // Its duration covers the body: at least the time the client spent reading it.
    const ms = m![3] === "s" ? Number(m![2]) * 1000 : Number(m![2]);
    expect(ms).toBeGreaterThanOrEqual(tookMs);
  });

  test("openai client: a streamed chat through a cold model shows loading progress, then the answer", async () => {
    expect(supervisors.get("cold")!.state).toBe("stopped");
    const stream = await openai.chat.completions.create({ model: "cold", stream: true, messages: [{ role: "user", content: "hi" }] });
    let reasoning = "";
    let content = "";
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined;
      reasoning += delta?.reasoning_content ?? "";
      content += delta?.content ?? "";
    }
    expect(reasoning).toContain("loading model cold");
    expect(reasoning).toContain("unknown (first load)");
    expect(reasoning).toMatch(/Done! cold ready after/);
    expect(content.length).toBeGreaterThan(0);
    expect(supervisors.get("cold")!.loadHistoryMs.length).toBe(1);
    // The next cold load has an estimate from the first.
    await router.unload(["cold"]);
    const raw = await fetch(`${app.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "cold", stream: true, messages: [] }),
    });
    const said = parseSse(await raw.text())
      .filter((e) => e.data !== "[DONE]")
      .map((e) => (JSON.parse(e.data) as { choices: { delta: { reasoning_content?: string } }[] }).choices[0]?.delta?.reasoning_content ?? "")
      .join("");
    expect(said).toMatch(/Expected load time: about \d+s \(median of 1 past load\)/);
  });

  test("anthropic client: a streamed /v1/messages call completes", async () => {
    const client = new Anthropic({ baseURL: app.url, apiKey: "none", maxRetries: 0 });
    const stream = client.messages.stream({ model: "warm", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
    let text = "";
    stream.on("text", (t) => (text += t));
    const final = await stream.finalMessage();
    expect(final.role).toBe("assistant");
    expect(text.length).toBeGreaterThan(0);
  });

  test("a backend that crashes mid-stream gives an in-band error; the openai client throws there", async () => {
    const stream = await openai.chat.completions.create({ model: "crashy", stream: true, messages: [{ role: "user", content: "hi" }] });
    let content = "";
    let thrown: unknown = null;
    try {
      for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? "";
    } catch (err) {
      thrown = err;
    }
    expect(content.length).toBeGreaterThan(0);
    expect(thrown).toBeInstanceOf(OpenAI.APIError);
    expect((thrown as Error).message).toContain("mid-stream");
    await waitFor(() => router.status().find((s) => s.model === "crashy")?.inFlight === 0, 5000, "crashy to be released");
  });

  test("anthropic client: a backend that crashes mid-stream gives Anthropic's in-band error event; the SDK throws there (it skips events without a name)", async () => {
    const client = new Anthropic({ baseURL: app.url, apiKey: "none", maxRetries: 0 });
    const stream = await client.messages.create({ model: "crashy", max_tokens: 40, stream: true, messages: [{ role: "user", content: "hi" }] });
    const types: string[] = [];
    let thrown: unknown = null;
    try {
      for await (const ev of stream) types.push(ev.type);
    } catch (err) {
      thrown = err;
    }
    expect(types).toContain("content_block_delta");
    expect(thrown).toBeInstanceOf(Anthropic.APIError);
    expect((thrown as Error).message).toContain("upstream connection lost mid-stream");
    // The raw stream: an `event: error` with Anthropic's shape, and no OpenAI [DONE].
    const raw = await fetch(`${app.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "crashy", max_tokens: 40, stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    const events = parseSse(await raw.text());
    const last = events[events.length - 1]!;
    expect(last.event).toBe("error");
    expect(JSON.parse(last.data)).toEqual({ type: "error", error: { type: "api_error", message: expect.stringContaining("upstream connection lost mid-stream") } });
    expect(events.some((e) => e.data === "[DONE]")).toBe(false);
    await waitFor(() => router.status().find((s) => s.model === "crashy")?.inFlight === 0, 5000, "crashy to be released");
  });

  test("a failed start tells the SDKs not to retry: with its default two retries the openai client asks once", async () => {
    const before = (logs.proxy.history().match(/"sdk-no-retry"/g) ?? []).length;
    const client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: "none", defaultHeaders: { "user-agent": "sdk-no-retry" } });
    const err = await client.chat.completions.create({ model: "broken", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get("x-should-retry")).toBe("false");
    await waitFor(() => (logs.proxy.history().match(/"sdk-no-retry"/g) ?? []).length > before, 5000, "the access line");
    expect((logs.proxy.history().match(/"sdk-no-retry"/g) ?? []).length - before).toBe(1);
  });

  test("a model that fails to start: 503 with its last output lines, in-band on a loading stream", async () => {
    const res = await fetch(`${app.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "broken", messages: [] }),
    });
    expect(res.status).toBe(503);
    const err = ((await res.json()) as { error: { message: string } }).error;
    expect(err.message).toContain("broken");
    expect(err.message).toContain("last output");

    const streamed = await fetch(`${app.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "broken", stream: true, messages: [] }),
    });
    expect(streamed.status).toBe(200);
    const events = parseSse(await streamed.text());
    const tail = events.slice(-2);
    expect(JSON.parse(tail[0].data).error.message).toContain("could not start");
    expect(tail[1].data).toBe("[DONE]");
  });

  test("/running and /v1/models show real states; /upstream loads and passes through", async () => {
    const up = await fetch(`${app.url}/upstream/warm/health`);
    expect(up.status).toBe(200);
    const running = (await (await fetch(`${app.url}/running`)).json()) as { running: { model: string; state: string }[] };
    expect(running.running.find((r) => r.model === "warm")?.state).toBe("ready");
    const list = (await (await fetch(`${app.url}/v1/models`)).json()) as { data: { id: string; status: { value: string } }[] };
    expect(list.data.find((d) => d.id === "warm")?.status.value).toBe("loaded");
    expect(list.data.find((d) => d.id === "broken")?.status.value).toBe("unloaded");
    await fetch(`${app.url}/api/models/unload/warm`, { method: "POST" });
    expect(supervisors.get("warm")!.state).toBe("stopped");
  });
});
