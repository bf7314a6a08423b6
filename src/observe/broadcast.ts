/**
 * A broadcast channel for observations: `publish` never blocks and never throws, whatever the
 * subscribers do. Each subscriber has its own bounded queue drained one macrotask later; a
 * subscriber that falls behind (its queue full, or its handler still busy with a promise) loses
 * events and is told so with one gap marker carrying the count, then goes on with new events.
 * Observing must never slow serving (web-standard).
 */

/** What a subscriber receives: an event, or a gap marker standing for the events it lost. */
export type Delivery<E> = { kind: "event"; event: E } | { kind: "gap"; dropped: number };

/** A subscriber's handler; a returned promise keeps the subscriber busy until it settles. */
export type Subscriber<E> = (d: Delivery<E>) => void | Promise<void>;

/** The channel. */
export interface Broadcast<E> {
  /** Hand `event` to every subscriber (queued; delivered later). O(subscribers). */
  publish(event: E): void;
  /** Subscribe; returns the unsubscribe function. `maxQueued` bounds what may wait for it. */
  subscribe(fn: Subscriber<E>, opts?: { maxQueued?: number }): () => void;
  /** Subscribers now (for diagnostics). */
  readonly size: number;
}

const DEFAULT_MAX_QUEUED = 1024;

interface Sub<E> {
  fn: Subscriber<E>;
  max: number;
  queue: E[];
  dropped: number;
  scheduled: boolean;
  busy: boolean;
  closed: boolean;
}

/** Create a broadcast channel; `onError` hears of a subscriber that threw (default: ignored). */
export function createBroadcast<E>(onError: (err: unknown) => void = () => {}): Broadcast<E> {
  const subs = new Set<Sub<E>>();

  const call = (s: Sub<E>, d: Delivery<E>): void => {
    let r: void | Promise<void>;
    try {
      r = s.fn(d);
    } catch (err) {
      onError(err);
      return;
    }
    if (r && typeof (r as Promise<void>).then === "function") {
      s.busy = true;
      (r as Promise<void>).then(
        () => finishBusy(s),
        (err: unknown) => {
          onError(err);
          finishBusy(s);
        },
      );
    }
  };

  const finishBusy = (s: Sub<E>): void => {
    s.busy = false;
    if (s.queue.length > 0 || s.dropped > 0) schedule(s);
  };

  /** Deliver what is queued; stop early when the handler becomes busy. */
  const drain = (s: Sub<E>): void => {
    s.scheduled = false;
    if (s.closed) return;
    if (s.dropped > 0 && !s.busy) {
      const dropped = s.dropped;
      s.dropped = 0;
      call(s, { kind: "gap", dropped });
    }
    while (!s.busy && !s.closed && s.queue.length > 0) call(s, { kind: "event", event: s.queue.shift() as E });
  };

  const schedule = (s: Sub<E>): void => {
    if (s.scheduled || s.closed) return;
    s.scheduled = true;
    // A macrotask, not a microtask: the publisher's whole turn (one loop decision, one chunk)
    // completes before any observer runs.
    setTimeout(() => drain(s), 0);
  };

  return {
    publish(event) {
      for (const s of subs) {
        if (s.queue.length >= s.max) s.dropped++;
        else s.queue.push(event);
        if (!s.busy) schedule(s);
      }
    },
    subscribe(fn, opts = {}) {
      const s: Sub<E> = { fn, max: Math.max(1, opts.maxQueued ?? DEFAULT_MAX_QUEUED), queue: [], dropped: 0, scheduled: false, busy: false, closed: false };
      subs.add(s);
      return () => {
        s.closed = true;
        s.queue = [];
        subs.delete(s);
      };
    },
    get size() {
      return subs.size;
    },
  };
}
