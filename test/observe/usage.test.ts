import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { prng } from "../../scripts/bench/trace.ts";
import { createUsageScanner, emptyUsage, type TokenUsage } from "../../src/observe/usage.ts";

const enc = new TextEncoder();

const NULLS: TokenUsage = emptyUsage();

function usage(p: Partial<TokenUsage>): TokenUsage {
  return { ...NULLS, ...p };
}

/** One SSE event per payload (objects are JSON-encoded), optionally named. */
function sse(events: (unknown | [string, unknown])[], eol = "\n"): string {
  let out = "";
  for (const e of events) {
    if (Array.isArray(e) && e.length === 2 && typeof e[0] === "string") {
      out += `event: ${e[0]}${eol}data: ${JSON.stringify(e[1])}${eol}${eol}`;
    } else out += `data: ${typeof e === "string" ? e : JSON.stringify(e)}${eol}${eol}`;
  }
  return out;
}

const WORDS = ["Héllo", " —", " 世界", " 🌍", " naïve", " café", " the", " usage", ' "usage"', " timings"];

/** An OpenAI-style chat.completion.chunk carrying one piece of content. */
function chunk(content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "chatcmpl-7Xa",
    object: "chat.completion.chunk",
    created: 1724000000,
    model: "qwen3-8b",
    system_fingerprint: "b6200-1a2b3c",
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
    ...extra,
  };
}

interface Case {
  name: string;
  sse: boolean;
  body: string;
  want: TokenUsage;
}

const llamaTimings = {
  cache_n: 100,
  prompt_n: 20,
  prompt_ms: 35.2,
  prompt_per_second: 568.18,
  predicted_n: 50,
  predicted_ms: 812.4,
  predicted_per_second: 61.55,
  draft_n: 40,
  draft_n_accepted: 31,
};

const llamaWant = usage({
  promptTokens: 20,
  completionTokens: 50,
  cachedTokens: 100,
  draftTokens: 40,
  draftAccepted: 31,
  promptPerSecond: 568.18,
  generationPerSecond: 61.55,
  promptMs: 35.2,
  generationMs: 812.4,
});

