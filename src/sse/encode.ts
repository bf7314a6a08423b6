/**
 * Server-sent events encoding, web-standard only.
 * Every multi-line payload is split into one `data:` line per line, so spec parsers never
 * drop the continuation lines (the framing bug Elysia's `sse()` helper has: docs/runtime-notes.md#elysia-sse).
 */

const encoder = new TextEncoder();

/** The terminator OpenAI-style streams end with. */
export const SSE_DONE = "data: [DONE]\n\n";

/** Encode one event; `data` objects are JSON-serialised (JSON never contains a raw newline). */
export function sseEvent(data: unknown, event?: string): string {
  const text = typeof data === "string" ? data : JSON.stringify(data);
  let out = event ? `event: ${event}\n` : "";
  for (const line of text.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + "\n";
}

/** Encode a comment line (ignored by every SSE client; useful as a keepalive). */
export function sseComment(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => `: ${line}\n`)
    .join("")
    .concat("\n");
}

/** UTF-8 bytes of an encoded event, ready to enqueue. */
export function sseBytes(text: string): Uint8Array {
  return encoder.encode(text);
}
