/**
 * An unbounded async queue with one consumer: producers never block, the consumer awaits `next()`.
 * The run loop reads its events from one of these.
 */

/** The queue seen by producers and its single consumer. */
export interface Channel<T> {
  /** Enqueue an item (never blocks; dropped after `close()`). */
  push(item: T): void;
  /** The next item, or `null` once the channel is closed and empty. One caller at a time. */
  next(): Promise<T | null>;
  /** Refuse further pushes; a pending or later `next()` resolves `null` once the queue is empty. */
  close(): void;
  /** Items waiting to be taken. */
  readonly size: number;
  /** Whether the consumer is parked in `next()` with nothing queued (so nothing is ahead of a new item). */
  readonly idle: boolean;
  /** Items pushed so far (accepted ones only); lets the loop tell when it has caught up. */
  readonly pushed: number;
  readonly closed: boolean;
}

/** Create an empty channel. */
export function createChannel<T>(): Channel<T> {
  // A ring would avoid shift()'s O(n), but event queues stay short; a head index keeps it O(1) anyway.
  let items: T[] = [];
  let head = 0;
  let waiter: ((item: T | null) => void) | null = null;
  let closed = false;
  let pushed = 0;

  return {
    push(item: T): void {
      if (closed) return;
      pushed++;
      if (waiter) {
        const w = waiter;
        waiter = null;
        w(item);
        return;
      }
      items.push(item);
    },
    next(): Promise<T | null> {
      if (waiter) return Promise.reject(new Error("channel: next() already pending"));
      if (head < items.length) {
        const item = items[head++] as T;
        if (head === items.length) {
          items = [];
          head = 0;
        }
        return Promise.resolve(item);
      }
      if (closed) return Promise.resolve(null);
      return new Promise<T | null>((resolve) => {
        waiter = resolve;
      });
    },
    close(): void {
      if (closed) return;
      closed = true;
      if (waiter && head >= items.length) {
        const w = waiter;
        waiter = null;
        w(null);
      }
    },
    get size() {
      return items.length - head;
    },
    get idle() {
      return waiter !== null && head >= items.length;
    },
    get pushed() {
      return pushed;
    },
    get closed() {
      return closed;
    },
  };
}
