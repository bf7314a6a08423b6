/** Timer helpers that respect an AbortSignal (web-standard). */

/** The longest delay a timer takes: a longer one fires at once (1 ms) in browsers, Node, Deno and Bun. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Resolve after `ms` (any length: a long wait is taken in timer-sized steps), or reject with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    let timer: ReturnType<typeof setTimeout>;
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const end = Date.now() + ms;
    const wait = (left: number): void => {
      timer = setTimeout(() => {
        const more = end - Date.now();
        if (left > MAX_TIMER_MS && more > 0) return wait(more);
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Math.min(left, MAX_TIMER_MS));
    };
    wait(ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Whether `promise` settles within `ms`, of any length (its result is not consumed). */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const stop = new AbortController();
  const timeout = sleep(ms, stop.signal).then(
    () => false,
    () => false,
  );
  return Promise.race([promise.then(() => true, () => true), timeout]).finally(() => stop.abort());
}
