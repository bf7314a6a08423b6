/**
 * Coalesces many small writes (one access-log line per request) into one write per event-loop
 * turn: a synchronous stdout write per line costs more CPU than proxying a small request.
 * Text is never held longer than one macrotask; `flush()` empties it at once (for exit paths).
 */

/** A writer that batches; `write` never blocks. */
export interface BatchedWriter {
  write(text: string): void;
  /** Write whatever is pending now. */
  flush(): void;
}

/** Wrap `sink` so that writes within one turn reach it as one call. */
export function createBatchedWriter(sink: (text: string) => void, schedule: (fn: () => void) => void = (fn) => setTimeout(fn, 0)): BatchedWriter {
  let pending: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.length === 1 ? pending[0] : pending.join("");
    pending = [];
    sink(text);
  };
  return {
    write(text) {
      pending.push(text);
      if (!scheduled) {
        scheduled = true;
        schedule(flush);
      }
    },
    flush,
  };
}
