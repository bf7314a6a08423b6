/** The Logs page: switchyard's own log and the models' output, live, colours rendered, filterable, pausable. */
import { useSignal } from "@preact/signals";
import { logs, models } from "../lib/store.ts";
import { LogPanel } from "./logs-panel.tsx";

/** The Logs page (`#/logs`). */
export function LogsPage() {
  const model = useSignal("");
  const text = useSignal("");
  const paused = useSignal(false);
  const wide = useSignal(false);
  const ids = models.value.filter((m) => !m.peerID).map((m) => m.id);
  return (
    <>
      <div class="row" style={{ marginBottom: "12px" }}>
        <h1 style={{ margin: 0 }}>Logs</h1>
        <span class="spacer" />
        <label class="row" style={{ gap: "4px" }}>
          Model
          <select value={model.value} onChange={(e) => (model.value = (e.target as HTMLSelectElement).value)} data-testid="logs-filter-model">
            <option value="">all</option>
            {ids.map((id) => (
              <option value={id}>{id}</option>
            ))}
          </select>
        </label>
        <label class="row" style={{ gap: "4px" }}>
          Contains
          <input type="search" value={text.value} onInput={(e) => (text.value = (e.target as HTMLInputElement).value)} placeholder="text" data-testid="logs-filter-text" />
        </label>
        <button type="button" class="ghost" aria-pressed={paused.value} onClick={() => (paused.value = !paused.value)} data-testid="logs-pause">
          {paused.value ? "Follow" : "Pause"}
        </button>
        <button type="button" class="ghost" aria-pressed={wide.value} onClick={() => (wide.value = !wide.value)} title="Show the two panels one above the other">
          {wide.value ? "Side by side" : "Stacked"}
        </button>
      </div>
      {paused.value && (
        <p class="muted" role="status" data-testid="logs-paused">
          Paused: new lines are kept and appear when you follow again.
        </p>
      )}
      <div class="grid" style={wide.value ? { gridTemplateColumns: "1fr" } : { gridTemplateColumns: "repeat(auto-fit, minmax(420px, 1fr))" }}>
        <LogPanel title="Proxy" source={logs.proxy.value} model={model.value} contains={text.value} paused={paused.value} testId="logs-proxy" />
        <LogPanel title="Upstream (models' output)" source={logs.upstream.value} model={model.value} contains={text.value} paused={paused.value} testId="logs-upstream" />
      </div>
    </>
  );
}
