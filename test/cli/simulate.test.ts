import { afterAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { parseSimulateArgs } from "../../src/cli/simulate-args.ts";
import { CRASH_EXIT_CODE, MAX_ANSWER_TOKENS } from "../../src/cli/simulate.ts";
import { embeddingOf, simulatedText, TOKENS } from "../../src/cli/simulate-responses.ts";
import { simulateArgv, startSimulator, type RunningSimulator } from "../fixtures/sim-model.ts";
import { waitFor } from "../fixtures/wait.ts";

describe("parseSimulateArgs", () => {
  test("defaults, both flag spellings, booleans", () => {
    const o = parseSimulateArgs(["--port=8080", "--tps", "12.5", "--never-healthy", "--model", "m"]);
    expect(o).toMatchObject({ port: 8080, tps: 12.5, neverHealthy: true, model: "m", host: "127.0.0.1", tokens: 16, crashAfter: null });
  });

  test("memory flags: --memory-mb and --gpu-mb in MiB, 0 by default, whole numbers only", () => {
    expect(parseSimulateArgs([])).toMatchObject({ memoryMb: 0, gpuMb: 0 });
    expect(parseSimulateArgs(["--memory-mb", "64", "--gpu-mb=2048"])).toMatchObject({ memoryMb: 64, gpuMb: 2048 });
    expect(() => parseSimulateArgs(["--memory-mb", "1.5"])).toThrow("whole number");
    expect(() => parseSimulateArgs(["--gpu-mb", "-1"])).toThrow("expected a number");
  });

  test("rejects unknown flags, missing values and bad numbers", () => {
    expect(() => parseSimulateArgs(["--bogus"])).toThrow("unknown flag");
    expect(() => parseSimulateArgs(["--port"])).toThrow("needs a value");
    expect(() => parseSimulateArgs(["--tokens", "-1"])).toThrow("expected a number");
    expect(() => parseSimulateArgs(["--tokens", "1.5"])).toThrow("whole number");
    expect(() => parseSimulateArgs(["--port", "70000"])).toThrow("0-65535");
    expect(() => parseSimulateArgs(["--never-healthy=1"])).toThrow("takes no value");
  });
});

const sims: RunningSimulator[] = [];
afterAll(() => {
  for (const s of sims) s.proc.kill("SIGKILL");
});

/** Spawn the simulator on port 0 once it says where it listens. */
async function sim(args: string[]): Promise<RunningSimulator> {
  const s = await startSimulator(args);
  sims.push(s);
  return s;
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

/** The JSON payloads of an SSE body (`[DONE]` kept as a string). */
function sseData(text: string): unknown[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("data: "))
    .map((l) => l.slice(6))
    .map((d) => (d === "[DONE]" ? d : JSON.parse(d)));
}

/** A response body's text as far as it came: a connection cut mid-body ends it instead of throwing. */
async function readUntilEnd(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value, { stream: true });
  } catch {
    // The server died mid-answer: what arrived before is the point.
  }
  return text;
}

