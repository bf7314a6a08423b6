/** The Activity page's data: the record and stats shapes of the API, filters, query strings and exports. */
import { clock } from "../lib/format.ts";

// The API's shapes are the server's own types (type-only imports: nothing of the server is bundled).
import type { ActivityOutcome, ActivityRecord } from "../../observe/activity.ts";
import type { ActivityPage, ActivityStats, HistogramData } from "../../observe/activity-query.ts";
import type { CaptureJson } from "../../observe/captures.ts";

export type { ActivityRecord, CaptureJson };
/** How a request ended. */
export type Outcome = ActivityOutcome;
/** One page of records (`/api/metrics/activity`). */
export type ActivityPageJson = ActivityPage;
/** A speed histogram of `/api/metrics/stats`. */
export type Histogram = HistogramData;
/** `/api/metrics/stats`. */
export type ActivityStatsJson = ActivityStats;

/** The time ranges the filter offers, in ms back from now (0 = all). */
export const RANGES = [
  ["15m", "Last 15 min", 15 * 60_000],
  ["1h", "Last hour", 60 * 60_000],
  ["24h", "Last 24 h", 24 * 60 * 60_000],
  ["all", "All time", 0],
] as const;

/** A time range id. */
export type RangeId = (typeof RANGES)[number][0];

/** The outcomes the filter offers, with the words the page shows and the colour of each. */
export const OUTCOMES: readonly { id: Outcome; label: string; colour: string }[] = [
  { id: "ok", label: "served", colour: "var(--ok)" },
  { id: "cancelled", label: "cancelled", colour: "var(--warn)" },
  { id: "severed", label: "severed", colour: "var(--info)" },
  { id: "refused", label: "refused", colour: "var(--bad)" },
  { id: "upstream_error", label: "upstream error", colour: "var(--bad)" },
];

/** The label and colour of an outcome. */
export function outcomeInfo(o: string): { label: string; colour: string } {
  return OUTCOMES.find((x) => x.id === o) ?? { label: o || "–", colour: "var(--muted)" };
}

/** What the user filters by. */
export interface Filters {
  /** A model id, or "" for all. */
  model: string;
  range: RangeId;
  /** An outcome, or "" for all (applied here: the API has no outcome filter). */
  outcome: Outcome | "";
}

const FILTER_STORAGE = "switchyard.activity.filters";

/** The filters of this browser's last visit (or none). */
export function storedFilters(): Filters {
  const none: Filters = { model: "", range: "all", outcome: "" };
  try {
    const raw = JSON.parse(localStorage.getItem(FILTER_STORAGE) ?? "null") as Partial<Filters> | null;
    if (!raw || typeof raw !== "object") return none;
    return {
      model: typeof raw.model === "string" ? raw.model : "",
      range: RANGES.some((r) => r[0] === raw.range) ? (raw.range as RangeId) : "all",
      outcome: OUTCOMES.some((o) => o.id === raw.outcome) ? (raw.outcome as Outcome) : "",
    };
  } catch {
    return none;
  }
}

/** Remember the filters for the next visit. */
export function storeFilters(f: Filters): void {
  try {
    localStorage.setItem(FILTER_STORAGE, JSON.stringify(f));
  } catch {}
}

/** The query string of `/api/metrics/activity` for these filters (llama-swap's names: model, start, limit, page). */
export function activityQuery(f: Filters, limit: number, page: number, now = Date.now()): string {
  const q = new URLSearchParams();
  if (f.model) q.set("model", f.model);
  const back = RANGES.find((r) => r[0] === f.range)?.[2] ?? 0;
  if (back > 0) q.set("start", new Date(now - back).toISOString());
  q.set("limit", String(limit));
  q.set("page", String(page));
  return q.toString();
}

/** The records that pass the filters the API does not apply (the outcome). */
export function clientFilter(records: readonly ActivityRecord[], f: Filters): ActivityRecord[] {
  return f.outcome ? records.filter((r) => r.outcome === f.outcome) : [...records];
}

/** A record's time: "HH:MM:SS" today, "YYYY-MM-DD HH:MM:SS" before. */
export function recordTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return clock(iso);
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(iso)}`;
}

/** A rate, or null when the backend reported none. */
export const rate = (v: number): number | null => (v > 0 && Number.isFinite(v) ? v : null);

/** The columns of an export: heading and plain value. */
const EXPORT_COLUMNS: readonly [string, (r: ActivityRecord) => string | number | null][] = [
  ["id", (r) => r.id],
  ["time", (r) => r.timestamp],
  ["model", (r) => r.model],
  ["path", (r) => r.req_path],
  ["status", (r) => r.resp_status_code || null],
  ["outcome", (r) => outcomeInfo(r.outcome).label],
  ["streamed", (r) => (r.streamed ? "yes" : "no")],
  ["queue_wait_ms", (r) => r.queue_wait_ms],
  ["load_wait_ms", (r) => r.load_wait_ms],
  ["ttft_ms", (r) => r.ttft_ms],
  ["duration_ms", (r) => r.duration_ms],
  ["tokens_in", (r) => r.tokens.input_tokens],
  ["tokens_out", (r) => r.tokens.output_tokens],
  ["cached_tokens", (r) => (r.tokens.cache_tokens >= 0 ? r.tokens.cache_tokens : null)],
  ["prompt_tps", (r) => rate(r.tokens.prompt_per_second)],
  ["gen_tps", (r) => rate(r.tokens.tokens_per_second)],
  ["error", (r) => r.error_msg ?? null],
];

const cellValue = (v: string | number | null): string => (v === null ? "" : typeof v === "number" ? String(Math.round(v * 100) / 100) : v);

/** The records as CSV (RFC 4180 quoting). */
export function toCsv(records: readonly ActivityRecord[]): string {
  const quote = (s: string): string => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [EXPORT_COLUMNS.map(([h]) => h).join(",")];
  for (const r of records) lines.push(EXPORT_COLUMNS.map(([, f]) => quote(cellValue(f(r)))).join(","));
  return lines.join("\r\n") + "\r\n";
}

/** The records as a GitHub-flavoured Markdown table. */
export function toMarkdown(records: readonly ActivityRecord[]): string {
  const esc = (s: string): string => s.replace(/\|/g, "\\|").replace(/[\r\n\t]+/g, " ");
  const lines = [`| ${EXPORT_COLUMNS.map(([h]) => h).join(" | ")} |`, `| ${EXPORT_COLUMNS.map(() => "---").join(" | ")} |`];
  for (const r of records) lines.push(`| ${EXPORT_COLUMNS.map(([, f]) => esc(cellValue(f(r))) || "–").join(" | ")} |`);
  return lines.join("\n") + "\n";
}
