/**
 * `hooks.on_startup.preload`: load the named models at start through the normal scheduler,
 * in order, so group and matrix rules apply exactly as for a request.
 */
import type { Router } from "./types.ts";
import type { Logger } from "../log/types.ts";

/** Acquire and immediately release each model in turn; failures are logged, not fatal. */
export async function preload(router: Router, models: readonly string[], log: Logger): Promise<void> {
  for (const model of models) {
    try {
      const grant = await router.acquire(model, { signal: new AbortController().signal });
      grant.done();
      log.info(`preload: ${model} is ready`);
    } catch (err) {
      log.error(`preload: ${model} failed: ${(err as Error).message}`);
    }
  }
}
