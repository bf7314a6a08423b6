/**
 * The Playground page: try any model from the browser. Tabs for chat (streamed, with the model's
 * loading progress and queue position), images, speech, transcription, rerank and a parallel load
 * test; the tab is part of the hash (`#/playground/images`). Every request goes through lib/api.ts.
 */
import { useEffect } from "preact/hooks";
import { href, route } from "../lib/route.ts";
import { models } from "../lib/store.ts";
import { ChatTab } from "./playground-chat.tsx";
import { ImagesTab } from "./playground-images.tsx";
import { LoadTestTab } from "./playground-loadtest.tsx";
import { refreshCapabilities } from "./playground-models.ts";
import { RerankTab } from "./playground-rerank.tsx";
import { SpeechTab } from "./playground-speech.tsx";
import { TranscriptionTab } from "./playground-transcription.tsx";

const TABS = [
  ["chat", "Chat", ChatTab],
  ["images", "Images", ImagesTab],
  ["speech", "Speech", SpeechTab],
  ["transcription", "Transcription", TranscriptionTab],
  ["rerank", "Rerank", RerankTab],
  ["loadtest", "Load test", LoadTestTab],
] as const;
type TabId = (typeof TABS)[number][0];

const CSS = `
.pg-tabs { display: flex; flex-wrap: wrap; gap: 2px; border-bottom: 1px solid var(--line); margin-bottom: 12px; }
.pg-tabs button { background: transparent; color: var(--fg); border-radius: 6px 6px 0 0; border-bottom: 2px solid transparent; padding: 6px 12px; white-space: nowrap; }
.pg-tabs button[aria-selected="true"] { border-bottom-color: var(--accent); color: var(--accent); }
@media (max-width: 640px) { .pg-tabs button { padding: 6px 8px; } }
.pg-panel { display: flex; flex-direction: column; gap: 10px; }
.pg-chat, .pg-media { display: flex; flex-direction: column; gap: 10px; }
.pg-picker { display: flex; flex-direction: column; gap: 2px; }
.pg-picker select { max-width: 100%; min-width: 0; flex: 0 1 auto; }
.pg-system summary, .pg-thinking summary { cursor: pointer; color: var(--muted); }
.pg-system[open] { display: flex; flex-direction: column; gap: 6px; }
.pg-compose { display: flex; flex-direction: column; gap: 6px; }
.pg-compose input:not([type]), .pg-compose input[type="text"] { width: 100%; }
.pg-conversation { display: flex; flex-direction: column; gap: 8px; }
.pg-turn { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; background: var(--card); display: flex; flex-direction: column; gap: 4px; max-width: 100%; }
.pg-user { align-self: flex-end; background: color-mix(in srgb, var(--accent) 10%, var(--card)); max-width: min(85%, 900px); }
.pg-assistant { align-self: stretch; }
.pg-unsent { border-style: dashed; border-color: var(--bad); opacity: 0.75; }
.pg-text { white-space: pre-wrap; overflow-wrap: anywhere; }
.pg-thinking { border-left: 3px solid var(--line); padding-left: 8px; }
.pg-thinking .pg-text { color: var(--muted); font-size: 13px; }
.pg-box { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; background: var(--card); }
.pg-loading { border: 1px solid var(--warn); border-radius: 8px; padding: 8px 10px; background: var(--card); display: flex; flex-direction: column; gap: 6px; }
.pg-loading.pg-loading-done { border-color: var(--line); }
.pg-loading.pg-loading-done .progress > div { background: var(--ok); }
.pg-loading.pg-loading-failed { border-color: var(--bad); }
.pg-loading.pg-loading-failed .progress > div { background: var(--bad); }
.pg-log { margin: 0; line-height: 1.4em; max-height: 7em; overflow: auto; font-size: 12px; color: var(--muted); white-space: pre-wrap; overflow-wrap: anywhere; }
.pg-indeterminate > div { animation: pg-slide 1.2s ease-in-out infinite; }
@keyframes pg-slide { from { margin-left: -30%; } to { margin-left: 100%; } }
@media (prefers-reduced-motion: reduce) { .pg-indeterminate > div { animation: none; width: 100% !important; opacity: 0.4; } }
.pg-error { border: 1px solid var(--bad); color: var(--bad); border-radius: 8px; padding: 8px 10px; background: var(--card); white-space: pre-wrap; overflow-wrap: anywhere; }
.pg-images { display: flex; flex-wrap: wrap; gap: 12px; }
.pg-images figure { margin: 0; display: flex; flex-direction: column; gap: 4px; }
.pg-images img { max-width: min(100%, 512px); border: 1px solid var(--line); border-radius: 6px; image-rendering: auto; min-width: 64px; min-height: 64px; }
.pg-result { display: flex; flex-direction: column; gap: 6px; }
.pg-result audio { width: min(100%, 480px); }
.pg-stats { display: grid; gap: 8px; grid-template-columns: repeat(auto-fill, minmax(130px, 1fr)); }
.pg-stat { border: 1px solid var(--line); border-radius: 8px; padding: 6px 8px; background: var(--card); display: flex; flex-direction: column; }
.pg-stat strong { font-variant-numeric: tabular-nums; }
.pg-spinner { display: inline-block; width: 10px; height: 10px; border: 2px solid var(--line); border-top-color: var(--accent); border-radius: 50%; animation: pg-spin 0.8s linear infinite; vertical-align: -1px; }
@keyframes pg-spin { to { transform: rotate(360deg); } }
.pg-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

const TAB_STORE = "switchyard.playground.tab";

function currentTab(): TabId {
  const want = route.value[1] ?? localStorage.getItem(TAB_STORE) ?? "chat";
  return (TABS.find(([id]) => id === want)?.[0] ?? "chat") as TabId;
}

function selectTab(id: TabId, focus = false): void {
  localStorage.setItem(TAB_STORE, id);
  location.hash = href("playground", id);
  if (focus) requestAnimationFrame(() => document.getElementById(`pg-tab-${id}`)?.focus());
}

function TabBar(props: { active: TabId }) {
  const onKey = (e: KeyboardEvent): void => {
    const i = TABS.findIndex(([id]) => id === props.active);
    const next = e.key === "ArrowRight" ? i + 1 : e.key === "ArrowLeft" ? i - 1 : e.key === "Home" ? 0 : e.key === "End" ? TABS.length - 1 : null;
    if (next === null) return;
    e.preventDefault();
    selectTab(TABS[(next + TABS.length) % TABS.length]![0], true);
  };
  return (
    <div class="pg-tabs" role="tablist" aria-label="Playground" onKeyDown={onKey}>
      {TABS.map(([id, label]) => (
        <button
          type="button"
          role="tab"
          id={`pg-tab-${id}`}
          aria-selected={props.active === id}
          aria-controls="pg-panel"
          tabIndex={props.active === id ? 0 : -1}
          data-testid={`pg-tab-${id}`}
          onClick={() => selectTab(id)}
        >
          {label}
        </button>
      ))}
    </div>
  );
}

/** The Playground page. */
export function PlaygroundPage(_props: { id?: string } = {}) {
  const active = currentTab();
  const count = models.value.length;
  // Capabilities come from /v1/models: read them again when the model list changes.
  useEffect(() => void refreshCapabilities(), [count]);
  const Tab = TABS.find(([id]) => id === active)![2];
  return (
    <section data-testid="playground">
      <style>{CSS}</style>
      <h1>Playground</h1>
      <TabBar active={active} />
      <div class="pg-panel" id="pg-panel" role="tabpanel" aria-labelledby={`pg-tab-${active}`} data-testid={`pg-panel-${active}`}>
        <Tab />
      </div>
    </section>
  );
}
