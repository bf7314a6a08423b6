/**
 * The TTL clock of one model (web-standard). It counts idle time only: the router says when the
 * model is busy (requests in flight) and when it is not; the supervisor says when the model became
 * ready and when it left `ready`. An idle period fires `onIdle` at most once.
 */

import { MAX_TIMER_MS } from "./abortable-sleep.ts";

/** One model's TTL timer. */
export interface IdleTimer {
  /** Busy cancels the idle period; not busy starts a new one. Repeating the same value does nothing. */
  setBusy(busy: boolean): void;
  /** The model became ready: a new idle period starts, unless it is busy. */
  restart(): void;
  /** The model left `ready` (or shut down): no idle period runs. */
  cancel(): void;
  /** A new TTL; an idle period under way starts over with it. */
  setTtl(seconds: number): void;
}

/** What an IdleTimer needs. */
export interface IdleTimerOptions {
  /** The TTL in seconds; 0 or less: never idle. */
  ttlSeconds: number;
  /** Whether the model is ready (checked again when the timer fires). */
  isReady(): boolean;
  /** The TTL elapsed with nothing in flight. */
  onIdle(): void;
}

/** Create an idle (not busy) timer; nothing runs until restart() or setBusy(false). */
export function createIdleTimer(opts: IdleTimerOptions): IdleTimer {
  let ttlSeconds = opts.ttlSeconds;
  let busy = false;
  let timer: ReturnType<typeof setTimeout> | null = null;

  function cancel(): void {
    if (timer) clearTimeout(timer);
    timer = null;
  }

  /** A new idle period starts: arm the timer once. */
  function restart(): void {
    cancel();
    if (ttlSeconds <= 0 || !opts.isReady() || busy) return;
    const due = Date.now() + ttlSeconds * 1000;
    // A TTL past a timer's reach (about 24.8 days) is taken in steps: a longer delay fires at once.
    const arm = (left: number): void => {
      timer = setTimeout(() => {
        timer = null;
        const more = due - Date.now();
        if (left > MAX_TIMER_MS && more > 0) return arm(more);
        if (!opts.isReady() || busy) return;
        opts.onIdle();
      }, Math.min(left, MAX_TIMER_MS));
    };
    arm(ttlSeconds * 1000);
  }

  return {
    setBusy(next) {
      if (next === busy) return;
      busy = next;
      if (busy) cancel();
      else restart();
    },
    restart,
    cancel,
    setTtl(seconds) {
      ttlSeconds = seconds;
      if (timer !== null || (!busy && opts.isReady())) restart();
    },
  };
}
