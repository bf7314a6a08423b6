/**
 * The run loop: the single consumer of the router's event channel and the only caller of the
 * scheduler, so routing state has exactly one writer. Slow work (stops, starts) runs elsewhere and
 * comes back as events on the same channel. `handleNow` lets the router hand it a request or a
 * finished serve directly when nothing is ahead of it (one promise hop less on the hot path).
 */
import type { Channel } from "./channel.ts";
import type { RouteRequest, Scheduler, SwapOutcome, UnloadOrder } from "./seams.ts";

/** Everything that can happen to routing state. */
export type LoopEvent =
  | { type: "request"; req: RouteRequest }
  | { type: "cancel"; id: number }
  | { type: "swap-done"; swapId: number; outcome: SwapOutcome }
  | { type: "serve-done"; id: number }
  | { type: "unload"; order: UnloadOrder }
  | { type: "unload-done"; model: string }
  | { type: "shutdown"; ticket: number }
  | { type: "timer" }
  | { type: "state-change"; model: string }
  /** A config reload: `apply` switches routing state in one step (router.ts builds it). */
  | { type: "reconfigure"; apply: () => void }
  /** A model's memory was measured: `apply` records it in the ledger, then the queue is re-examined. */
  | { type: "memory"; model: string; apply: () => void };

/** A running loop. */
export interface Loop {
  /** Resolves once every event pushed so far has been handled. */
  settled(): Promise<void>;
  /** Resolves when the channel is closed and drained. */
  readonly stopped: Promise<void>;
  /**
   * Handle `ev` now, on the caller's stack, when the loop is parked with nothing queued and is not
   * handling another event; false otherwise (then post it). Same order, same single writer.
   */
  handleNow(ev: LoopEvent): boolean;
}

/** Hand one event to the scheduler. */
export function dispatchEvent(scheduler: Scheduler, ev: LoopEvent): void {
  switch (ev.type) {
    case "request":
      return scheduler.onRequest(ev.req);
    case "cancel":
      return scheduler.onCancel(ev.id);
    case "swap-done":
      return scheduler.onSwapDone(ev.swapId, ev.outcome);
    case "serve-done":
      return scheduler.onServeDone(ev.id);
    case "unload":
      return scheduler.onUnload(ev.order);
    case "unload-done":
      return scheduler.onUnloadDone(ev.model);
    case "shutdown":
      return scheduler.onShutdown(ev.ticket);
    case "timer":
      return scheduler.onTimer();
    case "state-change":
      return scheduler.onStateChange(ev.model);
    case "reconfigure":
      return ev.apply();
    case "memory":
      ev.apply();
      return scheduler.onStateChange(ev.model);
  }
}

/** Start draining `channel` into `scheduler`; `onError` hears about an event whose handling threw. */
export function createLoop(
  channel: Channel<LoopEvent>,
  scheduler: Scheduler,
  onError: (err: unknown, ev: LoopEvent) => void,
): Loop {
  let processed = 0;
  let handling = false;
  const handle = (ev: LoopEvent): void => {
    handling = true;
    try {
      dispatchEvent(scheduler, ev);
    } catch (err) {
      // A throwing handler is a bug; the loop must survive it or every later request would hang.
      onError(err, ev);
    } finally {
      handling = false;
    }
  };
  let waiters: (() => void)[] = [];
  const flush = (): void => {
    const ws = waiters;
    waiters = [];
    for (const w of ws) w();
  };

  const stopped = (async () => {
    for (;;) {
      const ev = await channel.next();
      if (ev === null) break;
      handle(ev);
      processed++;
      if (processed === channel.pushed) flush();
    }
    flush();
  })();

  return {
    settled() {
      if (processed === channel.pushed) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    stopped,
    handleNow(ev) {
      // A closed channel has no parked consumer, so it is never idle.
      if (handling || !channel.idle) return false;
      handle(ev);
      return true;
    },
  };
}
