/**
 * A byte-bounded ring of text with live followers.
 *
 * The writer (a child's stdout drain, or the proxy logger) must never wait on a reader, so each
 * follower gets its own bounded queue, delivered in a microtask. A follower whose onText returns
 * a promise is busy until it settles; what arrives meanwhile queues up to the follower's budget,
 * and the excess is replaced by one `[... N bytes dropped ...]` marker. History keeps everything
 * that fits in the ring regardless of followers.
 */
import type { LogStream } from "./types.ts";
import { utf8Length, utf8Tail } from "./utf8.ts";

/** Tuning of one stream. */
export interface LogStreamOptions {
  /** Bytes a follower may have queued before new text is dropped for it (default 256 KiB). */
  followerBytes?: number;
}

/** Default ring size: 1 MiB per stream. */
export const DEFAULT_RING_BYTES = 1024 * 1024;

const DEFAULT_FOLLOWER_BYTES = 256 * 1024;

/** A run of dropped bytes inside a follower's queue. */
interface DropRecord {
  dropped: number;
}

interface Follower {
  onText: (text: string) => void | Promise<void>;
  queue: (string | DropRecord)[];
  queuedBytes: number;
  scheduled: boolean;
  busy: boolean;
  closed: boolean;
}

/** The marker a lagging follower receives in place of the text it lost. */
export function droppedMarker(bytes: number): string {
  return `\n[... ${bytes} bytes dropped ...]\n`;
}

/** Create a ring of at most `maxBytes` UTF-8 bytes with non-blocking followers. */
export function createLogStream(maxBytes: number = DEFAULT_RING_BYTES, opts: LogStreamOptions = {}): LogStream {
  const followerBytes = opts.followerBytes ?? DEFAULT_FOLLOWER_BYTES;
  let chunks: string[] = [];
  let sizes: number[] = [];
  let head = 0;
  let total = 0;
  const followers = new Set<Follower>();

  // Writes drop whole chunks only, so the ring may hold up to one chunk more than maxBytes; the
  // exact cut (never splitting a character) is made when the history is read. Cutting the oldest
  // chunk on every write cost two passes over it per log line once the ring was full.
  function trim(): void {
    while (head < chunks.length - 1 && total - sizes[head]! >= maxBytes) {
      total -= sizes[head]!;
      chunks[head] = "";
      head++;
    }
    if (head > 1024 && head * 2 > chunks.length) {
      chunks = chunks.slice(head);
      sizes = sizes.slice(head);
      head = 0;
    }
  }

  /** Make the ring hold exactly the newest maxBytes (or just under), cutting the oldest chunk's front. */
  function cut(): void {
    trim();
    if (total <= maxBytes || head >= chunks.length) return;
    const size = sizes[head]!;
    const kept = utf8Tail(chunks[head]!, size - (total - maxBytes));
    const keptSize = utf8Length(kept);
    total -= size - keptSize;
    chunks[head] = kept;
    sizes[head] = keptSize;
  }

  function deliver(f: Follower): void {
    f.scheduled = false;
    if (f.closed || f.busy || f.queue.length === 0) return;
    let text = "";
    for (const item of f.queue) text += typeof item === "string" ? item : droppedMarker(item.dropped);
    f.queue = [];
    f.queuedBytes = 0;
    let result: void | Promise<void>;
    try {
      result = f.onText(text);
    } catch {
      return; // a follower's bug must not reach the writer
    }
    if (result && typeof (result as Promise<void>).then === "function") {
      f.busy = true;
      const settle = () => {
        f.busy = false;
        schedule(f);
      };
      (result as Promise<void>).then(settle, settle);
    }
  }

  function schedule(f: Follower): void {
    if (f.scheduled || f.busy || f.closed || f.queue.length === 0) return;
    f.scheduled = true;
    queueMicrotask(() => deliver(f));
  }

  function offer(f: Follower, text: string, size: number): void {
    if (f.queuedBytes + size <= followerBytes) {
      f.queue.push(text);
      f.queuedBytes += size;
    } else {
      const last = f.queue[f.queue.length - 1];
      if (last !== undefined && typeof last !== "string") last.dropped += size;
      else f.queue.push({ dropped: size });
    }
    schedule(f);
  }

  return {
    write(text: string): void {
      if (text.length === 0) return;
      let size = utf8Length(text);
      if (followers.size > 0) for (const f of followers) offer(f, text, size);
      let stored = text;
      if (size > maxBytes) {
        stored = utf8Tail(text, maxBytes);
        size = utf8Length(stored);
      }
      chunks.push(stored);
      sizes.push(size);
      total += size;
      trim();
    },
    history(): string {
      cut();
      return chunks.slice(head).join("");
    },
    subscribe(onText: (text: string) => void | Promise<void>): () => void {
      const f: Follower = { onText, queue: [], queuedBytes: 0, scheduled: false, busy: false, closed: false };
      followers.add(f);
      return () => {
        f.closed = true;
        f.queue = [];
        followers.delete(f);
      };
    },
  };
}