const CASES: Case[] = [
  {
    name: "OpenAI whole body",
    sse: false,
    body: JSON.stringify({
      id: "chatcmpl-9x",
      object: "chat.completion",
      created: 1724000000,
      model: "gpt-4o-mini",
      choices: [{ index: 0, message: { role: "assistant", content: WORDS.join("") }, finish_reason: "stop" }],
      usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19, prompt_tokens_details: { cached_tokens: 4 } },
    }),
    want: usage({ promptTokens: 12, completionTokens: 7, cachedTokens: 4 }),
  },
  {
    name: "OpenAI streamed with include_usage (usage:null on every chunk)",
    sse: true,
    body: sse([
      chunk("", { usage: null }),
      ...WORDS.map((w) => chunk(w, { usage: null })),
      { ...chunk("", { usage: null }), choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
      {
        ...chunk(""),
        choices: [],
        usage: { prompt_tokens: 15, completion_tokens: 33, total_tokens: 48, prompt_tokens_details: { cached_tokens: 0 } },
      },
      "[DONE]",
    ]),
    want: usage({ promptTokens: 15, completionTokens: 33, cachedTokens: 0 }),
  },
  {
    name: "OpenAI Responses API streamed",
    sse: true,
    body: sse([
      ["response.created", { type: "response.created", sequence_number: 0, response: { id: "resp_1", status: "in_progress", usage: null } }],
      ...WORDS.map((w, i) => [
        "response.output_text.delta",
        { type: "response.output_text.delta", sequence_number: i + 1, item_id: "msg_1", output_index: 0, content_index: 0, delta: w },
      ] as [string, unknown]),
      [
        "response.completed",
        {
          type: "response.completed",
          sequence_number: 99,
          response: {
            id: "resp_1",
            status: "completed",
            output: [{ type: "message", content: [{ type: "output_text", text: WORDS.join("") }] }],
            usage: {
              input_tokens: 30,
              input_tokens_details: { cached_tokens: 10 },
              output_tokens: 5,
              output_tokens_details: { reasoning_tokens: 0 },
              total_tokens: 35,
            },
          },
        },
      ],
    ]),
    want: usage({ promptTokens: 30, completionTokens: 5, cachedTokens: 10 }),
  },
  {
    name: "llama-server whole body (usage + timings: timings win)",
    sse: false,
    body: JSON.stringify({
      choices: [{ finish_reason: "stop", index: 0, message: { role: "assistant", content: WORDS.join("") } }],
      created: 1724000000,
      model: "qwen3-8b",
      system_fingerprint: "b6200-1a2b3c",
      object: "chat.completion",
      usage: { completion_tokens: 50, prompt_tokens: 120, total_tokens: 170 },
      id: "chatcmpl-abc",
      timings: llamaTimings,
    }),
    want: llamaWant,
  },
  {
    name: "llama-server streamed, timings + draft counts on the last chunk",
    sse: true,
    body: sse([
      chunk("", { choices: [{ index: 0, delta: { role: "assistant", content: null }, finish_reason: null }] }),
      ...WORDS.map((w) => chunk(w)),
      {
        ...chunk(""),
        choices: [{ finish_reason: "stop", index: 0, delta: {} }],
        usage: { completion_tokens: 50, prompt_tokens: 120, total_tokens: 170 },
        timings: llamaTimings,
      },
      "[DONE]",
    ]),
    want: llamaWant,
  },
  {
    name: "llama-server streamed with timings_per_token (the last timings win)",
    sse: true,
    body: sse([
      ...WORDS.map((w, i) =>
        chunk(w, { timings: { ...llamaTimings, predicted_n: i + 1, predicted_ms: (i + 1) * 16, predicted_per_second: 62.5 } }),
      ),
      { ...chunk(""), choices: [{ finish_reason: "stop", index: 0, delta: {} }], timings: llamaTimings },
      "[DONE]",
    ]),
    want: llamaWant,
  },
  {
    name: "llama-server native /completion stream (CRLF)",
    sse: true,
    body: sse(
      [
        ...WORDS.map((w) => ({ index: 0, content: w, tokens: [], stop: false, id_slot: 0, tokens_predicted: 1, tokens_evaluated: 20 })),
        {
          index: 0,
          content: "",
          tokens: [],
          id_slot: 0,
          stop: true,
          model: "qwen3-8b",
          tokens_predicted: 50,
          tokens_evaluated: 120,
          generation_settings: { n_predict: -1, temperature: 0.8 },
          prompt: "",
          has_new_line: false,
          truncated: false,
          stop_type: "eos",
          stopping_word: "",
          tokens_cached: 169,
          timings: { ...llamaTimings, draft_n: undefined, draft_n_accepted: undefined },
        },
      ],
      "\r\n",
    ),
    want: { ...llamaWant, draftTokens: null, draftAccepted: null },
  },
  {
    name: "llama-server /infill array body (timings of the last element)",
    sse: false,
    body: JSON.stringify([{ index: 0, content: "x", timings: { ...llamaTimings, draft_n: undefined } }]),
    want: { ...llamaWant, draftTokens: null, draftAccepted: null },
  },
  {
    name: "Anthropic streamed",
    sse: true,
    body: sse([
      [
        "message_start",
        {
          type: "message_start",
          message: {
            id: "msg_01",
            type: "message",
            role: "assistant",
            model: "claude-sonnet-4-5",
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: 25, cache_creation_input_tokens: 0, cache_read_input_tokens: 100, output_tokens: 1 },
          },
        },
      ],
      ["ping", { type: "ping" }],
      ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }],
      ...WORDS.map((w) => ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: w } }] as [string, unknown]),
      ["content_block_stop", { type: "content_block_stop", index: 0 }],
      ["message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 15 } }],
      ["message_stop", { type: "message_stop" }],
    ]),
    want: usage({ promptTokens: 25, completionTokens: 15, cachedTokens: 100 }),
  },
  {
    name: "Anthropic whole body",
    sse: false,
    body: JSON.stringify({
      id: "msg_01",
      type: "message",
      role: "assistant",
      content: [{ type: "text", text: WORDS.join("") }],
      usage: { input_tokens: 25, cache_read_input_tokens: 7, output_tokens: 15 },
    }),
    want: usage({ promptTokens: 25, completionTokens: 15, cachedTokens: 7 }),
  },
  {
    name: "vLLM streamed with metrics",
    sse: true,
    body: sse([
      ...WORDS.map((w) => chunk(w)),
      {
        id: "chatcmpl-b7a832cea986aea4",
        object: "chat.completion.chunk",
        choices: [],
        usage: { prompt_tokens: 14, total_tokens: 166, completion_tokens: 152 },
        metrics: { time_to_first_token_ms: 70, mean_itl_ms: 10, tokens_per_second: 24.1 },
      },
      "[DONE]",
    ]),
    want: usage({ promptTokens: 14, completionTokens: 152, promptPerSecond: 200, generationPerSecond: 100, promptMs: 70 }),
  },
  {
    name: "vLLM streamed, metrics-only last chunk with speculative decoding",
    sse: true,
    body: sse([
      ...WORDS.map((w) => chunk(w)),
      { ...chunk(""), choices: [], usage: { prompt_tokens: 11742, completion_tokens: 35 } },
      {
        object: "chat.completion.chunk",
        choices: [],
        metrics: {
          mean_itl_ms: 20,
          speculative_decoding: { mean_acceptance_length: 1.7, draft_acceptance_rate: 0.7, num_spec_steps: 20, num_accepted_draft_tokens: 14, num_draft_tokens: 20, num_spec_tokens: 1 },
        },
      },
      "[DONE]",
    ]),
    want: usage({ promptTokens: 11742, completionTokens: 35, draftTokens: 20, draftAccepted: 14, generationPerSecond: 50 }),
  },
  {
    name: "vLLM whole body with speculative decoding",
    sse: false,
    body: JSON.stringify({
      id: "chatcmpl-abc123",
      object: "chat.completion",
      choices: [{ index: 0, message: { role: "assistant", content: WORDS.join("") } }],
      usage: { prompt_tokens: 42, completion_tokens: 128, total_tokens: 170, prompt_tokens_details: { cached_tokens: 20 } },
      metrics: {
        time_to_first_token_ms: 88,
        generation_time_ms: 1240.5,
        queue_time_ms: 12.3,
        mean_itl_ms: 8,
        speculative_decoding: { num_accepted_draft_tokens: 14, num_draft_tokens: 20 },
      },
    }),
    want: usage({
      promptTokens: 42,
      completionTokens: 128,
      cachedTokens: 20,
      draftTokens: 20,
      draftAccepted: 14,
      promptPerSecond: 250,
      generationPerSecond: 125,
      promptMs: 88,
      generationMs: 1240.5,
    }),
  },
  {
    name: "rates computed from counts and durations; zero duration gives null",
    sse: false,
    body: JSON.stringify({ timings: { prompt_n: 20, prompt_ms: 0, predicted_n: 50, predicted_ms: 1000, prompt_per_second: null } }),
    want: usage({ promptTokens: 20, completionTokens: 50, promptMs: 0, generationMs: 1000, generationPerSecond: 50 }),
  },
  {
    name: "SSE without usage",
    sse: true,
    body: sse([...WORDS.map((w) => chunk(w, { usage: null })), "[DONE]"]),
    want: NULLS,
  },
  { name: "JSON without usage", sse: false, body: JSON.stringify({ object: "list", data: [{ id: "m" }] }), want: NULLS },
  { name: "empty body", sse: true, body: "", want: NULLS },
];

