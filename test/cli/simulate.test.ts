import { afterAll, describe, expect, test } from "bun:test";
import { parseSimulateArgs } from "../../src/cli/simulate-args.ts";
import { CRASH_EXIT_CODE } from "../../src/cli/simulate.ts";
import { simulatedText, TOKENS } from "../../src/cli/simulate-responses.ts";
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

    const fast = await sim([]);
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
