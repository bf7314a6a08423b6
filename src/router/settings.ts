/**
 * Scheduler settings read from the resolved configuration.
 */
import type { Config } from "../config/types.ts";
import type { SchedulerSettings } from "./seams.ts";

/** Settings for the models this router handles (`models`, a subset of `config.models`). */
export function schedulerSettings(config: Config, models: readonly string[]): SchedulerSettings {
  const priority = config.routing.fifo.priority;
  return {
    models: [...models],
    concurrencyLimit: (m) => config.models[m]?.concurrencyLimit ?? 0,
    drainTimeoutSec: (m) => config.models[m]?.drainTimeout ?? config.drainTimeout,
    priority: (m) => (Object.hasOwn(priority, m) ? (priority[m] as number) : 0),
    maxWaitSec: config.routing.fifo.maxWait,
  };
}
