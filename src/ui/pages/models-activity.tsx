/** A model's ten latest activity records, refetched as records finish. */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { apiJson } from "../lib/api.ts";
import { clock, ms, num } from "../lib/format.ts";
import { href } from "../lib/route.ts";
import { activitySeq } from "../lib/store.ts";
import { isNarrow } from "./models-info.tsx";

/** The fields of an activity record this table shows. */
interface ActivityRecord {
  id: number;
  timestamp: string;
  model: string;
  req_path: string;
  resp_status_code: number;
  tokens: { input_tokens: number; output_tokens: number; tokens_per_second: number };
  duration_ms: number;
  queue_wait_ms: number | null;
  load_wait_ms: number | null;
  ttft_ms: number | null;
  outcome: string;
  error_msg?: string;
}

/** The table of recent requests to `id` (`/api/metrics/activity?model=<id>&limit=10`). */
export function ModelActivity(props: { id: string }) {
  const records = useSignal<ActivityRecord[] | null>(null);
  const error = useSignal("");
  const seq = activitySeq.value;
  useEffect(() => {
    let live = true;
    apiJson<{ data: ActivityRecord[] }>(`/api/metrics/activity?model=${encodeURIComponent(props.id)}&limit=10`).then(
      (r) => {
        if (!live) return;
        records.value = r.data;
        error.value = "";
      },
      (err: unknown) => live && (error.value = err instanceof Error ? err.message : String(err)),
    );
    return () => {
      live = false;
    };
  }, [props.id, seq]);

  if (error.value) return <p role="alert">Could not read activity: {error.value}</p>;
  if (records.value === null) return <p class="muted">Loading…</p>;
  if (records.value.length === 0) return <p class="muted">No requests to this model yet.</p>;
  const all = (
    <p style={{ margin: "6px 0 0" }}>
      <a href={href("activity")}>All activity</a>
    </p>
  );
  if (isNarrow())
    return (
      <>
        <ul style={{ margin: 0, paddingLeft: "18px" }}>
          {records.value.map((r) => (
            <li key={r.id} data-testid={`detail-activity-${r.id}`}>
              <span class="mono">{clock(r.timestamp)}</span> {r.resp_status_code || "–"} {r.outcome}, {ms(r.duration_ms)}
              <br />
              <small class="muted">
                {r.req_path} · {num(r.tokens.input_tokens)} in / {num(r.tokens.output_tokens)} out · load {ms(r.load_wait_ms)} · queue {ms(r.queue_wait_ms)}
              </small>
            </li>
          ))}
        </ul>
        {all}
      </>
    );
  return (
    <>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Path</th>
              <th scope="col" class="num">Status</th>
              <th scope="col">Outcome</th>
              <th scope="col" class="num">Queue</th>
              <th scope="col" class="num">Load</th>
              <th scope="col" class="num">TTFT</th>
              <th scope="col" class="num">Duration</th>
              <th scope="col" class="num">Tokens in / out</th>
              <th scope="col" class="num">Tok/s</th>
            </tr>
          </thead>
          <tbody>
            {records.value.map((r) => (
              <tr key={r.id} data-testid={`detail-activity-${r.id}`}>
                <td class="mono">{clock(r.timestamp)}</td>
                <td class="mono">{r.req_path}</td>
                <td class="num">{r.resp_status_code || "–"}</td>
                <td title={r.error_msg || undefined}>{r.outcome}</td>
                <td class="num">{ms(r.queue_wait_ms)}</td>
                <td class="num">{ms(r.load_wait_ms)}</td>
                <td class="num">{ms(r.ttft_ms)}</td>
                <td class="num">{ms(r.duration_ms)}</td>
                <td class="num">
                  {num(r.tokens.input_tokens)} / {num(r.tokens.output_tokens)}
                </td>
                <td class="num">{r.tokens.tokens_per_second > 0 ? num(r.tokens.tokens_per_second, 1) : "–"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {all}
    </>
  );
}