function run(sseMode: boolean, parts: Uint8Array[]): TokenUsage {
  const s = createUsageScanner({ sse: sseMode });
  for (const p of parts) s.push(p);
  return s.result();
}


describe("usage scanner: one table of real-shaped bodies", () => {
  for (const c of CASES) {
    const bytes = enc.encode(c.body);
    test(`${c.name}: one chunk`, () => {
      expect(run(c.sse, [bytes])).toEqual(c.want);
    });
    test(`${c.name}: split in two at every byte offset`, () => {
      for (let i = 0; i <= bytes.length; i++) {
        const got = run(c.sse, [bytes.slice(0, i), bytes.slice(i)]);
        if (!Bun.deepEquals(got, c.want)) expect({ offset: i, got }).toEqual({ offset: i, got: c.want });
      }
    });
    test(`${c.name}: one byte per chunk, and random chunkings`, () => {
      const ones: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i++) ones.push(bytes.slice(i, i + 1));
      expect(run(c.sse, ones)).toEqual(c.want);
      const rnd = prng(bytes.length);
      for (let round = 0; round < 50; round++) {
        const parts: Uint8Array[] = [];
        for (let i = 0; i < bytes.length; ) {
          const n = 1 + Math.floor(rnd() * 64);
          parts.push(bytes.slice(i, i + n));
          i += n;
        }
        expect(run(c.sse, parts)).toEqual(c.want);
      }
    });
  }

  test("the splits really land inside multi-byte characters and the usage event", () => {
    const body = CASES[1].body;
    expect(body).toContain("🌍");
    expect(enc.encode("🌍").length).toBe(4);
    expect(body).toContain('"usage":{');
  });
});

