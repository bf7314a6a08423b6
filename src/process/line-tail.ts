/** The last few lines of a process's output, for error messages (web-standard). */

/** Keeps the last `max` lines of text fed in arbitrary chunks. */
export interface LineTail {
  push(text: string): void;
  /** The last lines, oldest first (a trailing partial line included). */
  lines(): string[];
}

/** Create a tail of at most `max` lines, each cut to `maxLineChars`. */
export function createLineTail(max = 20, maxLineChars = 500): LineTail {
  let done: string[] = [];
  let partial = "";
  const clip = (line: string) => (line.length > maxLineChars ? line.slice(0, maxLineChars) + "…" : line);
  /** Keep one finished line (without its LF; a CR before it goes too). */
  const keep = (p: string): void => void done.push(clip(p.endsWith("\r") ? p.slice(0, -1) : p));
  return {
    push(text) {
      const lf = text.indexOf("\n");
      // The common chunk, one whole line after a whole line: no split, no array.
      if (partial === "" && lf >= 0 && lf === text.length - 1) keep(text.slice(0, lf));
      else {
        const parts = (partial + text).split("\n");
        partial = parts.pop() ?? "";
        if (partial.length > maxLineChars * 4) partial = partial.slice(-maxLineChars * 4);
        for (const p of parts) keep(p);
      }
      if (done.length > max * 2) done = done.slice(-max);
    },
    lines() {
      const all = partial ? [...done, clip(partial)] : done;
      return all.slice(-max);
    },
  };
}
