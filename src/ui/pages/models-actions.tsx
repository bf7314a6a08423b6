/** Load, Unload and Unload all buttons, with their errors. */
import { useSignal } from "@preact/signals";
import { loadModel, models, unloadModel } from "../lib/store.ts";
import { postAdmin } from "./models-info.tsx";

const BUSY_LOAD = new Set(["starting", "ready"]);
const DOWN = new Set(["stopped", "shutdown"]);

/** Load and Unload for one model: Load is off while it loads or is ready, Unload while it is stopped. */
export function ModelActions(props: { id: string; state: string }) {
  const { id, state } = props;
  const error = useSignal("");
  const run = (what: "load" | "unload"): void => {
    error.value = "";
    (what === "load" ? loadModel(id) : unloadModel(id)).catch((err: unknown) => (error.value = `${what} failed: ${err instanceof Error ? err.message : String(err)}`));
  };
  return (
    <div class="row" style={{ gap: "6px", flexWrap: "nowrap" }}>
      <button type="button" data-testid={`load-${id}`} disabled={BUSY_LOAD.has(state)} onClick={() => run("load")} aria-label={`Load ${id}`}>
        Load
      </button>
      <button type="button" class="ghost" data-testid={`unload-${id}`} disabled={DOWN.has(state)} onClick={() => run("unload")} aria-label={`Unload ${id}`}>
        Unload
      </button>
      {error.value && (
        <small role="alert" style={{ color: "var(--bad)" }}>
          {error.value}
        </small>
      )}
    </div>
  );
}

/** Drain and stop every model (`POST /api/models/unload`). */
export function UnloadAllButton() {
  const busy = useSignal(false);
  const error = useSignal("");
  const anyUp = models.value.some((m) => !m.peerID && !DOWN.has(m.state));
  // Never disabled for want of a loaded model: unloading nothing is harmless, and a stale list must not block it.
  const click = async (): Promise<void> => {
    busy.value = true;
    error.value = await postAdmin("/api/models/unload");
    busy.value = false;
  };
  return (
    <>
      {error.value && (
        <small role="alert" style={{ color: "var(--bad)" }}>
          {error.value}
        </small>
      )}
      <button type="button" class="danger" data-testid="unload-all" disabled={busy.value} title={anyUp ? undefined : "Nothing is loaded"} onClick={() => void click()}>
        {busy.value ? "Unloading…" : "Unload all"}
      </button>
    </>
  );
}