describe("usage scanner: parsing only what can carry usage", () => {
  test("OpenAI include_usage stream: usage:null chunks are not parsed", () => {
    const s = createUsageScanner({ sse: true });
    s.push(enc.encode(CASES[1].body));
    expect(s.result().promptTokens).toBe(15);
    expect(s.stats().parses).toBe(1);
  });

  test("timings_per_token stream: only the last timings event is parsed", () => {
    const s = createUsageScanner({ sse: true });
    for (const part of CASES[5].body.split("\n\n")) s.push(enc.encode(part + "\n\n"));
    expect(s.stats().parses).toBe(0);
    expect(s.result()).toEqual(llamaWant);
    expect(s.stats().parses).toBe(1);
  });

  test("Anthropic stream: two parses (message_start, message_delta)", () => {
    const s = createUsageScanner({ sse: true });
    s.push(enc.encode(CASES[8].body));
    s.result();
    expect(s.stats().parses).toBe(2);
  });

  test("a key that only appears inside escaped content is not a hit", () => {
    const s = createUsageScanner({ sse: true });
    s.push(enc.encode(sse([chunk('say "usage": {"prompt_tokens": 1} and "timings" and "metrics"')])));
    expect(s.result()).toEqual(NULLS);
    expect(s.stats().parses).toBe(0);
  });

  test("100k token events without usage: no parse, bounded buffer, then the final usage is read", () => {
    const s = createUsageScanner({ sse: true });
    const events = WORDS.map((w) => enc.encode(sse([chunk(w, { usage: null })])));
    let maxBuffered = 0;
    for (let i = 0; i < 100_000; i++) {
      const ev = events[i % events.length];
      // Split every event somewhere so the partial-line path is exercised too.
      const cut = (i * 7) % ev.length;
      s.push(ev.subarray(0, cut));
      maxBuffered = Math.max(maxBuffered, s.stats().bufferedBytes);
      s.push(ev.subarray(cut));
    }
    expect(s.stats().parses).toBe(0);
    // Past the 4 KiB head, the last 4 to 8 KiB (and the chunk at the cut) are kept by reference.
    expect(maxBuffered).toBeLessThanOrEqual(2 * (4 << 10) + 2 * Math.max(...events.map((e) => e.length)));
    s.push(enc.encode(sse([{ ...chunk(""), choices: [], usage: { prompt_tokens: 9, completion_tokens: 100_000 } }])));
    expect(s.result()).toEqual(usage({ promptTokens: 9, completionTokens: 100_000 }));
    expect(s.stats().parses).toBe(1);
  });
});

