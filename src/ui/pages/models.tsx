/** The Models page: every local and peer model with its live state, load, queue, drain and last swap, and Load/Unload. */
import { useSignal } from "@preact/signals";
import { inflight, models, routerEvents, running } from "../lib/store.ts";
import { UnloadAllButton } from "./models-actions.tsx";
import { MemoryPanel } from "./models-memory.tsx";
import { ProfilePicker } from "./models-profile.tsx";
import { isNarrow, lastSwapOf, membershipsOf, requestsOf, serverConfigError, swapsOf, useServerConfig } from "./models-info.tsx";
import { LocalCards, LocalTable, PeerList, type ModelRowData } from "./models-table.tsx";
import { SwapHistory } from "./models-waiting.tsx";

const UNLISTED_STORAGE = "switchyard.showUnlisted";

/** The Models page (`#/models`). */
export function ModelsPage() {
  const showUnlisted = useSignal(localStorage.getItem(UNLISTED_STORAGE) === "1");
  const config = useServerConfig();
  const narrow = isNarrow();
  const all = models.value;
  const local = all.filter((m) => !m.peerID);
  const peers = all.filter((m) => m.peerID);
  const unlistedCount = local.filter((m) => m.unlisted).length;
  const visible = local.filter((m) => showUnlisted.value || !m.unlisted);
  const readyCount = local.filter((m) => m.state === "ready").length;
  const entries = [...inflight.value.values()];
  const swaps = swapsOf(routerEvents.value);
  const rows: ModelRowData[] = visible.map((m) => {
    const run = running.value.find((r) => r.model === m.id);
    return {
      model: m,
      run,
      load: requestsOf(entries, run, m.id, m.aliases),
      groups: membershipsOf(config, m.id),
      swap: lastSwapOf(swaps, m.id),
      timeoutS: config?.models[m.id]?.healthCheckTimeout ?? config?.healthCheckTimeout ?? null,
    };
  });
  const peerInFlight = (id: string): number => entries.filter((e) => e.peer && (e.model === id || `${e.peer}/${e.model}` === id)).length;
  const toggle = (on: boolean): void => {
    showUnlisted.value = on;
    localStorage.setItem(UNLISTED_STORAGE, on ? "1" : "0");
  };

  return (
    <>
      <div class="row" style={{ marginBottom: "12px" }}>
        <h1 style={{ margin: 0 }}>Models</h1>
        <span class="muted" data-testid="models-summary">
          {visible.length} of {local.length} shown, {readyCount} ready
        </span>
        <span class="spacer" />
        <ProfilePicker />
        <label class="row" style={{ gap: "4px" }}>
          <input type="checkbox" checked={showUnlisted.value} onChange={(e) => toggle((e.target as HTMLInputElement).checked)} data-testid="show-unlisted" />
          Show unlisted ({unlistedCount})
        </label>
        <UnloadAllButton />
      </div>
      {serverConfigError.value && (
        <p class="muted" role="status">
          Groups and timeouts unavailable: {serverConfigError.value}
        </p>
      )}
      <section class="card" aria-labelledby="local-models-title">
        <h2 id="local-models-title" style={{ marginTop: 0 }}>
          Local models
        </h2>
        {rows.length === 0 ? <p class="muted">{all.length === 0 ? "Waiting for the server…" : "No models to show."}</p> : narrow ? <LocalCards rows={rows} /> : <LocalTable rows={rows} />}
      </section>
      {peers.length > 0 && (
        <section class="card" aria-labelledby="peer-models-title" data-testid="peer-models">
          <h2 id="peer-models-title" style={{ marginTop: 0 }}>
            Peer models
          </h2>
          <PeerList peers={peers} inFlight={peerInFlight} narrow={narrow} />
        </section>
      )}
      <MemoryPanel />
      <SwapHistory swaps={swaps} />
    </>
  );
}
