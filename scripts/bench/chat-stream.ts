/**
 * One streamed chat completion against a real backend (llama-server, directly or behind a proxy),
 * parsed event by event: when the first token arrived (the first event whose delta carries
 * non-empty `content`) and whether the stream ended properly (a `finish_reason` and `[DONE]`).
 */
import { epochMs } from "./clock.ts";
import { chatBody, postChat } from "./load.ts";

/** How one streamed chat completion went; `failure` is set when it did not succeed. */
export interface ChatOutcome {
  model: string;
  status: number;
  /** Request sent to the end of the body (ms). */
  latencyMs: number;
  /** Request sent to the first event with non-empty delta content (ms); NaN when none came. */
  ttftMs: number;
  /** Why it failed, verbatim where the error carried a message; absent on success. */
  failure?: string;
}

/** The part of a chat.completion.chunk this reader looks at. */
interface ChunkShape {
  choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[];
  error?: unknown;
}

/** Reads SSE events; tracks the first content token, a finish_reason, [DONE] and in-band errors. */
class EventReader {
  firstTokenAt = NaN;
  finished = false;
  done = false;
  inBandError: string | null = null;
  private buf = "";

  /** Feed decoded text; complete events are handled at once. */
  push(text: string): void {
    this.buf += text;
    for (;;) {
      const m = /\r?\n\r?\n/.exec(this.buf);
      if (!m) return;
      this.event(this.buf.slice(0, m.index));
      this.buf = this.buf.slice(m.index + m[0].length);
    }
  }

  /** Handle what is left when the body ends (an event without its blank line). */
  end(): void {
    if (this.buf.trim()) this.event(this.buf);
    this.buf = "";
  }

  private event(block: string): void {
    for (const line of block.split(/\r?\n/)) {
      if (!line.startsWith("data:")) continue;
      const data = line.slice(5).trim();
      if (data === "[DONE]") {
        this.done = true;
        continue;
      }
      let chunk: ChunkShape;
      try {
        chunk = JSON.parse(data) as ChunkShape;
      } catch {
        continue;
      }
      if (chunk.error !== undefined && this.inBandError === null) this.inBandError = JSON.stringify(chunk.error);
      for (const c of chunk.choices ?? []) {
        const content = c.delta?.content;
        if (Number.isNaN(this.firstTokenAt) && typeof content === "string" && content.length > 0) this.firstTokenAt = epochMs();
        if (c.finish_reason !== null && c.finish_reason !== undefined) this.finished = true;
      }
    }
  }
}

/** Send one streamed chat completion of `maxTokens` for `model` to `url` and read it whole. */
export async function streamChat(url: string, model: string, maxTokens: number, timeoutMs: number): Promise<ChatOutcome> {
  const sentAt = epochMs();
  const out = (status: number, ttftMs: number, failure?: string): ChatOutcome => ({
    model,
    status,
    latencyMs: epochMs() - sentAt,
    ttftMs,
    ...(failure === undefined ? {} : { failure }),
  });
  let res: Response;
  try {
    res = await postChat(url, chatBody(model, maxTokens, true), AbortSignal.timeout(timeoutMs));
  } catch (err) {
    return out(0, NaN, `fetch threw: ${(err as Error).message}`);
  }
  if (res.status !== 200) {
    const body = await res.text().catch((err: Error) => `(body unreadable: ${err.message})`);
    return out(res.status, NaN, `HTTP ${res.status}: ${body.slice(0, 300)}`);
  }
  const reader = new EventReader();
  const dec = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) reader.push(dec.decode(chunk, { stream: true }));
    reader.end();
  } catch (err) {
    return out(200, reader.firstTokenAt - sentAt, `stream broke: ${(err as Error).message}`);
  }
  const ttft = reader.firstTokenAt - sentAt;
  if (reader.inBandError !== null) return out(200, ttft, `in-band error: ${reader.inBandError.slice(0, 300)}`);
  if (!reader.finished || !reader.done) return out(200, ttft, `stream ended without ${reader.finished ? "" : "a finish_reason"}${!reader.finished && !reader.done ? " and " : ""}${reader.done ? "" : "[DONE]"}`);
  return out(200, ttft);
}