describe("usage scanner: precedence and bounds", () => {
  test("later usage wins; a later zero does not clobber a count", () => {
    const s = createUsageScanner({ sse: true });
    s.push(enc.encode(sse([{ usage: { prompt_tokens: 5, completion_tokens: 1 } }, { usage: { prompt_tokens: 0, completion_tokens: 9 } }])));
    expect(s.result()).toEqual(usage({ promptTokens: 5, completionTokens: 9 }));
  });

  test("a usage line with timings after a kept timings-only line wins over it", () => {
    const s = createUsageScanner({ sse: true });
    s.push(enc.encode(sse([{ timings: { prompt_n: 1, predicted_n: 1 } }, { usage: { prompt_tokens: 3 }, timings: { prompt_n: 2, predicted_n: 2 } }])));
    expect(s.result()).toEqual(usage({ promptTokens: 2, completionTokens: 2 }));
    expect(s.stats().parses).toBe(1);
  });

  test("vLLM speculative_decoding missing a counter leaves both draft fields null; empty one keeps timings'", () => {
    const half = createUsageScanner({ sse: false });
    half.push(enc.encode(JSON.stringify({ usage: { prompt_tokens: 42, completion_tokens: 128 }, metrics: { speculative_decoding: { num_draft_tokens: 20 } } })));
    expect(half.result()).toEqual(usage({ promptTokens: 42, completionTokens: 128 }));
    const both = createUsageScanner({ sse: false });
    both.push(enc.encode(JSON.stringify({ timings: { prompt_n: 20, predicted_n: 50, draft_n: 30, draft_n_accepted: 12 }, metrics: { speculative_decoding: {} } })));
    expect(both.result()).toEqual(usage({ promptTokens: 20, completionTokens: 50, draftTokens: 30, draftAccepted: 12 }));
  });

  test("an SSE line over maxEventBytes is dropped, the next one is still read", () => {
    const s = createUsageScanner({ sse: true, maxEventBytes: 256 });
    const big = sse([{ usage: { prompt_tokens: 1 }, pad: "x".repeat(1000) }]);
    const small = sse([{ usage: { prompt_tokens: 2, completion_tokens: 3 } }]);
    const bytes = enc.encode(big + small);
    for (let i = 0; i < bytes.length; i += 100) {
      s.push(bytes.subarray(i, i + 100));
      expect(s.stats().bufferedBytes).toBeLessThanOrEqual(256);
    }
    expect(s.result()).toEqual(usage({ promptTokens: 2, completionTokens: 3 }));
  });

  test("a JSON body over maxBodyBytes is not held: its top-level counts are read from its tail (a batch of embeddings)", () => {
    const s = createUsageScanner({ sse: false, maxBodyBytes: 1024 });
    const data = Array.from({ length: 40 }, (_, i) => ({ object: "embedding", index: i, embedding: Array.from({ length: 16 }, () => 0.125) }));
    const bytes = enc.encode(JSON.stringify({ object: "list", data, model: "e", usage: { prompt_tokens: 60000, total_tokens: 60000 } }));
    for (let i = 0; i < bytes.length; i += 700) s.push(bytes.subarray(i, i + 700));
    // Only a tail is held (here all of it: it is under the tail's 64 KiB), and the head read before the overflow.
    expect(s.stats().bufferedBytes).toBeLessThanOrEqual(bytes.length + 1024 + 700);
    expect(s.result()).toEqual({ ...NULLS, promptTokens: 60000 });
    expect(s.stats().parses).toBe(1);
    expect(s.stats().bufferedBytes).toBe(0);
  });

  test("a JSON body far over maxBodyBytes holds no more than its tail (64 KiB and one chunk)", () => {
    const s = createUsageScanner({ sse: false, maxBodyBytes: 1024 });
    const bytes = enc.encode(JSON.stringify({ data: "x".repeat(1 << 20), usage: { prompt_tokens: 7 } }));
    for (let i = 0; i < bytes.length; i += 4096) {
      s.push(bytes.subarray(i, i + 4096));
      // The tail, and the head (at most 64 KiB; here what came before the overflow).
      expect(s.stats().bufferedBytes).toBeLessThanOrEqual((64 << 10) + 4096 + 1024 + 4096);
    }
    expect(s.result()).toEqual({ ...NULLS, promptTokens: 7 });
  });

  test("a JSON body over maxBodyBytes with its usage before the data (llama-server's embeddings) counts it from the head", () => {
    const data = Array.from({ length: 800 }, (_, i) => ({ object: "embedding", index: i, embedding: Array.from({ length: 16 }, () => 0.125) }));
    // llama-server's order: model, object, usage, then data; a string with braces and quotes comes first.
    const text = JSON.stringify({ model: 'e {"usage":{"prompt_tokens":1}}', object: "list", usage: { prompt_tokens: 30890, total_tokens: 30890 }, data });
    const bytes = enc.encode(text);
    const s = createUsageScanner({ sse: false, maxBodyBytes: 4096 });
    for (let i = 0; i < bytes.length; i += 1000) s.push(bytes.subarray(i, i + 1000));
    expect(bytes.length).toBeGreaterThan(4096 + (64 << 10));
    expect(s.result()).toEqual({ ...NULLS, promptTokens: 30890 });
    expect(s.stats().bufferedBytes).toBe(0);
  });

  test("a JSON body over maxBodyBytes whose only count key is nested counts nothing", () => {
    const s = createUsageScanner({ sse: false, maxBodyBytes: 1024 });
    const bytes = enc.encode(JSON.stringify({ pad: "x".repeat(2000), data: [{ usage: { prompt_tokens: 1 } }] }));
    s.push(bytes.subarray(0, 1000));
    s.push(bytes.subarray(1000));
    expect(s.result()).toEqual(NULLS);
  });

  test("an event stream's chunks within the head are not retained: reusing the caller's buffer does not change the result", () => {
    for (const c of CASES.filter((c) => c.sse)) {
      const bytes = enc.encode(c.body);
      const s = createUsageScanner({ sse: c.sse });
      const buf = new Uint8Array(17);
      for (let i = 0; i < bytes.length; i += buf.length) {
        const n = Math.min(buf.length, bytes.length - i);
        buf.set(bytes.subarray(i, i + n));
        s.push(buf.subarray(0, n));
        buf.fill(0x22);
      }
      expect(s.result()).toEqual(c.want);
    }
  });

  test("the last line without a trailing newline is read; result() is idempotent", () => {
    const s = createUsageScanner({ sse: true });
    s.push(enc.encode('data: {"usage":{"prompt_tokens":4,"completion_tokens":2}}'));
    const first = s.result();
    expect(first).toEqual(usage({ promptTokens: 4, completionTokens: 2 }));
    s.push(enc.encode('\n\ndata: {"usage":{"prompt_tokens":8}}\n\n'));
    expect(s.result()).toEqual(first);
  });
});

