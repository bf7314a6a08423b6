/**
 * What the simulated backend says: token text (with multi-byte UTF-8 on purpose, so split-character
 * bugs show) and the response shapes, streamed and whole: OpenAI's chat, completions and Responses,
 * Anthropic's messages (and count_tokens), llama-server's native /completion. Pure builders; per-token
 * event bytes are cached per distinct token where the event does not number itself, so the
 * streaming hot path stays cheap.
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

/** The request fields whose text counts as prompt (chat, completions, Responses, Anthropic, llama-server's /infill). */
const PROMPT_KEYS = new Set(["content", "text", "prompt", "messages", "input", "system", "instructions", "input_prefix", "input_suffix", "input_extra"]);

/** A rough prompt token count: a token per 4 bytes of the request's text fields. */
export function estimatePromptTokens(body: unknown): number {
  let chars = 0;
  const walk = (v: unknown): void => {
    if (typeof v === "string") chars += v.length;
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) if (PROMPT_KEYS.has(k)) walk(x);
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

/** Why an answer ended: its natural end ("stop"), or the request's token limit cut it ("length"). */
export type Finish = "stop" | "length";

/** How one streamed answer is framed: per-token events plus opening and closing events. */
export interface StreamShape {
  /** Events before the first token. */
  open(): Uint8Array;
  /** The event carrying token i (cached per distinct token where the event carries no counter). */
  token(i: number): Uint8Array;
  /** Events after the last token. */
  close(u: Usage, finish: Finish, elapsedMs: number): Uint8Array;
}

/** Token i JSON-escaped (cached per distinct token), for events that also carry a per-event counter. */
function tokenJson(): (i: number) => string {
  const cache: string[] = [];
  return (i) => {
    const k = i % TOKENS.length;
    return (cache[k] ??= JSON.stringify(TOKENS[k]));
  };
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

/** The ids of one Responses API answer: the response's, its one output message's, and its creation time. */
export interface ResponseIds {
  id: string;
  messageId: string;
  created: number;
}

/** How a finished answer ended, for the builders that report it. */
interface Ending {
  u: Usage;
  finish: Finish;
  ms: number;
}

const responseUsage = (u: Usage) => ({
  input_tokens: u.prompt,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: u.completion,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: u.prompt + u.completion,
});

const outputText = (text: string) => ({ type: "output_text", text, annotations: [], logprobs: [] });

const outputMessage = (id: string, status: "in_progress" | "completed" | "incomplete", content: unknown[]) => ({ id, type: "message", status, role: "assistant", content });

/** A Responses API `response` object: in progress (no output yet), or finished with its text and accounting. */
function responseObject(model: string, ids: ResponseIds, end: Ending | null) {
  const cut = end?.finish === "length";
  const status = end === null ? "in_progress" : cut ? "incomplete" : "completed";
  return {
    id: ids.id,
    object: "response",
    created_at: ids.created,
    status,
    error: null,
    incomplete_details: cut ? { reason: "max_output_tokens" } : null,
    instructions: null,
    max_output_tokens: null,
    model,
    output: end === null ? [] : [outputMessage(ids.messageId, cut ? "incomplete" : "completed", [outputText(simulatedText(end.u.completion))])],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: 1,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: 1,
    truncation: "disabled",
    metadata: {},
    ...(end === null ? { usage: null } : responseAccounting(end)),
  };
}

/** A finished response's accounting, as `--report` asks: Responses usage, llama-server timings, or both. */
function responseAccounting(end: Ending) {
  return { ...(report !== "timings" ? { usage: responseUsage(end.u) } : {}), ...(report !== "usage" ? { timings: timings(end.u, end.ms) } : {}) };
}

/** A whole `/v1/responses` answer: one assistant message of output_text, "incomplete" when the limit cut it. */
export function responseWhole(model: string, ids: ResponseIds, u: Usage, finish: Finish, ms: number) {
  return responseObject(model, ids, { u, finish, ms });
}

/**
 * `/v1/responses` streaming, as OpenAI sends it: `event:` lines and numbered events (response.created,
 * response.in_progress, the message's output_item and content_part, one response.output_text.delta a
 * token, their .done events, then response.completed or, when the limit cut it, response.incomplete).
 */
export function responsesStream(model: string, ids: ResponseIds): StreamShape {
  const event = (seq: number, type: string, fields: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq, ...fields })}\n\n`;
  const where = { item_id: ids.messageId, output_index: 0, content_index: 0 };
  const whereJson = JSON.stringify(where).slice(1, -1);
  const escaped = tokenJson();
  /** Events before the first delta. */
  const OPENING = 4;
  return {
    open: () =>
      enc.encode(
        event(0, "response.created", { response: responseObject(model, ids, null) }) +
          event(1, "response.in_progress", { response: responseObject(model, ids, null) }) +
          event(2, "response.output_item.added", { output_index: 0, item: outputMessage(ids.messageId, "in_progress", []) }) +
          event(3, "response.content_part.added", { ...where, part: outputText("") }),
      ),
    token: (i) =>
      enc.encode(`event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":${OPENING + i},${whereJson},"delta":${escaped(i)},"logprobs":[]}\n\n`),
    close: (u, finish, ms) => {
      const seq = OPENING + u.completion;
      const text = simulatedText(u.completion);
      const done = responseObject(model, ids, { u, finish, ms });
      return enc.encode(
        event(seq, "response.output_text.done", { ...where, text, logprobs: [] }) +
          event(seq + 1, "response.content_part.done", { ...where, part: outputText(text) }) +
          event(seq + 2, "response.output_item.done", { output_index: 0, item: done.output[0] }) +
          event(seq + 3, finish === "length" ? "response.incomplete" : "response.completed", { response: done }),
      );
    },
  };
}

