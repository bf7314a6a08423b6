/**
 * Queries over activity records, as llama-swap's `/api/metrics/activity` and `/api/metrics/stats`
 * take them: filters (model, time range, id range), a whitelisted sort, order, pages; and the
 * totals with prompt- and generation-speed histograms. Bad input is an ActivityQueryError with a
 * message a person can act on (an unknown filter, an inverted range, a page past the last).
 * Web-standard.
 */
import type { ActivityRecord } from "./activity.ts";

/** A query the caller got wrong (the HTTP layer answers 400 with the message). */
export class ActivityQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ActivityQueryError";
  }
}

/** A parsed query. */
export interface ActivityQuery {
  models: string[];
  /** Inclusive bounds on the arrival time, epoch ms; null = unbounded. */
  start: number | null;
  end: number | null;
  /** Inclusive bounds on the id; null = unbounded. */
  minId: number | null;
  maxId: number | null;
  limit: number;
  page: number;
  sort: SortKey;
  order: "asc" | "desc";
}

/** One page of records, in llama-swap's shape. */
export interface ActivityPage {
  data: ActivityRecord[];
  page: number;
  limit: number;
  total: number;
  total_pages: number;
}

/** A histogram of a per-request rate, in llama-swap's shape. */
export interface HistogramData {
  bins: number[];
  min: number;
  max: number;
  binSize: number;
  p50: number;
  p95: number;
  p99: number;
}

/** Totals over the records, in llama-swap's shape. */
export interface ActivityStats {
  total_requests: number;
  total_input_tokens: number;
  total_output_tokens: number;
  total_cache_tokens: number;
  prompt_histogram: HistogramData | null;
  gen_histogram: HistogramData | null;
}

/** llama-swap's sortable keys (its UI's column ids) and what each sorts by. */
const SORT_KEYS = {
  id: (r: ActivityRecord) => r.id,
  time: (r: ActivityRecord) => r.timestamp,
  model: (r: ActivityRecord) => r.model,
  req_path: (r: ActivityRecord) => r.req_path,
  resp_status_code: (r: ActivityRecord) => r.resp_status_code,
  resp_content_type: (r: ActivityRecord) => r.resp_content_type,
  cached: (r: ActivityRecord) => r.tokens.cache_tokens,
  prompt: (r: ActivityRecord) => r.tokens.input_tokens,
  generated: (r: ActivityRecord) => r.tokens.output_tokens,
  drafted: (r: ActivityRecord) => r.tokens.draft_tokens,
  prompt_speed: (r: ActivityRecord) => r.tokens.prompt_per_second,
  gen_speed: (r: ActivityRecord) => r.tokens.tokens_per_second,
  duration: (r: ActivityRecord) => r.duration_ms,
} as const;

/** A sortable key. */
export type SortKey = keyof typeof SORT_KEYS;

const PARAMS = new Set(["model", "start", "end", "min_id", "max_id", "limit", "page", "sort", "order"]);
const DEFAULT_LIMIT = 25;