describe("usage scanner: the head and the tail of a long stream", () => {
  /** The case's events with `n` token events (no keys) after its first event. */
  function padded(body: string, n: number): string {
    const eol = body.includes("\r\n") ? "\r\n" : "\n";
    const events = body.split(eol + eol).filter((e) => e.length > 0).map((e) => e + eol + eol);
    const filler = sse([chunk(" the")], eol);
    return events[0] + filler.repeat(n) + events.slice(1).join("");
  }

  for (const c of CASES.filter((c) => c.sse)) {
    test(`${c.name}: 3,000 token events after the first event, random chunkings: the same accounting`, () => {
      const bytes = enc.encode(padded(c.body, 3000));
      expect(bytes.length).toBeGreaterThan(64 << 10);
      const rnd = prng(bytes.length);
      // Round 5: chunks of 100,000 bytes, what a backend that outruns its reader delivers.
      for (let round = 0; round < 6; round++) {
        const s = createUsageScanner({ sse: true });
        let max = 0;
        for (let i = 0; i < bytes.length; ) {
          const n = round === 5 ? 100_000 : 1 + Math.floor(rnd() * (round === 0 ? 16 : 4096));
          s.push(bytes.slice(i, i + n));
          max = Math.max(max, s.stats().bufferedBytes);
          i += n;
        }
        expect(s.result()).toEqual(c.want);
        expect(max).toBeLessThanOrEqual(2 * (4 << 10) + 2 * 4096 + 4096);
      }
    });
  }

  test("a final event longer than the tail (a Responses API response.completed) is still read whole", () => {
    const s = createUsageScanner({ sse: true, headBytes: 0, tailBytes: 1024 });
    s.push(enc.encode(sse([chunk("a")]).repeat(500)));
    const big = sse([["response.completed", { type: "response.completed", response: { output_text: "x".repeat(100_000), usage: { input_tokens: 7, output_tokens: 9 } } }]]);
    const bytes = enc.encode(big);
    for (let i = 0; i < bytes.length; i += 1000) s.push(bytes.slice(i, i + 1000));
    expect(s.result()).toEqual(usage({ promptTokens: 7, completionTokens: 9 }));
  });

  test("after the head, a line over maxEventBytes is let go; the last line is still read", () => {
    const s = createUsageScanner({ sse: true, maxEventBytes: 256, headBytes: 0, tailBytes: 64 });
    const big = sse([{ usage: { prompt_tokens: 1 }, pad: "x".repeat(5000) }]);
    const small = sse([{ usage: { prompt_tokens: 2, completion_tokens: 3 } }]);
    const bytes = enc.encode(sse([chunk("a")]) + big + small);
    for (let i = 0; i < bytes.length; i += 100) {
      s.push(bytes.slice(i, i + 100));
      expect(s.stats().bufferedBytes).toBeLessThanOrEqual(256 + 64 + 300);
    }
    expect(s.result()).toEqual(usage({ promptTokens: 2, completionTokens: 3 }));
  });

  test("a last event longer than the tail, begun in one read and ended in a big next one, keeps its beginning (Responses API response.completed)", () => {
    const tok = (t: string) => `event: response.output_text.delta\ndata: ${JSON.stringify({ type: "response.output_text.delta", delta: t })}\n\n`;
    const completed = `event: response.completed\ndata: ${JSON.stringify({ type: "response.completed", response: { output: [{ content: [{ type: "output_text", text: "x".repeat(8000) }] }], usage: { input_tokens: 7, output_tokens: 9 } } })}\n\n`;
    const all = enc.encode(tok(" the").repeat(200) + completed);
    const at = all.length - completed.length + 60; // inside the event's data line
    const s = createUsageScanner({ sse: true });
    s.push(all.slice(0, at));
    s.push(all.slice(at));
    expect(s.result()).toMatchObject({ promptTokens: 7, completionTokens: 9 });
  });

  test("token events between the head and the tail are never read", () => {
    // A usage event in the middle of a long stream is not looked at: backends report it first or last.
    const s = createUsageScanner({ sse: true });
    s.push(enc.encode(sse([chunk("a")]).repeat(100)));
    s.push(enc.encode(sse([chunk("b", { usage: { prompt_tokens: 99 } })])));
    const c = enc.encode(sse([chunk("c")]));
    for (let i = 0; i < 1000; i++) s.push(c);
    s.push(enc.encode(sse([{ ...chunk(""), usage: { completion_tokens: 5 } }])));
    expect(s.result()).toEqual(usage({ completionTokens: 5 }));
    expect(s.stats().parses).toBe(1);
  });
});

