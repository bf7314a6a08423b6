/**
 * The process's stdout as the log's echo (`logToStdout`), for whatever reads it: a terminal, `| tee`,
 * a log shipper. Two things it must survive without touching serving:
 * - the reader goes away (`| head`, a dead shipper, a closed terminal): the write fails with EPIPE
 *   or EIO. Unheard, Bun turns that into an unhandled rejection, which the orphan guard takes for a
 *   crash and stops every model for. Here the echo stops, says so once on stderr, and the log lives
 *   on in /logs and the web UI;
 * - the reader stops reading (Ctrl-S, a paused pager): Bun would queue every line in memory without
 *   limit. Here, once a write says the pipe is full, text waits for `drain` up to a budget; beyond
 *   it, text is dropped and a marker says how much.
 */
import type { Writable } from "node:stream";

/** Options of the sink. */
export interface StdoutSinkOptions {
  /** Text held while the reader is not reading, at most (default 1 MiB). */
  budgetBytes?: number;
  /** Told once when the echo stops for good (default: one line on stderr). */
  onBroken?: (err: unknown) => void;
}

const DEFAULT_BUDGET = 1 << 20;

/** A sink over `out` (default process.stdout) that never throws and never grows without bound. */
export function createStdoutSink(out: Writable = process.stdout, opts: StdoutSinkOptions = {}): (text: string) => void {
  const budget = opts.budgetBytes ?? DEFAULT_BUDGET;
  const onBroken =
    opts.onBroken ??
    ((err: unknown) => {
      const code = (err as { code?: string } | null)?.code ?? (err instanceof Error ? err.message : String(err));
      try {
        process.stderr.write(`switchyard: stdout failed (${code}); log lines are no longer echoed there (/logs and the web UI still have them)\n`);
      } catch {
        // stderr is gone too (a closed terminal): nobody to tell.
      }
    });
  let broken = false;
  let waiting = false;
  let held: string[] = [];
  let heldBytes = 0;
  let dropped = 0;

  const fail = (err: unknown): void => {
    if (broken) return;
    broken = true;
    held = [];
    heldBytes = 0;
    onBroken(err);
  };
  const send = (text: string): void => {
    try {
      // false: the pipe is full (the text is queued); hold what follows until it drains.
      if (!out.write(text)) waiting = true;
    } catch (err) {
      fail(err);
    }
  };
  out.on("error", fail);
  out.on("drain", () => {
    if (broken) return;
    waiting = false;
    let text = held.join("");
    held = [];
    heldBytes = 0;
    if (dropped > 0) text += `[... ${dropped} bytes of log dropped: stdout was not being read ...]\n`;
    dropped = 0;
    if (text !== "") send(text);
  });

  return (text) => {
    if (broken) return;
    if (!waiting) return send(text);
    if (heldBytes + text.length <= budget) {
      held.push(text);
      heldBytes += text.length;
    } else dropped += Buffer.byteLength(text);
  };
}