/** RFC 3339 with a zone, as Go's time.RFC3339 parses it. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function time(params: URLSearchParams, name: string): number | null {
  const raw = params.get(name)?.trim();
  if (!raw) return null;
  const t = RFC3339.test(raw) ? Date.parse(raw) : NaN;
  if (!Number.isFinite(t)) throw new ActivityQueryError(`invalid '${name}' timestamp, use RFC3339 format`);
  return t;
}

function id(params: URLSearchParams, name: string): number | null {
  const raw = params.get(name)?.trim();
  if (!raw) return null;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1) throw new ActivityQueryError(`${name} must be >= 1`);
  return n;
}

/** Parse `/api/metrics/activity`'s query string; throws ActivityQueryError. */
export function parseActivityQuery(params: URLSearchParams): ActivityQuery {
  for (const key of params.keys()) {
    if (!PARAMS.has(key)) throw new ActivityQueryError(`unknown filter "${key}" (known: ${[...PARAMS].join(", ")})`);
  }
  const models = params
    .getAll("model")
    .map((m) => m.trim())
    .filter((m) => m !== "");
  const start = time(params, "start");
  const end = time(params, "end");
  if (start !== null && end !== null && start > end) throw new ActivityQueryError("start must be before end");
  const minId = id(params, "min_id");
  const maxId = id(params, "max_id");
  if (minId !== null && maxId !== null && minId > maxId) throw new ActivityQueryError("min_id must be <= max_id");
  let limit = DEFAULT_LIMIT;
  const rawLimit = params.get("limit")?.trim();
  if (rawLimit) {
    limit = Number(rawLimit);
    if (!/^\d+$/.test(rawLimit)) throw new ActivityQueryError("invalid limit");
    if (limit < 1 || limit > 999) throw new ActivityQueryError("limit must be between 1 and 999");
  }
  let page = 1;
  const rawPage = params.get("page")?.trim();
  if (rawPage) {
    page = Number(rawPage);
    if (!/^\d+$/.test(rawPage) || page < 1) throw new ActivityQueryError("page must be >= 1");
  }
  const rawSort = params.get("sort")?.trim();
  if (rawSort && !Object.hasOwn(SORT_KEYS, rawSort)) throw new ActivityQueryError(`invalid sort column "${rawSort}" (known: ${Object.keys(SORT_KEYS).join(", ")})`);
  const rawOrder = params.get("order")?.trim().toLowerCase();
  if (rawOrder && rawOrder !== "asc" && rawOrder !== "desc") throw new ActivityQueryError("order must be asc or desc");
  return { models, start, end, minId, maxId, limit, page, sort: (rawSort as SortKey | undefined) ?? "id", order: (rawOrder as "asc" | "desc" | undefined) ?? "desc" };
}

/** The page the query asks for; a page past the last (when there are records) is an error. */
export function queryActivity(records: readonly ActivityRecord[], q: ActivityQuery): ActivityPage {
  const models = new Set(q.models);
  const matching = records.filter((r) => {
    if (models.size > 0 && !models.has(r.model)) return false;
    const t = Date.parse(r.timestamp);
    if (q.start !== null && t < q.start) return false;
    if (q.end !== null && t > q.end) return false;
    if (q.minId !== null && r.id < q.minId) return false;
    if (q.maxId !== null && r.id > q.maxId) return false;
    return true;
  });
  const key = SORT_KEYS[q.sort];
  const sign = q.order === "asc" ? 1 : -1;
  matching.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    // Ties fall back to the id, so a page boundary is stable.
    return (x < y ? -1 : x > y ? 1 : 0) * sign || (a.id - b.id) * sign;
  });
  const total = matching.length;
  const totalPages = Math.ceil(total / q.limit);
  if (total > 0 && q.page > totalPages) throw new ActivityQueryError(`page ${q.page} is out of range: there ${totalPages === 1 ? "is 1 page" : `are ${totalPages} pages`}`);
  return { data: matching.slice((q.page - 1) * q.limit, q.page * q.limit), page: q.page, limit: q.limit, total, total_pages: totalPages };
}

const BINS = 20;

function histogram(values: number[]): HistogramData | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const min = sorted[0]!;
  const max = sorted[sorted.length - 1]!;
  const binSize = max > min ? (max - min) / BINS : 1;
  const bins = new Array<number>(BINS).fill(0);
  for (const v of sorted) bins[Math.min(BINS - 1, Math.floor((v - min) / binSize))]!++;
  const pct = (p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { bins, min, max, binSize, p50: pct(50), p95: pct(95), p99: pct(99) };
}

/** Totals and speed histograms over the records (of one model when `model` is given). */
export function activityStats(records: readonly ActivityRecord[], model?: string): ActivityStats {
  const rs = model ? records.filter((r) => r.model === model) : records;
  return {
    total_requests: rs.length,
    total_input_tokens: rs.reduce((s, r) => s + r.tokens.input_tokens, 0),
    total_output_tokens: rs.reduce((s, r) => s + r.tokens.output_tokens, 0),
    total_cache_tokens: rs.reduce((s, r) => s + Math.max(0, r.tokens.cache_tokens), 0),
    prompt_histogram: histogram(rs.map((r) => r.tokens.prompt_per_second).filter((v) => v > 0)),
    gen_histogram: histogram(rs.map((r) => r.tokens.tokens_per_second).filter((v) => v > 0)),
  };
}
