/**
 * One streamed chat completion from the playground: POST /v1/chat/completions with
 * `stream: true`, marked with the playground header (and a per-run id, so the page can find its own
 * request in the live in-flight list), switchyard's loading text split out of the stream, and every
 * failure (HTTP status, in-band error event, network, early end) turned into a message.
 */
import { apiFetch, errorMessage } from "../lib/api.ts";
import { readSse } from "../lib/sse.ts";
import { ReasoningSplitter, type LoadingInfo } from "./playground-loading.ts";

/** The header every playground request carries. */
export const PLAYGROUND_HEADER = "x-switchyard-playground";
/** The header naming one playground run (found again in /api/inflight's req_headers). */
export const RUN_HEADER = "x-switchyard-playground-run";

/** A fresh run id. */
export const newRunId = (): string => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);

/** The headers of a playground request. */
export function playgroundHeaders(runId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...extra, [PLAYGROUND_HEADER]: "1", [RUN_HEADER]: runId };
}

/** What one streamed answer came to. */
export interface ChatResult {
  content: string;
  /** The model's own reasoning (loading text removed). */
  reasoning: string;
  /** The loading block, when the model had to be waited for. */
  loading: LoadingInfo | null;
  /** completion_tokens of the final usage chunk (or llama-server's timings), else null. */
  usageTokens: number | null;
  promptTokens: number | null;
  /** Content and reasoning chunks received. */
  chunks: number;
  finishReason: string | null;
  /** performance.now() marks. */
  startedAt: number;
  firstTokenAt: number | null;
  endedAt: number;
  error: string | null;
  aborted: boolean;
}

/** Callbacks while the answer streams. */
export interface ChatHandlers {
  onContent?(piece: string): void;
  onReasoning?(piece: string): void;
  /** The loading block changed (a line came). */
  onLoading?(info: LoadingInfo): void;
}

interface Chunk {
  error?: { message?: string } | string;
  choices?: { delta?: { content?: string | null; reasoning_content?: string | null; reasoning?: string | null }; finish_reason?: string | null }[];
  usage?: { completion_tokens?: number; prompt_tokens?: number } | null;
  timings?: { predicted_n?: number; prompt_n?: number };
}

/** Stream one chat completion; never throws (failures come back in `error`). */
export async function streamChat(body: Record<string, unknown>, runId: string, signal: AbortSignal, on: ChatHandlers = {}): Promise<ChatResult> {
  const r: ChatResult = { content: "", reasoning: "", loading: null, usageTokens: null, promptTokens: null, chunks: 0, finishReason: null, startedAt: performance.now(), firstTokenAt: null, endedAt: 0, error: null, aborted: false };
  const split = new ReasoningSplitter();
  let done = false;
  const token = (): void => {
    r.chunks++;
    r.firstTokenAt ??= performance.now();
  };
  const reasoning = (piece: string): void => {
    if (!piece) return;
    token();
    r.reasoning += piece;
    on.onReasoning?.(piece);
  };
  try {
    const res = await apiFetch("/v1/chat/completions", {
      method: "POST",
      headers: playgroundHeaders(runId, { "content-type": "application/json", accept: "text/event-stream" }),
      body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
      signal,
    });
    if (!res.ok) {
      r.error = `${res.status}: ${await errorMessage(res)}`;
    } else if (!(res.headers.get("content-type") ?? "").includes("text/event-stream") || !res.body) {
      r.error = `expected an event stream, got ${res.headers.get("content-type") || "no content type"}`;
      await res.body?.cancel();
    } else {
      await readSse(
        res,
        (data, event) => {
          if (data === "[DONE]") {
            done = true;
            return;
          }
          let c: Chunk;
          try {
            c = JSON.parse(data) as Chunk;
          } catch {
            return;
          }
          if (c.error || event === "error") {
            const e = c.error;
            r.error = typeof e === "string" ? e : e?.message || data;
            return;
          }
          const choice = c.choices?.[0];
          const d = choice?.delta;
          const think = d?.reasoning_content ?? d?.reasoning;
          if (think) {
            const before = split.info.lines.length;
            reasoning(split.push(think));
            if (split.sawLoading) {
              r.loading = split.info;
              if (split.info.lines.length !== before || split.info.done) on.onLoading?.(split.info);
            }
          }
          if (d?.content) {
            token();
            r.content += d.content;
            on.onContent?.(d.content);
          }
          if (choice?.finish_reason) r.finishReason = choice.finish_reason;
          if (c.usage && typeof c.usage.completion_tokens === "number") {
            r.usageTokens = c.usage.completion_tokens;
            r.promptTokens = c.usage.prompt_tokens ?? null;
          } else if (c.timings && typeof c.timings.predicted_n === "number" && r.usageTokens === null) {
            r.usageTokens = c.timings.predicted_n;
            r.promptTokens = c.timings.prompt_n ?? null;
          }
        },
        signal,
      );
      reasoning(split.end());
      if (!r.error && !signal.aborted && !done && !r.finishReason) r.error = "the stream ended before the answer was complete";
    }
  } catch (err) {
    if (signal.aborted) r.aborted = true;
    else r.error = `network error: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (signal.aborted) r.aborted = true;
  r.endedAt = performance.now();
  return r;
}

/** Output tokens of a result: the usage count, else the chunks. */
export const tokensOf = (r: ChatResult): number => r.usageTokens ?? r.chunks;

/** Tokens per second of the generation (first token to end), or null. */
export function tokensPerSecond(r: ChatResult): number | null {
  if (r.firstTokenAt === null) return null;
  const s = (r.endedAt - r.firstTokenAt) / 1000;
  const n = tokensOf(r);
  return s > 0 && n > 1 ? (n - 1) / s : null;
}
