/**
 * An incremental server-sent events parser (WHATWG rules: `data` lines joined with "\n",
 * comments ignored, an event dispatched on a blank line, a trailing partial event dropped).
 */

/** One dispatched event. */
export interface SseMessage {
  event: string;
  data: string;
  id: string | null;
}

/** Feed decoded text in any chunking; returns the events completed by that text. */
export interface SseParser {
  push(text: string): SseMessage[];
}

/** Create a parser that keeps a partial line and a partial event between pushes. */
export function createSseParser(): SseParser {
  let buffer = "";
  let data: string[] = [];
  let event = "";
  let id: string | null = null;
  let hasData = false;

  const line = (l: string, out: SseMessage[]): void => {
    if (l === "") {
      if (hasData) out.push({ event: event || "message", data: data.join("\n"), id });
      data = [];
      event = "";
      hasData = false;
      return;
    }
    if (l.startsWith(":")) return;
    const colon = l.indexOf(":");
    const field = colon === -1 ? l : l.slice(0, colon);
    let value = colon === -1 ? "" : l.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") {
      data.push(value);
      hasData = true;
    } else if (field === "event") event = value;
    else if (field === "id") id = value;
  };

  return {
    push(text) {
      buffer += text;
      const out: SseMessage[] = [];
      for (;;) {
        const m = /\r\n|\r|\n/.exec(buffer);
        // A lone "\r" at the end may be the first half of "\r\n": wait for more text.
        if (!m || (m[0] === "\r" && m.index === buffer.length - 1)) break;
        line(buffer.slice(0, m.index), out);
        buffer = buffer.slice(m.index + m[0].length);
      }
      return out;
    },
  };
}

/** Parse a whole event-stream text at once. */
export function parseSse(text: string): SseMessage[] {
  return createSseParser().push(text);
}
