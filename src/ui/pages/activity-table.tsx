/** The table of finished requests (one page of activity records) and its pager. */
import { ms, num } from "../lib/format.ts";
import { href } from "../lib/route.ts";
import { outcomeInfo, rate, recordTime, type ActivityRecord } from "./activity-data.ts";

const speed = (v: number): string => {
  const r = rate(v);
  return r === null ? "–" : num(r, r >= 100 ? 0 : 1);
};

const statusColour = (s: number): string => (s === 0 ? "var(--muted)" : s < 300 ? "var(--ok)" : s < 500 ? "var(--warn)" : "var(--bad)");

function Row(props: { r: ActivityRecord; onCapture: (id: number) => void }) {
  const r = props.r;
  const o = outcomeInfo(r.outcome);
  return (
    <tr data-testid={`activity-row-${r.id}`} style={{ whiteSpace: "nowrap" }}>
      <td class="num">{r.id}</td>
      <td class="mono" title={r.timestamp}>
        {recordTime(r.timestamp)}
      </td>
      <td>
        <a href={href("models", r.model)}>{r.model}</a>
      </td>
      <td class="num" style={{ color: statusColour(r.resp_status_code) }}>
        {r.resp_status_code || "–"}
      </td>
      <td>
        <span class="badge" style={{ color: o.colour }} title={r.error_msg || undefined} data-testid="outcome">
          {o.label}
        </span>
      </td>
      <td>
        {r.has_capture ? (
          <button type="button" class="ghost" data-testid={`capture-${r.id}`} onClick={() => props.onCapture(r.id)} aria-label={`View capture of request ${r.id}`} style={{ padding: "1px 8px" }}>
            View
          </button>
        ) : (
          <span class="muted">–</span>
        )}
      </td>
      <td class="mono">{r.req_path}</td>
      <td>{r.streamed ? "yes" : "no"}</td>
      <td class="num">{ms(r.queue_wait_ms)}</td>
      <td class="num">{ms(r.load_wait_ms)}</td>
      <td class="num">{ms(r.ttft_ms)}</td>
      <td class="num">{ms(r.duration_ms)}</td>
      <td class="num" data-testid="tokens-in">
        {num(r.tokens.input_tokens)}
      </td>
      <td class="num" data-testid="tokens-out">
        {num(r.tokens.output_tokens)}
      </td>
      <td class="num">{r.tokens.cache_tokens >= 0 ? num(r.tokens.cache_tokens) : "–"}</td>
      <td class="num">{speed(r.tokens.prompt_per_second)}</td>
      <td class="num">{speed(r.tokens.tokens_per_second)}</td>
      <td class="muted" title={r.error_msg || undefined} style={{ maxWidth: "320px", overflow: "hidden", textOverflow: "ellipsis" }}>
        {r.error_msg || ""}
      </td>
    </tr>
  );
}

const HEAD: readonly [string, boolean][] = [
  ["#", true],
  ["Time", false],
  ["Model", false],
  ["Status", true],
  ["Outcome", false],
  ["Capture", false],
  ["Path", false],
  ["Stream", false],
  ["Queue", true],
  ["Load", true],
  ["TTFT", true],
  ["Duration", true],
  ["Tokens in", true],
  ["Tokens out", true],
  ["Cached", true],
  ["Prompt tok/s", true],
  ["Gen tok/s", true],
  ["Error", false],
];

/** The records of one page (`data-testid="activity-table"`); `onCapture` opens a record's capture. */
export function ActivityTable(props: { records: readonly ActivityRecord[]; loading: boolean; onCapture: (id: number) => void }) {
  return (
    <div class="table-wrap">
      <table data-testid="activity-table">
        <thead>
          <tr>
            {HEAD.map(([h, n]) => (
              <th scope="col" class={n ? "num" : undefined} style={{ whiteSpace: "nowrap" }}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.records.length === 0 ? (
            <tr data-testid="activity-empty">
              <td colSpan={HEAD.length} class="muted">
                {props.loading ? "Loading…" : "No requests match."}
              </td>
            </tr>
          ) : (
            props.records.map((r) => <Row key={r.id} r={r} onCapture={props.onCapture} />)
          )}
        </tbody>
      </table>
    </div>
  );
}

/** Prev / Next over pages, with the page size. */
export function Pager(props: { page: number; pages: number; total: number; limit: number; onPage: (p: number) => void; onLimit: (n: number) => void }) {
  return (
    <div class="row" style={{ marginTop: "8px" }}>
      <button type="button" class="ghost" data-testid="page-prev" disabled={props.page <= 1} onClick={() => props.onPage(props.page - 1)}>
        ‹ Prev
      </button>
      <span data-testid="page-info" aria-live="polite">
        Page {props.page} of {Math.max(1, props.pages)} <span class="muted">· {num(props.total)} records</span>
      </span>
      <button type="button" class="ghost" data-testid="page-next" disabled={props.page >= props.pages} onClick={() => props.onPage(props.page + 1)}>
        Next ›
      </button>
      <span class="spacer" />
      <label>
        <span class="muted">Per page </span>
        <select data-testid="page-size" value={String(props.limit)} onChange={(e) => props.onLimit(Number((e.target as HTMLSelectElement).value))}>
          {[25, 50, 100, 200].map((n) => (
            <option value={String(n)}>{n}</option>
          ))}
        </select>
      </label>
    </div>
  );
}