describe("simulate serves", () => {
  test("health (503 while loading), models, chat, completions, embeddings, messages and the echo", async () => {
    const s = await sim(["--load-ms", "300", "--tokens", "5", "--model", "sim-a"]);
    expect((await fetch(`${s.url}/health`)).status).toBe(503);
    await waitFor(async () => (await fetch(`${s.url}/health`)).status === 200, 5000, "healthy");
    expect(s.output()).toMatch(/ready at \d+/);

    const models = (await (await fetch(`${s.url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data[0]!.id).toBe("sim-a");

    // streamed chat: role chunk, 5 tokens, finish, usage, [DONE]
    const res = await post(`${s.url}/v1/chat/completions`, { stream: true, messages: [{ role: "user", content: "hello there" }] });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const events = sseData(await res.text()) as ({ choices: { delta: { content?: string }; finish_reason: string | null }[]; usage?: { completion_tokens: number } } | string)[];
    expect(events[events.length - 1]).toBe("[DONE]");
    const chunks = events.filter((e) => typeof e !== "string") as Exclude<(typeof events)[number], string>[];
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(simulatedText(5));
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe("stop");
    expect(chunks[chunks.length - 1]!.usage?.completion_tokens).toBe(5);

    // whole chat with max_tokens
    const whole = (await (await post(`${s.url}/v1/chat/completions`, { max_tokens: 3, messages: [] })).json()) as {
      choices: { message: { content: string }; finish_reason: string }[];
      usage: { completion_tokens: number };
    };
    expect(whole.choices[0]!.message.content).toBe(simulatedText(3));
    expect(whole.choices[0]!.finish_reason).toBe("length");
    expect(whole.usage.completion_tokens).toBe(3);

    // completions, streamed and whole
    const cs = sseData(await (await post(`${s.url}/v1/completions`, { prompt: "x", stream: true, max_tokens: 4 })).text());
    expect((cs.filter((e) => typeof e !== "string") as { choices: { text?: string }[] }[]).map((e) => e.choices[0]?.text ?? "").join("")).toBe(simulatedText(4));
    const cw = (await (await post(`${s.url}/v1/completions`, { prompt: "x" })).json()) as { choices: { text: string }[] };
    expect(cw.choices[0]!.text).toBe(simulatedText(5));

    // embeddings
    const emb = (await (await post(`${s.url}/v1/embeddings`, { input: ["a", "b"] })).json()) as { data: { embedding: number[] }[] };
    expect(emb.data.length).toBe(2);
    expect(emb.data[0]!.embedding.length).toBe(8);

    // Anthropic messages, streamed and whole
    const ms = await (await post(`${s.url}/v1/messages`, { max_tokens: 2, stream: true, messages: [] })).text();
    const types = ms.split("\n").filter((l) => l.startsWith("event: ")).map((l) => l.slice(7));
    expect(types).toEqual(["message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]);
    const mw = (await (await post(`${s.url}/v1/messages`, { max_tokens: 2, messages: [] })).json()) as { content: { text: string }[]; stop_reason: string };
    expect(mw.content[0]!.text).toBe(simulatedText(2));
    expect(mw.stop_reason).toBe("max_tokens");

    // echo: unknown route, and a known route with x-simulate-echo
    const echo = (await (await fetch(`${s.url}/upstream/x?a=1&b=2`, { method: "PUT", body: "raw €", headers: { "x-test": "yes" } })).json()) as Record<string, unknown>;
    expect(echo).toMatchObject({ method: "PUT", path: "/upstream/x", query: "a=1&b=2", body: "raw €", bodyBytes: 7 });
    expect((echo.headers as Record<string, string>)["x-test"]).toBe("yes");
    const echo2 = (await (await post(`${s.url}/v1/chat/completions`, { model: "m" }, { "x-simulate-echo": "1" })).json()) as Record<string, unknown>;
    expect(echo2).toMatchObject({ method: "POST", path: "/v1/chat/completions", body: '{"model":"m"}' });

    expect((await post(`${s.url}/v1/chat/completions`, "not an object")).status).toBe(400);
  });

  test("tokens carry multi-byte UTF-8, and --split-utf8 splits them across writes", async () => {
    expect(TOKENS.some((t) => new TextEncoder().encode(t).length > t.length)).toBe(true);
    const s = await sim(["--split-utf8"]);
    const res = await post(`${s.url}/v1/chat/completions`, { stream: true, max_tokens: 12, messages: [] });
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    const strict = new TextDecoder("utf-8", { fatal: true });
    const brokenAlone = chunks.filter((c) => {
      try {
        strict.decode(c);
        return false;
      } catch {
        return true;
      }
    });
    expect(brokenAlone.length).toBeGreaterThan(0);
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of chunks) {
      all.set(c, off);
      off += c.length;
    }
    const events = sseData(strict.decode(all)).filter((e) => typeof e !== "string") as { choices: { delta: { content?: string } }[] }[];
    expect(events.map((e) => e.choices[0]?.delta.content ?? "").join("")).toBe(simulatedText(12));
  });

  test("--tps paces tokens; --tps 0 streams thousands of tokens per second", async () => {
    const paced = await sim(["--tps", "50"]);
    const t0 = performance.now();
    await (await post(`${paced.url}/v1/chat/completions`, { stream: true, max_tokens: 10, messages: [] })).text();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(180); // 10 tokens at 50/s = 200 ms

    const fast = await sim(["--tokens", "5000"]);
    const t1 = performance.now();
    const text = await (await post(`${fast.url}/v1/chat/completions`, { stream: true, max_tokens: 5000, messages: [] })).text();
    const ms = performance.now() - t1;
    expect(sseData(text).length).toBe(5000 + 4);
    expect(ms).toBeLessThan(5000); // a correctness bound (≥ 1000 tokens/s), not a benchmark
  });

  test("--crash-after exits mid-stream with its exit code", async () => {
    const s = await sim(["--crash-after", "3"]);
    const text = await (await post(`${s.url}/v1/chat/completions`, { stream: true, messages: [] })).text().catch(() => "");
    expect(text).not.toContain("[DONE]");
    expect(await s.proc.exited).toBe(CRASH_EXIT_CODE);
    expect(s.output()).toContain("crashing after 3 tokens");
  });

  test("--crash-after 0 crashes before the first token of a stream", async () => {
    const s = await sim(["--crash-after", "0"]);
    const text = await readUntilEnd(await post(`${s.url}/v1/chat/completions`, { stream: true, messages: [] }));
    expect(await s.proc.exited).toBe(CRASH_EXIT_CODE);
    expect(text).not.toMatch(/"content":"[^"]/);
    expect(s.output()).toContain("crashing after 0 tokens");
  });

  test("--stall-after keeps the connection open without sending more", async () => {
    const s = await sim(["--stall-after", "2"]);
    const res = await post(`${s.url}/v1/chat/completions`, { stream: true, messages: [] });
    const reader = res.body!.getReader();
    let text = "";
    const decoder = new TextDecoder();
    const reading = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    })().catch(() => {});
    await waitFor(() => (text.match(/"content":"[^"]/g) ?? []).length >= 2, 5000, "two tokens");
    await new Promise((r) => setTimeout(r, 300));
    expect((text.match(/"content":"[^"]/g) ?? []).length).toBe(2);
    expect(text).not.toContain("[DONE]");
    await reader.cancel();
    await reading;
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
  });

  test("--exit-at-start exits before binding; --ignore-sigterm survives SIGTERM", async () => {
    const failing = Bun.spawn(simulateArgv(["--exit-at-start", "4"]), { stdout: "pipe", stderr: "pipe" });
    expect(await failing.exited).toBe(4);
    expect(await new Response(failing.stderr).text()).toContain("simulated start failure");

    const stubborn = await sim(["--ignore-sigterm"]);
    stubborn.proc.kill("SIGTERM");
    await waitFor(() => stubborn.output().includes("SIGTERM received and ignored"), 5000, "ignored line");
    expect((await fetch(`${stubborn.url}/health`)).status).toBe(200);
  });

  test("--never-healthy never answers 200; --print-lines writes lines at start", async () => {
    const s = await sim(["--never-healthy", "--print-lines", "3"]);
    expect((await fetch(`${s.url}/health`)).status).toBe(503);
    expect(s.output()).toContain("log line 3 of 3");
  });
});

describe("simulate answers in the shapes the SDKs and llama-server's clients read", () => {
  const openai = (base: string) => new OpenAI({ baseURL: base, apiKey: "none", maxRetries: 0 });

  test("OpenAI's Responses API: whole, streamed (numbered events with `event:` lines), through the SDK's stream helper, and cut by max_output_tokens", async () => {
    const s = await sim(["--tokens", "5", "--model", "sim-r"]);
    const client = openai(`${s.url}/v1`);
    const whole = await client.responses.create({ model: "m", input: "hi" });
    expect(whole).toMatchObject({ object: "response", status: "completed", model: "sim-r" });
    expect(whole.output_text).toBe(simulatedText(5));
    expect(whole.usage).toMatchObject({ output_tokens: 5, total_tokens: whole.usage!.input_tokens + 5 });

    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of await client.responses.create({ model: "m", input: "hi", stream: true })) events.push(e);
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
    expect(types.slice(4, 9)).toEqual(Array(5).fill("response.output_text.delta"));
    expect(types.slice(9)).toEqual(["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.map((e) => (e.type === "response.output_text.delta" ? e.delta : "")).join("")).toBe(simulatedText(5));
    const last = events[events.length - 1]!;
    expect(last.type === "response.completed" && last.response.usage?.output_tokens).toBe(5);
    // Each event is named on its own `event:` line, as OpenAI sends them.
    const raw = await (await post(`${s.url}/v1/responses`, { input: "hi", stream: true })).text();
    expect(raw.split("\n").filter((l) => l.startsWith("event: ")).map((l) => l.slice(7))).toEqual(types);

    const helper = await client.responses.stream({ model: "m", input: "hi" }).finalResponse();
    expect(helper.output_text).toBe(simulatedText(5));

    const cut = await client.responses.create({ model: "m", input: "hi", max_output_tokens: 2 });
    expect(cut).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" } });
    expect(cut.output_text).toBe(simulatedText(2));
  });

  test("Anthropic: count_tokens, and an answer shorter than max_tokens ends at end_turn (whole and streamed); a smaller max_tokens cuts it", async () => {
    const s = await sim(["--tokens", "5"]);
    const client = new Anthropic({ baseURL: s.url, apiKey: "none", maxRetries: 0 });
    const count = await client.messages.countTokens({ model: "m", messages: [{ role: "user", content: "how many tokens is this?" }] });
    expect(count.input_tokens).toBeGreaterThan(0);

    const whole = await client.messages.create({ model: "m", max_tokens: 1024, messages: [{ role: "user", content: "hi" }] });
    expect(whole.stop_reason).toBe("end_turn");
    expect(whole.usage.output_tokens).toBe(5);
    expect(whole.content[0]!.type === "text" && whole.content[0]!.text).toBe(simulatedText(5));
    const streamed = await client.messages.stream({ model: "m", max_tokens: 1024, messages: [{ role: "user", content: "hi" }] }).finalMessage();
    expect(streamed.stop_reason).toBe("end_turn");
    expect(streamed.usage.output_tokens).toBe(5);

    const cut = await client.messages.create({ model: "m", max_tokens: 2, messages: [{ role: "user", content: "hi" }] });
    expect(cut.stop_reason).toBe("max_tokens");
    expect(cut.usage.output_tokens).toBe(2);
  });

  test("answers are at most MAX_ANSWER_TOKENS long, whatever --tokens says; a huge max_tokens is no length at all", async () => {
    const long = await sim(["--tokens", String(MAX_ANSWER_TOKENS * 2)]);
    const whole = (await (await post(`${long.url}/v1/chat/completions`, { messages: [] })).json()) as { usage: { completion_tokens: number }; choices: { finish_reason: string }[] };
    expect(whole.usage.completion_tokens).toBe(MAX_ANSWER_TOKENS);
    const short = await sim(["--tokens", "3"]);
    const huge = (await (await post(`${short.url}/v1/chat/completions`, { max_tokens: 1e12, messages: [] })).json()) as typeof whole;
    expect(huge.usage.completion_tokens).toBe(3);
    expect(huge.choices[0]!.finish_reason).toBe("stop");
  });

  test("llama-server's native /completion and /infill: whole, and streamed as content events ending with stop: true (no [DONE])", async () => {
    const s = await sim(["--tokens", "5", "--model", "sim-n"]);
    type Native = { content: string; stop: boolean; stop_type?: string; tokens_predicted: number; tokens_evaluated: number; timings?: { predicted_n: number } };
    const cut = (await (await post(`${s.url}/completion`, { prompt: "Once upon a time", n_predict: 3 })).json()) as Native;
    expect(cut).toMatchObject({ content: simulatedText(3), stop: true, stop_type: "limit", tokens_predicted: 3, timings: { predicted_n: 3 } });
    expect(cut.tokens_evaluated).toBeGreaterThan(0);
    const natural = (await (await post(`${s.url}/completion`, { prompt: "Once", n_predict: -1 })).json()) as Native;
    expect(natural).toMatchObject({ content: simulatedText(5), stop: true, stop_type: "eos", tokens_predicted: 5 });

    for (const path of ["/completion", "/infill"]) {
      const text = await (await post(`${s.url}${path}`, { prompt: "x", input_prefix: "def f(", input_suffix: "):", stream: true })).text();
      expect(text).not.toContain("[DONE]");
      const events = sseData(text) as Native[];
      expect(events.slice(0, -1).every((e) => e.stop === false)).toBe(true);
      expect(events.map((e) => e.content).join("")).toBe(simulatedText(5));
      expect(events[events.length - 1]).toMatchObject({ stop: true, content: "", stop_type: "eos", tokens_predicted: 5, timings: { predicted_n: 5 } });
    }
    const infill = (await (await post(`${s.url}/infill`, { input_prefix: "def f(", input_suffix: "):" })).json()) as Native;
    expect(infill).toMatchObject({ content: simulatedText(5), stop: true });
  });

  test("the routes without /v1 (where switchyard's /v/... forwards) answer as the /v1 ones do; a path no API defines is still echoed", async () => {
    const s = await sim(["--tokens", "4"]);
    const client = openai(s.url);
    const chat = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] });
    expect(chat.choices[0]!.message.content).toBe(simulatedText(4));
    const completion = await client.completions.create({ model: "m", prompt: "hi" });
    expect(completion.choices[0]!.text).toBe(simulatedText(4));
    const embeddings = await client.embeddings.create({ model: "m", input: ["a", "b"] });
    expect(embeddings.data.length).toBe(2);
    const response = await client.responses.create({ model: "m", input: "hi" });
    expect(response.output_text).toBe(simulatedText(4));
    const message = (await (await post(`${s.url}/messages`, { max_tokens: 100, messages: [{ role: "user", content: "hi" }] })).json()) as { type: string; stop_reason: string };
    expect(message).toMatchObject({ type: "message", stop_reason: "end_turn" });
    const count = (await (await post(`${s.url}/messages/count_tokens`, { messages: [{ role: "user", content: "hi" }] })).json()) as { input_tokens: number };
    expect(count.input_tokens).toBeGreaterThan(0);
    const echoed = (await (await post(`${s.url}/v2/unknown`, { a: 1 })).json()) as { path: string; bodyBytes: number };
    expect(echoed).toMatchObject({ path: "/v2/unknown", bodyBytes: 7 });
  });

  test("embeddings: one token-id array is one input; encoding_format base64 sends little-endian float32 (the SDK's default decodes it)", async () => {
    const s = await sim([]);
    type Embeddings = { data: { index: number; embedding: number[] | string }[] };
    const ids = (await (await post(`${s.url}/v1/embeddings`, { input: [15339, 1917] })).json()) as Embeddings;
    expect(ids.data.length).toBe(1);
    const idLists = (await (await post(`${s.url}/v1/embeddings`, { input: [[15339, 1917], [3]] })).json()) as Embeddings;
    expect(idLists.data.map((d) => d.index)).toEqual([0, 1]);

    const client = openai(`${s.url}/v1`);
    const floats = Array.from(new Float32Array(embeddingOf("hello")));
    // Without encoding_format the SDK asks for base64 and decodes it into numbers.
    const decoded = await client.embeddings.create({ model: "m", input: "hello" });
    expect(decoded.data[0]!.embedding).toEqual(floats);
    const explicit = await client.embeddings.create({ model: "m", input: "hello", encoding_format: "base64" });
    const b64 = explicit.data[0]!.embedding as unknown;
    expect(typeof b64).toBe("string");
    const bytes = Buffer.from(b64 as string, "base64");
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4))).toEqual(floats);
    const plain = await client.embeddings.create({ model: "m", input: "hello", encoding_format: "float" });
    expect(plain.data[0]!.embedding).toEqual(embeddingOf("hello"));
  });
});

describe("simulate --close-after-response", () => {
  /** Send raw HTTP/1.1 requests on one socket; resolve with everything read until the server closes. */
  async function rawExchange(url: string, request: string): Promise<string> {
    const net = await import("node:net");
    const { port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), "127.0.0.1", () => socket.write(request));
      let got = "";
      socket.on("data", (d) => (got += d.toString("utf8")));
      socket.on("error", reject);
      socket.on("close", () => resolve(got));
    });
  }

  test("advertises keep-alive, answers once, then closes the connection", async () => {
    const s = await sim(["--close-after-response", "--tokens", "3"]);
    const body = JSON.stringify({ stream: true, messages: [{ role: "user", content: "hi" }] });
    const req = `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    // The socket's close event is what resolves this: a server that kept the connection would hang the test.
    const got = await rawExchange(s.url, req);
    expect(got).toStartWith("HTTP/1.1 200");
    expect(got.toLowerCase()).toContain("connection: keep-alive");
    expect(got).toContain("data: [DONE]");
    expect(got).toEndWith("0\r\n\r\n");
    expect(got.match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });

  test("a non-200 answer carries its own reason phrase", async () => {
    const s = await sim(["--close-after-response"]);
    const body = "not an object";
    const got = await rawExchange(s.url, `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    expect(got).toStartWith("HTTP/1.1 400 Bad Request\r\n");
  });

  test("serves fetch clients, whole and chunked request bodies, and the echo", async () => {
    const s = await sim(["--close-after-response", "--tokens", "4", "--model", "m"]);
    const whole = (await (await post(`${s.url}/v1/chat/completions`, { messages: [] })).json()) as { usage: { completion_tokens: number } };
    expect(whole.usage.completion_tokens).toBe(4);
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"a":'));
        c.enqueue(new TextEncoder().encode("1}"));
        c.close();
      },
    });
    const echoed = (await (
      // keepalive: false, because the pooled connection of the first request is being closed: the race this mode exists for.
      await fetch(`${s.url}/anything?q=1`, { method: "POST", body: chunked, duplex: "half", keepalive: false, headers: { "x-simulate-echo": "1" } } as RequestInit)
    ).json()) as { body: string; query: string };
    expect(echoed).toMatchObject({ body: '{"a":1}', query: "q=1" });
  });
});
