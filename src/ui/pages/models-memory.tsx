/** The fit router's memory on the Models page: each device's budget as a bar (models, others, reserve, free) and the resident models' figures. */
import { bytes as formatBytes } from "../lib/format.ts";
import { devices, running } from "../lib/store.ts";

/** Nothing unless the server places by memory. */
export function MemoryPanel() {
  const list = devices.value;
  if (list.length === 0) return null;
  const resident = running.value.filter((r) => r.memory && (r.state === "ready" || r.state === "starting"));
  return (
    <section class="card" aria-labelledby="memory-title" data-testid="memory-panel">
      <h2 id="memory-title" style={{ marginTop: 0 }}>
        Memory
      </h2>
      {list.map((d) => {
        const pct = (b: number): string => `${d.total > 0 ? Math.max(0, (b / d.total) * 100) : 0}%`;
        const here = resident.filter((r) => (r.memory!.perDevice[d.id] ?? 0) > 0);
        return (
          <div key={d.id} style={{ marginBottom: "10px" }} data-testid={`device-${d.id}`}>
            <div class="row">
              <strong>{d.id === "cpu" ? "CPU (system RAM)" : `GPU ${d.id}`}</strong>
              <span class="muted">{d.name}</span>
              <span class="spacer" />
              <span>
                {formatBytes(d.usedByModels)} used by models, {formatBytes(Math.max(0, d.free))} free of {formatBytes(d.total)}
                {d.reserve > 0 ? `, ${formatBytes(d.reserve)} reserved` : ""}
              </span>
            </div>
            <div role="img" aria-label={`device ${d.id}: ${formatBytes(d.usedByModels)} used by models, ${formatBytes(d.usedByOthers)} by others, ${formatBytes(d.free)} free`} style={{ display: "flex", height: "10px", borderRadius: "4px", overflow: "hidden", background: "var(--line)" }}>
              <div style={{ width: pct(d.usedByModels), background: "var(--accent)" }} />
              <div style={{ width: pct(d.usedByOthers), background: "var(--muted)" }} />
              <div style={{ width: pct(d.reserve), background: "var(--warn)" }} />
            </div>
            {here.length > 0 && (
              <small class="muted">
                {here.map((r) => `${r.model} ${formatBytes(r.memory!.perDevice[d.id] ?? 0)} (${r.memory!.source})`).join(" · ")}
              </small>
            )}
          </div>
        );
      })}
    </section>
  );
}
