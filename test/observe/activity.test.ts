import { describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import { decompressBody } from "../../src/cli/decompress.ts";
import { createCaptureRing } from "../../src/observe/captures.ts";
import { createActivityLog, tokensOf, type ActivityRecord } from "../../src/observe/activity.ts";

const enc = new TextEncoder();

describe("activity log", () => {
  test("one record per request: waits, first byte and token, tokens, bytes; end counts once", () => {
    let t = 1000;
    const sunk: ActivityRecord[] = [];
    const log = createActivityLog({ now: () => t, sink: (r) => sunk.push(r) });
    const h = log.begin({ model: "m", peer: "", path: "/v1/chat/completions", client: "127.0.0.1", bytesIn: 42, streamed: true });
    expect(log.inFlight()).toBe(1);
    t = 1010;
    h.waiting(false);
    t = 1020;
    h.waiting(true);
    t = 1100;
    h.granted();
    h.response(200, "text/event-stream");
    t = 1110;
    h.chunk(enc.encode('data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\n'));
    t = 1130;
    h.chunk(enc.encode('data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n'));
    t = 1200;
    h.chunk(enc.encode('data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1},"timings":{"prompt_n":3,"predicted_n":1,"predicted_ms":20,"prompt_ms":5}}\n\ndata: [DONE]\n\n'));
    h.end("ok");
    h.end("cancelled");
    expect(log.inFlight()).toBe(0);
    expect(sunk).toHaveLength(1);
    expect(sunk[0]).toMatchObject({
      id: 1,
      model: "m",
      resp_status_code: 200,
      duration_ms: 200,
      queue_wait_ms: 20,
      load_wait_ms: 80,
      ttfb_ms: 110,
      ttft_ms: 130,
      outcome: "ok",
      bytes_in: 42,
      tokens: { input_tokens: 3, output_tokens: 1, tokens_per_second: 50, prompt_per_second: 600 },
    });
  });

  test("a request refused before a grant has no waits; the ring keeps the newest maxInMemory records", () => {
    const log = createActivityLog({ maxInMemory: 2, firstId: 10 });
    for (let i = 0; i < 3; i++) log.begin({ model: `m${i}`, peer: "", path: "/x", client: "", bytesIn: 0, streamed: false }).end("refused", { status: 429, error: "busy" });
    expect(log.recent().map((r) => r.id)).toEqual([11, 12]);
    expect(log.recent()[0]).toMatchObject({ resp_status_code: 429, error_msg: "busy", queue_wait_ms: null, load_wait_ms: null, ttfb_ms: null, outcome: "refused" });
  });

  test("llama-swap's token block (its buildMetrics): unknown counts are 0; an unknown cache count, speed or draft count is -1", () => {
    expect(tokensOf({ promptTokens: null, completionTokens: 4, cachedTokens: null, draftTokens: null, draftAccepted: null, promptPerSecond: null, generationPerSecond: 9.5, promptMs: null, generationMs: null })).toEqual({
      cache_tokens: -1,
      draft_tokens: -1,
      draft_acc_tokens: -1,
      input_tokens: 0,
      output_tokens: 4,
      prompt_per_second: -1,
      tokens_per_second: 9.5,
    });
  });

  test("a compressed answer is counted once inflated, and captured inflated without its content-encoding (as llama-swap stores it)", () => {
    const body = new TextEncoder().encode('{"choices":[],"usage":{"prompt_tokens":42,"completion_tokens":17}}');
    const gz = zlib.gzipSync(body);
    const captures = createCaptureRing({ megabytes: 1 });
    const log = createActivityLog({ captures, decompress: decompressBody });
    const h = log.begin({ model: "m", peer: "", path: "/v1/chat/completions", client: "", bytesIn: 0, streamed: false });
    h.response(200, "application/json", new Headers({ "content-type": "application/json", "content-encoding": "gzip", "content-length": String(gz.length) }));
    h.chunk(gz.subarray(0, 10));
    h.chunk(gz.subarray(10));
    h.end("ok");
    const r = log.recent()[0]!;
    expect([r.tokens.input_tokens, r.tokens.output_tokens, r.bytes_out]).toEqual([42, 17, gz.length]);
    const c = captures.get(r.id)!;
    expect(Buffer.from(c.resp_body, "base64").toString()).toBe(new TextDecoder().decode(body));
    expect(Object.keys(c.resp_headers).map((k) => k.toLowerCase())).not.toContain("content-encoding");
    // Without an inflater (the core alone), the compressed bytes count nothing: never a wrong count.
    const plain = createActivityLog({});
    const p = plain.begin({ model: "m", peer: "", path: "/v1/chat/completions", client: "", bytesIn: 0, streamed: false });
    p.response(200, "application/json", new Headers({ "content-encoding": "gzip" }));
    p.chunk(gz);
    p.end("ok");
    expect(plain.recent()[0]!.tokens.input_tokens).toBe(0);
  });

  test("time to first token: the first delta with text, in every API's shape and with spaced JSON; an empty or object delta is not one", () => {
    let t = 0;
    const firstTokenAt = (events: string[]): number | null => {
      const log = createActivityLog({ now: () => t });
      t = 0;
      const h = log.begin({ model: "m", peer: "", path: "/v1/x", client: "", bytesIn: 0, streamed: true });
      h.response(200, "text/event-stream");
      for (const e of events) {
        t += 100;
        h.chunk(new TextEncoder().encode(`data: ${e}\n\n`));
      }
      h.end("ok");
      return log.recent()[0]!.ttft_ms;
    };
    // Each starts with an event that carries no text, then one that does (at 200 ms).
    expect(firstTokenAt(['{"type":"response.created","response":{"text":{"format":{}}}}', '{"type":"response.output_text.delta","delta":"Hi"}'])).toBe(200);
    expect(firstTokenAt(['{"type":"content_block_start","content_block":{"type":"thinking","thinking":""}}', '{"type":"content_block_delta","delta":{"type":"thinking_delta","thinking":"Let"}}'])).toBe(200);
    expect(firstTokenAt(['{"choices":[{"delta":{"role":"assistant"}}]}', '{"choices":[{"delta":{"reasoning":"So"}}]}'])).toBe(200);
    expect(firstTokenAt(['{"choices": [{"delta": {"role": "assistant"}}]}', '{"choices": [{"delta": {"content": "Hi"}}]}'])).toBe(200);
  });
});
