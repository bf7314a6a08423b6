/**
 * Ordered, asynchronous delivery of a supervisor's events (web-standard): each event reaches the
 * listeners subscribed when it was emitted, one microtask later, so a listener that calls back
 * into the supervisor never re-enters a transition halfway.
 */

/** Publish events to subscribers. */
export interface EventBus<E> {
  /** Queue `ev` for every current listener (still subscribed at delivery). */
  emit(ev: E): void;
  /** Subscribe; returns the unsubscribe function. */
  subscribe(listener: (ev: E) => void): () => void;
}

/** Create a bus; a listener that throws is reported to `onListenerError` and the others still hear the event. */
export function createEventBus<E>(onListenerError: (err: unknown) => void): EventBus<E> {
  const listeners = new Set<(ev: E) => void>();
  return {
    emit(ev) {
      if (listeners.size === 0) return;
      const targets = [...listeners];
      queueMicrotask(() => {
        for (const l of targets) {
          if (!listeners.has(l)) continue;
          try {
            l(ev);
          } catch (err) {
            onListenerError(err);
          }
        }
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