/** Anthropic's `/v1/messages/count_tokens` answer. */
export function tokenCount(body: unknown) {
  return { input_tokens: estimatePromptTokens(body) };
}

/** llama-server's last (or only) `/completion` and `/infill` object: stop, counts, why it stopped, timings. */
export function nativeCompletion(model: string, prompt: string, content: string, u: Usage, finish: Finish, ms: number) {
  return {
    index: 0,
    content,
    tokens: [],
    id_slot: 0,
    stop: true,
    model,
    tokens_predicted: u.completion,
    tokens_evaluated: u.prompt,
    prompt,
    has_new_line: content.includes("\n"),
    truncated: false,
    stop_type: finish === "length" ? "limit" : "eos",
    stopping_word: "",
    tokens_cached: u.prompt + u.completion,
    ...(report !== "usage" ? { timings: timings(u, ms) } : {}),
  };
}

/** A whole llama-server `/completion` or `/infill` answer. */
export function nativeWhole(model: string, prompt: string, u: Usage, finish: Finish, ms: number) {
  return nativeCompletion(model, prompt, simulatedText(u.completion), u, finish, ms);
}

/**
 * llama-server's `/completion` and `/infill` streaming: one `data: {"content":…,"stop":false}` event a
 * token, then the final object with `stop: true` and empty content; no `[DONE]` (that is its OpenAI routes').
 */
export function nativeStream(model: string, prompt: string, promptTokens: number): StreamShape {
  const escaped = tokenJson();
  return {
    open: () => new Uint8Array(0),
    token: (i) =>
      enc.encode(`data: {"index":0,"content":${escaped(i)},"tokens":[],"stop":false,"id_slot":0,"tokens_predicted":${i + 1},"tokens_evaluated":${promptTokens}}\n\n`),
    close: (u, finish, ms) => enc.encode(sse(nativeCompletion(model, prompt, "", u, finish, ms))),
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

/**
 * The inputs of an embeddings request, one text each (what the vector is made from): a string, an array
 * of strings, one array of token ids (one input, as OpenAI reads it), or an array of token-id arrays.
 */
export function embeddingInputs(input: unknown): string[] {
  if (!Array.isArray(input)) return [typeof input === "string" ? input : String(input ?? "")];
  if (input.length > 0 && input.every((x) => typeof x === "number")) return [JSON.stringify(input)];
  return input.map((x) => (typeof x === "string" ? x : JSON.stringify(x)));
}

/** A vector as `encoding_format: "base64"` sends it: its little-endian float32 bytes, in base64. */
export function embeddingBase64(v: readonly number[]): string {
  const bytes = new Uint8Array(v.length * 4);
  const view = new DataView(bytes.buffer);
  v.forEach((x, i) => view.setFloat32(i * 4, x, true));
  return Buffer.from(bytes).toString("base64");
}

/** An OpenAI-shaped error body. */
export function errorBody(message: string, type = "invalid_request_error", code = 400) {
  return { error: { message, type, code } };
}
