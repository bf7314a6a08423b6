/** Wall-clock time with sub-millisecond resolution, comparable across processes on one machine. */

/** Milliseconds since the epoch, fractional (performance.timeOrigin + performance.now()). */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Resolve after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `cond` every `stepMs` until it is true (returns true) or `ms` passes (returns false). */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, stepMs = 10): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (performance.now() > deadline) return false;
    await sleep(stepMs);
  }
}
