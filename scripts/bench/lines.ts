/** Reading a child's output as timestamped lines. */
import { epochMs, sleep } from "./clock.ts";

/** One output line and when the benchmark received it (epoch ms). */
export interface Line {
  at: number;
  text: string;
}

/** Collects the lines of one or more streams; keeps them all (benchmark processes log little). */
export interface LineLog {
  lines: Line[];
  /** Wait for a line matching `re` at index >= `from`; null after `ms`. */
  waitFor(re: RegExp, from: number, ms: number): Promise<Line | null>;
  /** Text of everything so far (for error messages). */
  text(): string;
}

/** Start draining `streams` into a LineLog (an unread pipe would eventually block the child). */
export function collectLines(streams: ReadableStream<Uint8Array>[], onLine?: (l: Line) => void): LineLog {
  const lines: Line[] = [];
  for (const s of streams) {
    void (async () => {
      const dec = new TextDecoder();
      let rest = "";
      for await (const chunk of s as unknown as AsyncIterable<Uint8Array>) {
        const at = epochMs();
        rest += dec.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = rest.indexOf("\n")) >= 0) {
          const line = { at, text: rest.slice(0, nl) };
          rest = rest.slice(nl + 1);
          lines.push(line);
          onLine?.(line);
        }
      }
      if (rest) lines.push({ at: epochMs(), text: rest });
    })().catch(() => {});
  }
  return {
    lines,
    async waitFor(re, from, ms) {
      const deadline = performance.now() + ms;
      for (;;) {
        for (let i = from; i < lines.length; i++) if (re.test(lines[i]!.text)) return lines[i]!;
        if (performance.now() > deadline) return null;
        await sleep(5);
      }
    },
    text: () => lines.map((l) => l.text).join("\n"),
  };
}