describe("usage scanner: a whole JSON body read from its first count key", () => {
  const counts = fc.record({ prompt_tokens: fc.nat(5000), completion_tokens: fc.nat(5000) });
  const timings = fc.record({ prompt_n: fc.nat(5000), prompt_ms: fc.double({ min: 0.1, max: 1e4, noNaN: true }), predicted_n: fc.nat(5000), predicted_ms: fc.double({ min: 0.1, max: 1e4, noNaN: true }) });
  const tricky = fc.constantFrom('say "usage": {"prompt_tokens": 9}', '\\"usage\\":{', "\\", '\\\\"', '"timings": {"prompt_n": 1}', "end\\");
  const leaf = fc.oneof(fc.jsonValue({ maxDepth: 2 }), tricky, counts, timings);
  // Values that hide count keys deeper down (a tool call's input, a list of choices).
  const value = fc.oneof(leaf, fc.dictionary(fc.constantFrom("usage", "timings", "metrics", "input", "x"), leaf, { maxKeys: 3 }), fc.array(fc.dictionary(fc.constantFrom("usage", "message", "y"), leaf, { maxKeys: 2 }), { maxLength: 2 }));
  // No top-level `message` or `response` object: the one documented difference (see parseFromFirstKey).
  const key = fc.constantFrom("id", "choices", "model", "usage", "timings", "metrics", "x", 'a\\"usage', "usage ", "object");
  const body = fc.tuple(fc.dictionary(key, value, { maxKeys: 6 }), fc.boolean()).map(([o, pretty]) => (pretty ? JSON.stringify(o, null, 2) : JSON.stringify(o)));

  test("any body: the same accounting as parsing it whole (which an array around it forces)", () => {
    fc.assert(
      fc.property(body, (b) => {
        expect(run(false, [enc.encode(b)])).toEqual(run(false, [enc.encode(`[0,${b}]`)]));
      }),
      { numRuns: 2000 },
    );
  });

  test("a real-shaped answer is read with one parse, of the part from its usage on", () => {
    const answer = { id: "c", choices: [{ message: { role: "assistant", content: "x".repeat(5000) } }], usage: { prompt_tokens: 7, completion_tokens: 9 }, timings: llamaTimings };
    const s = createUsageScanner({ sse: false });
    s.push(enc.encode(JSON.stringify(answer)));
    expect(s.result()).toEqual(run(false, [enc.encode(`[0,${JSON.stringify(answer)}]`)]));
    expect(s.stats().parses).toBe(1);
  });

  test("a count key nested first (a tool's input), then the top-level one: the top-level counts win", () => {
    const answer = { content: [{ type: "tool_use", input: { usage: { prompt_tokens: 1, completion_tokens: 1 } } }], usage: { input_tokens: 40, output_tokens: 50 } };
    const s = createUsageScanner({ sse: false });
    s.push(enc.encode(JSON.stringify(answer)));
    expect(s.result()).toMatchObject({ promptTokens: 40, completionTokens: 50 });
    // The nested candidate failed to parse as a top level; the next one did.
    expect(s.stats().parses).toBe(2);
  });
});
