/** Who waits for a model (queue position, ticking wait, cancel) and why its last swap happened. */
import { useSignal } from "@preact/signals";
import { clock, ms } from "../lib/format.ts";
import type { InflightEntry } from "../lib/store.ts";
import { elapsedOf, postAdmin, useNow, type SwapInfo } from "./models-info.tsx";

/** One waiting request, with a Cancel button. */
function Waiter(props: { entry: InflightEntry; now: number }) {
  const e = props.entry;
  const error = useSignal("");
  const place = e.state === "loading" ? "loading" : `#${e.queue_position}`;
  return (
    <li data-testid={`waiting-${e.id}`}>
      <span class="mono">{place}</span> <span class="muted">{e.method}</span> <span class="mono">{e.req_path}</span>{" "}
      <span class="muted">
        waited <span data-testid={`waited-${e.id}`}>{ms(elapsedOf(e, props.now))}</span>
        {e.remote_ip ? ` · ${e.remote_ip}` : ""}
      </span>{" "}
      <button type="button" class="ghost" style={{ padding: "0 6px", fontSize: "12px" }} aria-label={`Cancel request ${e.id}`} onClick={async () => (error.value = await postAdmin(`/api/inflight/${encodeURIComponent(e.id)}/cancel`))}>
        Cancel
      </button>
      {error.value && <small style={{ color: "var(--bad)" }}> {error.value}</small>}
    </li>
  );
}

/** The requests waiting for a model, next first; nothing when none wait. */
export function WaitingList(props: { id: string; waiting: InflightEntry[] }) {
  const now = useNow();
  if (props.waiting.length === 0) return null;
  return (
    <div data-testid={`waiting-list-${props.id}`}>
      <small class="muted">Waiting ({props.waiting.length}):</small>
      <ol style={{ margin: "2px 0", paddingLeft: "20px" }}>
        {props.waiting.map((e) => (
          <Waiter key={e.id} entry={e} now={now} />
        ))}
      </ol>
    </div>
  );
}

/** "loaded for X, evicted a, b (reason)" as a sentence. */
export function swapText(s: SwapInfo): string {
  const evicted = s.evict.length > 0 ? `, evicted ${s.evict.join(", ")}` : ", evicted nothing";
  const end = s.outcome ? ` → ${s.outcome}${s.ms !== null ? ` in ${ms(s.ms)}` : ""}` : " (in progress)";
  return `loaded for ${s.target}${evicted} (${s.reason})${end}`;
}

/** Why a model's last swap happened, with its time. */
export function LastSwap(props: { id: string; swap: SwapInfo | null }) {
  if (!props.swap) return null;
  const s = props.swap;
  const role = s.target === props.id ? "loaded" : "evicted";
  return (
    <div data-testid={`last-swap-${props.id}`}>
      <small class="muted">
        Last swap ({role}) at {clock(s.at)}: {swapText(s)}
      </small>
    </div>
  );
}

/** The swaps this session saw, newest first. */
export function SwapHistory(props: { swaps: SwapInfo[] }) {
  if (props.swaps.length === 0) return null;
  return (
    <section class="card" aria-labelledby="swap-history-title" data-testid="swap-history">
      <h2 id="swap-history-title" style={{ marginTop: 0 }}>
        Recent swaps
      </h2>
      <ul style={{ margin: 0, paddingLeft: "18px" }}>
        {props.swaps
          .slice(-10)
          .reverse()
          .map((s) => (
            <li key={`${s.at}-${s.target}`}>
              <span class="mono">{clock(s.at)}</span> {swapText(s)}
            </li>
          ))}
      </ul>
    </section>
  );
}
