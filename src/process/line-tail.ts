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
  return {
    push(text) {
      // The common chunk, one whole line after a whole line: no split, no array.
      const lf = text.indexOf("\n");
      if (partial === "" && lf >= 0 && lf === text.length - 1) {
        done.push(clip(lf > 0 && text.charCodeAt(lf - 1) === 13 ? text.slice(0, lf - 1) : text.slice(0, lf)));
        if (done.length > max * 2) done = done.slice(-max);
        return;
      }
      const parts = (partial + text).split("\n");
      partial = parts.pop() ?? "";
      if (partial.length > maxLineChars * 4) partial = partial.slice(-maxLineChars * 4);
      for (const p of parts) {
        const line = p.endsWith("\r") ? p.slice(0, -1) : p;
        done.push(clip(line));
      }
      if (done.length > max * 2) done = done.slice(-max);
    },
    lines() {
      const all = partial ? [...done, clip(partial)] : done;
      return all.slice(-max);
    },
  };
}
