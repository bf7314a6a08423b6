/**
 * What the simulated backend says: token text (with multi-byte UTF-8 on purpose, so split-character
 * bugs show) and the OpenAI / Anthropic response shapes, streamed and whole. Pure builders; the
 * per-token event bytes are precomputed once per answer so the streaming hot path stays cheap.
 */

/** The token cycle; includes 2-, 3- and 4-byte UTF-8 characters. */
export const TOKENS: readonly string[] = ["Hello", ",", " café", " costs", " 5", "€", " —", " naïve", " 🚀", " 日本", "語", "."];

/** The text of an answer of `n` tokens. */
export function simulatedText(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += TOKENS[i % TOKENS.length];
  return s;
}

/** Token accounting of one answer. */
export interface Usage {
  prompt: number;
  completion: number;
}

/** A rough prompt token count: a token per 4 bytes of the request's text fields. */
export function estimatePromptTokens(body: unknown): number {
  let chars = 0;
  const walk = (v: unknown): void => {
    if (typeof v === "string") chars += v.length;
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) if (k === "content" || k === "text" || k === "prompt" || k === "messages" || k === "input" || k === "system") walk(x);
    }
  };
  walk(body);
  return Math.max(1, Math.ceil(chars / 4));
}

const enc = new TextEncoder();

/** llama-server style timings, so metrics code has something to read. */
function timings(u: Usage, ms: number) {
  const predictedMs = Math.max(ms, 0.001);
  return {
    prompt_n: u.prompt,
    prompt_ms: 1,
    prompt_per_second: u.prompt * 1000,
    predicted_n: u.completion,
    predicted_ms: predictedMs,
    predicted_per_second: (u.completion * 1000) / predictedMs,
  };
}

const openaiUsage = (u: Usage) => ({ prompt_tokens: u.prompt, completion_tokens: u.completion, total_tokens: u.prompt + u.completion });

/** Which accounting the simulated answers carry (`--report`): OpenAI usage, llama-server timings, or both. */
export type Report = "both" | "usage" | "timings";
let report: Report = "both";

/** Choose what the answers report (process-wide: one simulator serves one mode). */
export function setReport(r: Report): void {
  report = r;
}

/** The accounting fields of a closing chunk or a whole answer, as `--report` asks. */
function accounting(u: Usage, ms: number) {
  return { ...(report !== "timings" ? { usage: openaiUsage(u) } : {}), ...(report !== "usage" ? { timings: timings(u, ms) } : {}) };
}

/** How one streamed answer is framed: per-token events plus opening and closing events. */
export interface StreamShape {
  /** Events before the first token. */
  open(): Uint8Array;
  /** The event carrying token i (cached per distinct token). */
  token(i: number): Uint8Array;
  /** Events after the last token. */
  close(u: Usage, finish: "stop" | "length", elapsedMs: number): Uint8Array;
}

/** Per-token events from a prefix and suffix around the JSON-escaped token. */
function tokenCache(prefix: string, suffix: string): (i: number) => Uint8Array {
  const cache: Uint8Array[] = [];
  return (i) => {
    const k = i % TOKENS.length;
    return (cache[k] ??= enc.encode(prefix + JSON.stringify(TOKENS[k]) + suffix));
  };
}

const sse = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;

/** `/v1/chat/completions` streaming: chat.completion.chunk events, a usage chunk, `[DONE]`. */
export function chatStream(model: string, id: string, created: number): StreamShape {
  const head = { id, object: "chat.completion.chunk", created, model };
  const json = JSON.stringify(head).slice(0, -1);
  return {
    open: () => enc.encode(sse({ ...head, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] })),
    token: tokenCache(`data: ${json},"choices":[{"index":0,"delta":{"content":`, `},"finish_reason":null}]}\n\n`),
    close: (u, finish, ms) =>
      enc.encode(
        sse({ ...head, choices: [{ index: 0, delta: {}, finish_reason: finish }] }) +
          sse({ ...head, choices: [], ...accounting(u, ms) }) +
          "data: [DONE]\n\n",
      ),
  };
}

/** `/v1/completions` streaming: text_completion events, a usage chunk, `[DONE]`. */
export function completionStream(model: string, id: string, created: number): StreamShape {
  const head = { id, object: "text_completion", created, model };
  const json = JSON.stringify(head).slice(0, -1);
  return {
    open: () => new Uint8Array(0),
    token: tokenCache(`data: ${json},"choices":[{"index":0,"text":`, `,"logprobs":null,"finish_reason":null}]}\n\n`),
    close: (u, finish, ms) =>
      enc.encode(
        sse({ ...head, choices: [{ index: 0, text: "", logprobs: null, finish_reason: finish }] }) +
          sse({ ...head, choices: [], ...accounting(u, ms) }) +
          "data: [DONE]\n\n",
      ),
  };
}

const anthropicEvent = (type: string, obj: unknown) => `event: ${type}\ndata: ${JSON.stringify(obj)}\n\n`;

/** `/v1/messages` streaming: message_start, content_block_*, message_delta, message_stop. */
export function messagesStream(model: string, id: string, promptTokens: number): StreamShape {
  return {
    open: () =>
      enc.encode(
        anthropicEvent("message_start", {
          type: "message_start",
          message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: promptTokens, output_tokens: 0 } },
        }) +
          anthropicEvent("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }) +
          anthropicEvent("ping", { type: "ping" }),
      ),
    token: tokenCache(`event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`, `}}\n\n`),
    close: (u, finish) =>
      enc.encode(
        anthropicEvent("content_block_stop", { type: "content_block_stop", index: 0 }) +
          anthropicEvent("message_delta", {
            type: "message_delta",
            delta: { stop_reason: finish === "length" ? "max_tokens" : "end_turn", stop_sequence: null },
            usage: { output_tokens: u.completion },
          }) +
          anthropicEvent("message_stop", { type: "message_stop" }),
      ),
  };
}

/** Whole (non-streamed) answers. */
export function chatCompletion(model: string, id: string, created: number, u: Usage, finish: string, ms: number) {
  return {
    id,
    object: "chat.completion",
    created,
    model,
    choices: [{ index: 0, message: { role: "assistant", content: simulatedText(u.completion) }, finish_reason: finish }],
    ...accounting(u, ms),
  };
}

/** A whole `/v1/completions` answer. */
export function textCompletion(model: string, id: string, created: number, u: Usage, finish: string, ms: number) {
  return {
    id,
    object: "text_completion",
    created,
    model,
    choices: [{ index: 0, text: simulatedText(u.completion), logprobs: null, finish_reason: finish }],
    ...accounting(u, ms),
  };
}

/** A whole `/v1/messages` answer. */
export function anthropicMessage(model: string, id: string, u: Usage, finish: string) {
  return {
    id,
    type: "message",
    role: "assistant",
    model,
    content: [{ type: "text", text: simulatedText(u.completion) }],
    stop_reason: finish === "length" ? "max_tokens" : "end_turn",
    stop_sequence: null,
    usage: { input_tokens: u.prompt, output_tokens: u.completion },
  };
}

/** A deterministic 8-dimensional unit vector for a text. */
export function embeddingOf(text: string): number[] {
  let h = 2166136261;
  const v: number[] = [];
  for (let d = 0; d < 8; d++) {
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
    h = Math.imul(h ^ d, 16777619) >>> 0;
    v.push((h / 0xffffffff) * 2 - 1);
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

/** An OpenAI-shaped error body. */
export function errorBody(message: string, type = "invalid_request_error", code = 400) {
  return { error: { message, type, code } };
}
