/**
 * Where activity records are kept and queried: the port that `/api/metrics/activity` and
 * `/api/metrics/stats` read, with the in-memory implementation over the activity log's ring.
 * A persistent store (bun:sqlite, at the edge) implements the same port (web-standard).
 */
import type { ActivityLog, ActivityRecord } from "./activity.ts";
import { activityStats, queryActivity, type ActivityPage, type ActivityQuery, type ActivityStats } from "./activity-query.ts";

/** A place records go and are read back from. */
export interface ActivityStore {
  /** Take a finished record (never blocks: a persistent store writes in batches, off the request path). */
  add(record: ActivityRecord): void;
  /** The page a query asks for (ActivityQueryError for a page past the last). */
  query(q: ActivityQuery): ActivityPage;
  /** Totals and speed histograms, of one model when given. */
  stats(model?: string): ActivityStats;
  /** The highest id kept (0 when none): a new activity log continues after it. */
  lastId(): number;
  /** Write what is waiting now (a no-op in memory). */
  flush(): void;
  /** Flush and release the store. */
  close(): void;
}

/** The store of a process without a database: the activity log's own ring. */
export function createMemoryActivityStore(log: Pick<ActivityLog, "recent">): ActivityStore {
  return {
    add() {},
    query: (q) => queryActivity(log.recent(), q),
    stats: (model) => activityStats(log.recent(), model),
    lastId: () => log.recent().at(-1)?.id ?? 0,
    flush() {},
    close() {},
  };
}
