/** Pieces every playground tab shares: the model picker, the error box, the live status of a run, a ticking clock. */
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ms } from "../lib/format.ts";
import { inflight, type InflightEntry } from "../lib/store.ts";
import { CAP_LABEL, choose, modelOf, modelsFor, type Cap } from "./playground-models.ts";
import { cancelRun, type MediaRun } from "./playground-request.ts";
import { RUN_HEADER } from "./playground-stream.ts";

/** performance.now(), re-read every `everyMs` while `active`. */
export function useNow(active: boolean, everyMs = 250): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!active) return;
    setNow(performance.now());
    const t = setInterval(() => setNow(performance.now()), everyMs);
    return () => clearInterval(t);
  }, [active, everyMs]);
  return now;
}

/** The live in-flight entry of one playground run, found by its run header. */
export function inflightOf(runId: string): InflightEntry | undefined {
  if (!runId) return undefined;
  for (const e of inflight.value.values()) {
    for (const [k, v] of Object.entries(e.req_headers ?? {})) if (k.toLowerCase() === RUN_HEADER && v === runId) return e;
  }
  return undefined;
}

/** The tab's model list and its current choice (reads live signals: call it in render). */
export function useTabModel(tab: string, cap: Cap) {
  const t = modelsFor(cap);
  return { ...t, id: modelOf(tab, t.list) };
}

/** The model select (data-testid pg-model), the chosen model's state, and a muted line saying how the list was chosen. */
export function ModelPicker(props: { tab: string; cap: Cap; disabled?: boolean }) {
  const { list, how, id } = useTabModel(props.tab, props.cap);
  const local = list.filter((m) => !m.peerID);
  const peers = list.filter((m) => m.peerID);
  const current = list.find((m) => m.id === id);
  const label = (m: (typeof list)[number]): string => `${m.id}${m.name && m.name !== m.id ? ` — ${m.name}` : ""}${m.unlisted ? " (unlisted)" : ""}`;
  const selId = `pg-model-${props.tab}`;
  const hint =
    how === "all"
      ? "No model declares capabilities in /v1/models, so every model is listed."
      : how === "fallback"
        ? `No model declares ${CAP_LABEL[props.cap]}, so every model is listed.`
        : `Models that declare ${CAP_LABEL[props.cap]}${props.cap === "chat" ? " (or declare nothing)" : ""}.`;
  return (
    <div class="pg-picker">
      <div class="row">
        <label for={selId}>Model</label>
        <select id={selId} data-testid="pg-model" value={id} disabled={props.disabled || list.length === 0} onChange={(e) => choose(props.tab, (e.target as HTMLSelectElement).value)}>
          {list.length === 0 && <option value="">no models</option>}
          {local.length > 0 && (
            <optgroup label="Models">
              {local.map((m) => (
                <option value={m.id}>{label(m)}</option>
              ))}
            </optgroup>
          )}
          {peers.length > 0 && (
            <optgroup label="Peers">
              {peers.map((m) => (
                <option value={m.id}>{`${label(m)} (peer ${m.peerID})`}</option>
              ))}
            </optgroup>
          )}
        </select>
        {current && !current.peerID && current.state && (
          <span class={`badge state-${current.state}`} data-testid="pg-model-state">
            {current.state}
          </span>
        )}
        {current?.peerID && <span class="badge muted">peer</span>}
      </div>
      <small class="muted" data-testid="pg-cap-hint">
        {hint}
      </small>
    </div>
  );
}

/** An error message (data-testid pg-error), or nothing. */
export function ErrorBox(props: { message: string }) {
  if (!props.message) return null;
  return (
    <div class="pg-error" role="alert" data-testid="pg-error">
      {props.message}
    </div>
  );
}

/** Where a non-streamed run stands: queued (#N), loading its model, or being served, with the time waited. */
export function RunStatus(props: { runId: string; busy: boolean; startedAt: number }) {
  const now = useNow(props.busy);
  if (!props.busy) return null;
  const e = inflightOf(props.runId);
  const where = !e ? "sending" : e.state === "queued" ? `#${e.queue_position} in queue` : e.state === "loading" ? `loading ${e.model}` : `${e.model} is working`;
  return (
    <p class="muted" data-testid="pg-run-status" aria-live="polite">
      <span class="pg-spinner" aria-hidden="true" /> {where} · {ms(now - props.startedAt)}
    </p>
  );
}

/**
 * The frame the media tabs share: the model picker, a form whose submit calls `onSend(model)`,
 * the tab's own fields (`fields`) and options beside Send and Cancel (`options`), the run's status
 * and error, then the result (`children`).
 */
export function MediaTab(props: {
  tab: string;
  cap: Cap;
  testId: string;
  run: MediaRun;
  sendLabel: string;
  /** Whether the inputs are complete enough to send (a model is checked here). */
  ready: boolean;
  onSend(model: string): void;
  fields: ComponentChildren;
  options?: ComponentChildren;
  children?: ComponentChildren;
}) {
  const { id: model } = useTabModel(props.tab, props.cap);
  const busy = props.run.busy.value;
  return (
    <div class="pg-media" data-testid={props.testId}>
      <ModelPicker tab={props.tab} cap={props.cap} disabled={busy} />
      <form
        class="pg-compose"
        onSubmit={(e) => {
          e.preventDefault();
          props.onSend(model);
        }}
      >
        {props.fields}
        <div class="row">
          {props.options}
          <button type="submit" data-testid="pg-send" disabled={busy || !model || !props.ready}>
            {props.sendLabel}
          </button>
          <button type="button" class="ghost" data-testid="pg-stop" disabled={!busy} onClick={() => cancelRun(props.run)}>
            Cancel
          </button>
        </div>
      </form>
      <RunStatus runId={props.run.runId.value} busy={busy} startedAt={props.run.startedAt.value} />
      <ErrorBox message={props.run.error.value} />
      {props.children}
    </div>
  );
}
