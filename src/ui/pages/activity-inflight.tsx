/** The requests open now, live from the `inflight` signal, each with a Cancel button. */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { apiFetch, errorMessage } from "../lib/api.ts";
import { bytes, clock, ms } from "../lib/format.ts";
import { href } from "../lib/route.ts";
import { inflight, type InflightEntry } from "../lib/store.ts";

const STATE_COLOUR: Record<InflightEntry["state"], string> = { queued: "var(--warn)", loading: "var(--info)", serving: "var(--ok)" };

function StateBadge(props: { entry: InflightEntry }) {
  const e = props.entry;
  const text = e.state === "queued" && e.queue_position > 0 ? `queued #${e.queue_position}` : e.state;
  return (
    <span class="badge" style={{ color: STATE_COLOUR[e.state] ?? "var(--muted)" }}>
      {text}
    </span>
  );
}

/** Elapsed time that ticks between server updates: the last elapsed_ms seen plus the time since. */
function useElapsed(entries: InflightEntry[]): (e: InflightEntry) => number {
  const seen = useRef(new Map<string, { elapsed: number; at: number }>());
  const now = useSignal(performance.now());
  const open = entries.length > 0;
  useEffect(() => {
    if (!open) return;
    const t = setInterval(() => (now.value = performance.now()), 500);
    return () => clearInterval(t);
  }, [open]);
  const t = now.value;
  const ids = new Set(entries.map((e) => e.id));
  for (const id of seen.current.keys()) if (!ids.has(id)) seen.current.delete(id);
  return (e) => {
    let s = seen.current.get(e.id);
    if (!s || s.elapsed !== e.elapsed_ms) {
      s = { elapsed: e.elapsed_ms, at: performance.now() };
      seen.current.set(e.id, s);
    }
    return s.elapsed + Math.max(0, t - s.at);
  };
}

/** The table of in-flight requests (`data-testid="inflight-table"`), or a note when there are none. */
export function InflightTable() {
  const entries = [...inflight.value.values()].sort((a, b) => Number(a.id) - Number(b.id));
  const elapsed = useElapsed(entries);
  const pending = useSignal<Set<string>>(new Set());
  const error = useSignal("");

  const cancel = async (id: string): Promise<void> => {
    pending.value = new Set([...pending.value, id]);
    try {
      const res = await apiFetch(`/api/inflight/${encodeURIComponent(id)}/cancel`, { method: "POST" });
      error.value = res.ok ? "" : `Could not cancel request ${id}: ${await errorMessage(res)}`;
      if (res.ok) await res.body?.cancel();
    } catch (err) {
      error.value = `Could not cancel request ${id}: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      const next = new Set(pending.value);
      next.delete(id);
      pending.value = next;
    }
  };

  return (
    <section class="card" aria-labelledby="inflight-title">
      <h2 id="inflight-title" style={{ marginTop: 0 }}>
        In flight <span class="muted">({entries.length})</span>
      </h2>
      {error.value && (
        <p role="alert" style={{ color: "var(--bad)", margin: "0 0 8px" }}>
          {error.value}
        </p>
      )}
      <div class="table-wrap">
        <table data-testid="inflight-table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Model</th>
              <th scope="col">State</th>
              <th scope="col" class="num">Elapsed</th>
              <th scope="col" class="num">Bytes out</th>
              <th scope="col">Action</th>
              <th scope="col">Path</th>
              <th scope="col">Started</th>
              <th scope="col">Client</th>
            </tr>
          </thead>
          <tbody>
            {entries.length === 0 ? (
              <tr data-testid="inflight-empty">
                <td colSpan={9} class="muted">
                  No requests in flight.
                </td>
              </tr>
            ) : (
              entries.map((e) => (
                <tr key={e.id} data-testid={`inflight-row-${e.id}`} style={{ whiteSpace: "nowrap" }}>
                  <td class="num">{e.id}</td>
                  <td>
                    <a href={href("models", e.model)}>{e.model}</a>
                  </td>
                  <td>
                    <StateBadge entry={e} />
                  </td>
                  <td class="num" data-testid="elapsed">
                    {ms(elapsed(e))}
                  </td>
                  <td class="num">{bytes(e.resp_bytes)}</td>
                  <td>
                    <button type="button" class="danger" data-testid={`cancel-${e.id}`} disabled={pending.value.has(e.id)} onClick={() => void cancel(e.id)} aria-label={`Cancel request ${e.id} to ${e.model}`} style={{ padding: "1px 10px" }}>
                      Cancel
                    </button>
                  </td>
                  <td class="mono">
                    <span class="muted">{e.method}</span> {e.req_path}
                    {e.streamed && <span class="muted"> · stream</span>}
                  </td>
                  <td class="mono">{clock(e.timestamp)}</td>
                  <td class="mono">{e.remote_ip || "–"}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
