/** Loading the Activity page's data: a page of records, the newest records for charts and exports, and the stats. */
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, apiJson, apiKey } from "../lib/api.ts";
import { activitySeq } from "../lib/store.ts";
import { activityQuery, type ActivityPageJson, type ActivityRecord, type ActivityStatsJson, type Filters } from "./activity-data.ts";

/** How many of the newest matching records the charts, per-model speeds and exports cover (the API's maximum limit). */
export const WINDOW = 999;

/** How long after a finished record the page refetches (records arriving meanwhile share the fetch). */
const REFRESH_DELAY_MS = 500;

/** What the page has loaded. */
export interface Loaded {
  /** The table's page from the API (null when the outcome filter pages on this side). */
  page: ActivityPageJson | null;
  /** The newest records matching the API's filters (up to WINDOW). */
  window: ActivityRecord[];
  /** How many records match the API's filters in all. */
  windowTotal: number;
  stats: ActivityStatsJson | null;
}

/** Load (and keep current, as records finish) what the page shows; `onPageGone` is told when `page` no longer exists. */
export function useActivityData(filters: Filters, page: number, limit: number, onPageGone: () => void): { data: Loaded | null; error: string; reload: () => void } {
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState("");
  const latest = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const load = async (): Promise<void> => {
    const id = ++latest.current;
    const now = Date.now();
    try {
      const [p, w, s] = await Promise.all([
        filters.outcome ? Promise.resolve(null) : apiJson<ActivityPageJson>(`/api/metrics/activity?${activityQuery(filters, limit, page, now)}`),
        apiJson<ActivityPageJson>(`/api/metrics/activity?${activityQuery(filters, WINDOW, 1, now)}`),
        apiJson<ActivityStatsJson>(`/api/metrics/stats${filters.model ? `?model=${encodeURIComponent(filters.model)}` : ""}`),
      ]);
      if (id !== latest.current) return;
      setData({ page: p, window: w.data, windowTotal: w.total, stats: s });
      setError("");
    } catch (err) {
      if (id !== latest.current) return;
      // Records aged out of the time range (or the ring): the page asked for is past the last.
      if (err instanceof ApiError && err.status === 400 && page > 1) return onPageGone();
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const loadRef = useRef(load);
  loadRef.current = load;

  const key = apiKey.value;
  useEffect(() => {
    void load();
  }, [filters.model, filters.range, filters.outcome, page, limit, key]);

  // A finished record: refetch once, shortly after (not once per record).
  const seq = activitySeq.value;
  const seenSeq = useRef(seq);
  useEffect(() => {
    if (seq === seenSeq.current) return;
    seenSeq.current = seq;
    if (timer.current !== null) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      void loadRef.current();
    }, REFRESH_DELAY_MS);
  }, [seq]);
  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
    },
    [],
  );

  return { data, error, reload: () => void loadRef.current() };
}
