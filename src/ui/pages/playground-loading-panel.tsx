/**
 * The chat's loading panel (data-testid pg-loading): the queue position, a progress bar with the time
 * left, and the raw loading lines, from the stream's loading block and the live in-flight entry.
 */
import { useEffect, useRef } from "preact/hooks";
import type { InflightEntry } from "../lib/store.ts";
import { useNow } from "./playground-common.tsx";
import { loadingProgress, type LoadingInfo } from "./playground-loading.ts";

const s = (v: number): string => `${Math.max(0, Math.round(v))}s`;

/** "#2 in queue", "loading", or null (not waiting any more). */
export function queueText(info: LoadingInfo | null, entry: InflightEntry | undefined): string | null {
  if (info && (info.readyAfterS !== null || info.failedAfterS !== null)) return null;
  if (entry) {
    if (entry.state === "queued" && entry.queue_position >= 1) return `#${entry.queue_position} in queue`;
    if (entry.state === "loading") return "loading";
    if (entry.state === "serving") return null;
  }
  if (info?.queuePosition) return `#${info.queuePosition} in queue`;
  if (info?.loadingNow) return "loading";
  return null;
}

/** The line under the bar: elapsed and time left, or how it ended. */
function etaText(info: LoadingInfo | null, queued: boolean, now: number): string {
  if (!info) return queued ? "waiting for its turn" : "waiting for the model";
  if (info.readyAfterS !== null) return `ready after ${info.readyAfterS.toFixed(2)}s`;
  if (info.failedAfterS !== null) return `failed after ${info.failedAfterS.toFixed(2)}s`;
  const since = info.tickAt ? (now - info.tickAt) / 1000 : 0;
  const elapsed = info.elapsedS !== null ? s(info.elapsedS + since) : null;
  const head = elapsed ? `${elapsed} elapsed` : "just started";
  if (queued) return `${head}, waiting for its turn`;
  if (info.slow) return `${head}, taking longer than usual`;
  if (info.leftS !== null) return `${head}, about ${s(Math.max(0, info.leftS - since))} left`;
  return `${head}, ${info.estimateS === null ? "first load: no estimate yet" : "time left unknown"}`;
}

/** The panel; nothing when the run never waited. */
export function LoadingPanel(props: { info: LoadingInfo | null; entry: InflightEntry | undefined }) {
  const { info, entry } = props;
  const waiting = !!entry && entry.state !== "serving";
  const finished = !!info && (info.readyAfterS !== null || info.failedAfterS !== null);
  const now = useNow(!finished && (!!info || waiting));
  const log = useRef<HTMLPreElement>(null);
  const lines = info?.lines.length ?? 0;
  useEffect(() => {
    if (log.current) log.current.scrollTop = log.current.scrollHeight;
  }, [lines]);
  if (!info && !waiting) return null;
  const model = info?.model || entry?.model || "the model";
  const queue = queueText(info, entry);
  const queued = !!queue && queue !== "loading";
  const failed = info?.failedAfterS != null;
  const p = failed ? 1 : info ? loadingProgress(info, now) : queued ? 0 : null;
  const title = info?.readyAfterS != null ? `${model} is ready` : failed ? `Loading ${model} failed` : queued ? `Waiting for ${model}` : `Loading ${model}`;
  return (
    <section class={`pg-loading${failed ? " pg-loading-failed" : finished ? " pg-loading-done" : ""}`} data-testid="pg-loading" aria-label="Model loading" aria-live="polite">
      <div class="row">
        <strong>{title}</strong>
        {queue && (
          <span class="badge state-loading" data-testid="pg-queue-position">
            {queue}
          </span>
        )}
        <span class="spacer" />
        <small class="muted" data-testid="pg-eta">
          {etaText(info, queued, now)}
        </small>
      </div>
      <div
        class={`progress pg-progress${p === null ? " pg-indeterminate" : ""}`}
        data-testid="pg-progress"
        role="progressbar"
        aria-label={`Loading ${model}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={p === null ? undefined : Math.round(p * 100)}
      >
        <div style={{ width: p === null ? "30%" : `${Math.round(p * 100)}%` }} />
      </div>
      {lines > 0 && (
        <pre class="pg-log" ref={log} data-testid="pg-loading-log">
          {info!.lines.join("\n")}
        </pre>
      )}
    </section>
  );
}
