/**
 * The playground's chat tab: a multi-turn conversation streamed from /v1/chat/completions, the
 * loading panel while the model loads or queues, the model's own thinking in a collapsible block,
 * and Stop / Clear. State lives at module level so it survives switching tabs.
 */
import { signal } from "@preact/signals";
import { Fragment } from "preact";
import { ms, num } from "../lib/format.ts";
import { ErrorBox, inflightOf, ModelPicker, useTabModel } from "./playground-common.tsx";
import type { LoadingInfo } from "./playground-loading.ts";
import { LoadingPanel } from "./playground-loading-panel.tsx";
import { newRunId, streamChat, tokensOf, tokensPerSecond, type ChatResult } from "./playground-stream.ts";

interface Turn {
  key: number;
  role: "user" | "assistant";
  content: string;
  reasoning: string;
  model?: string;
  stats?: string;
  failed?: boolean;
  /** Why it failed (the latest turn's error also shows in pg-error). */
  error?: string;
  stopped?: boolean;
}

const turns = signal<Turn[]>([]);
const system = signal("");
const prompt = signal("");
const maxTokens = signal("");
const busy = signal(false);
const runId = signal("");
const loading = signal<LoadingInfo | null>(null);
const error = signal("");
let controller: AbortController | null = null;
let keys = 0;

function update(key: number, patch: Partial<Turn>): void {
  if (!turns.value.some((t) => t.key === key)) return;
  turns.value = turns.value.map((t) => (t.key === key ? { ...t, ...patch } : t));
}

/** "120 tokens · 29.8 tok/s · first token 35 ms · 4.10 s". */
function statsOf(r: ChatResult): string {
  const tps = tokensPerSecond(r);
  const parts = [`${num(tokensOf(r))} tokens`];
  if (tps !== null) parts.push(`${num(tps, 1)} tok/s`);
  if (r.firstTokenAt !== null) parts.push(`first token ${ms(r.firstTokenAt - r.startedAt)}`);
  parts.push(ms(r.endedAt - r.startedAt));
  return parts.join(" · ");
}

/** Whether an ended answer is left out of later requests (with its question): it failed, or no text came. */
const unsent = (answer: Turn | undefined): boolean => !answer || answer.failed === true || !answer.content;

/** The answer that goes with the turn at `i`: the turn itself, or the question's next turn. */
const answerAt = (list: Turn[], i: number): Turn | undefined => (list[i]?.role === "assistant" ? list[i] : list[i + 1]?.role === "assistant" ? list[i + 1] : undefined);

/**
 * The conversation so far as messages: each question with its answer, leaving out a pair whose
 * answer failed or has no text (stopped before it came): two user messages in a row are refused by
 * chat templates that need the roles to alternate (Mistral, Gemma), and every later message would fail.
 */
function historyOf(list: Turn[]): { role: Turn["role"]; content: string }[] {
  const out: { role: Turn["role"]; content: string }[] = [];
  for (let i = 0; i < list.length; i++) {
    const t = list[i]!;
    if (t.role !== "user") continue;
    const answer = answerAt(list, i);
    if (!answer || unsent(answer)) continue;
    out.push({ role: "user", content: t.content }, { role: "assistant", content: answer.content });
  }
  return out;
}

async function send(model: string): Promise<void> {
  const text = prompt.value.trim();
  if (!text || busy.value || !model) return;
  const history = historyOf(turns.value);
  const messages = [...(system.value.trim() ? [{ role: "system", content: system.value.trim() }] : []), ...history, { role: "user", content: text }];
  const key = ++keys;
  turns.value = [...turns.value, { key: ++keys, role: "user", content: text, reasoning: "" }, { key, role: "assistant", content: "", reasoning: "", model }];
  prompt.value = "";
  error.value = "";
  loading.value = null;
  busy.value = true;
  const id = newRunId();
  runId.value = id;
  const ctl = new AbortController();
  controller = ctl;
  const acc = { content: "", reasoning: "" };
  let timer: ReturnType<typeof setTimeout> | null = null;
  // At thousands of tokens a second, render at most every 40 ms.
  const flush = (): void => {
    timer = null;
    update(key, { content: acc.content, reasoning: acc.reasoning });
  };
  const schedule = (): void => void (timer ??= setTimeout(flush, 40));
  const max = Number(maxTokens.value);
  const r = await streamChat({ model, messages, ...(maxTokens.value.trim() && max > 0 ? { max_tokens: Math.floor(max) } : {}) }, id, ctl.signal, {
    onContent: (p) => {
      acc.content += p;
      schedule();
    },
    onReasoning: (p) => {
      acc.reasoning += p;
      schedule();
    },
    onLoading: (info) => {
      if (runId.value === id) loading.value = { ...info, lines: [...info.lines] };
    },
  });
  if (timer) clearTimeout(timer);
  flush();
  update(key, { stats: statsOf(r), failed: !!r.error, error: r.error ?? undefined, stopped: r.aborted });
  if (runId.value === id) {
    if (r.loading) loading.value = { ...r.loading, lines: [...r.loading.lines] };
    error.value = r.error ?? "";
    busy.value = false;
    controller = null;
  }
}

function stop(): void {
  controller?.abort();
}

function clear(): void {
  stop();
  turns.value = [];
  loading.value = null;
  error.value = "";
  runId.value = "";
  busy.value = false;
}

function TurnView(props: { turn: Turn; latest: boolean; streaming: boolean; unsent: boolean }) {
  const t = props.turn;
  if (t.role === "user") {
    return (
      <div class={`pg-turn pg-user${props.unsent ? " pg-unsent" : ""}`} data-unsent={props.unsent ? "true" : undefined}>
        <small class="muted">You</small>
        <div class="pg-text">{t.content}</div>
        {props.unsent && (
          <small class="muted" data-testid="pg-unsent-note">
            Left out of later messages: its answer failed or is empty.
          </small>
        )}
      </div>
    );
  }
  return (
    <div class={`pg-turn pg-assistant${props.unsent ? " pg-unsent" : ""}`} data-unsent={props.unsent ? "true" : undefined}>
      <small class="muted">{t.model ?? "assistant"}</small>
      {t.reasoning && (
        <details class="pg-thinking" data-testid={props.latest ? "pg-thinking" : undefined}>
          <summary>Thinking ({num(t.reasoning.length)} chars)</summary>
          <div class="pg-text">{t.reasoning}</div>
        </details>
      )}
      <div class="pg-text" data-testid={props.latest ? "pg-answer" : undefined}>
        {t.content}
      </div>
      {props.streaming && !t.content && <small class="muted">waiting for the answer…</small>}
      {!props.streaming && !t.content && (t.failed || t.stopped) && <small class="muted">(no answer)</small>}
      {t.stats && (
        <small class="muted" data-testid={props.latest ? "pg-stats" : undefined}>
          {t.stopped ? "stopped · " : t.failed ? "failed · " : ""}
          {t.stats}
          {t.error && !props.latest ? ` · ${t.error}` : ""}
        </small>
      )}
    </div>
  );
}

/** The chat tab. */
export function ChatTab() {
  const { id: model } = useTabModel("chat", "chat");
  const list = turns.value;
  const lastAssistant = list.map((t) => t.role).lastIndexOf("assistant");
  const entry = busy.value ? inflightOf(runId.value) : undefined;
  const onKey = (e: KeyboardEvent): void => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void send(model);
    }
  };
  return (
    <div class="pg-chat" data-testid="pg-chat">
      <div class="pg-controls">
        <ModelPicker tab="chat" cap="chat" disabled={busy.value} />
        <details class="pg-system">
          <summary>System prompt and options</summary>
          <label for="pg-system">System prompt</label>
          <textarea id="pg-system" data-testid="pg-system" rows={2} value={system.value} onInput={(e) => (system.value = (e.target as HTMLTextAreaElement).value)} placeholder="Optional" />
          <div class="row">
            <label for="pg-max-tokens">Max tokens</label>
            <input id="pg-max-tokens" data-testid="pg-max-tokens" type="number" min={1} placeholder="default" style={{ width: "8em" }} value={maxTokens.value} onInput={(e) => (maxTokens.value = (e.target as HTMLInputElement).value)} />
          </div>
        </details>
      </div>
      <div class="pg-conversation" data-testid="pg-conversation" aria-live="polite">
        {list.length === 0 && <p class="muted">Send a message to start. The model loads on demand; while it loads, its progress shows here.</p>}
        {list.map((t, i) => (
          <Fragment key={t.key}>
            {i === lastAssistant && <LoadingPanel info={loading.value} entry={entry} />}
            <TurnView
              turn={t}
              latest={i === lastAssistant}
              streaming={busy.value && i === lastAssistant}
              // A question and its answer are marked together, once the answer has ended.
              unsent={!(busy.value && i >= lastAssistant - 1) && unsent(answerAt(list, i))}
            />
          </Fragment>
        ))}
      </div>
      <ErrorBox message={error.value} />
      <form
        class="pg-compose"
        onSubmit={(e) => {
          e.preventDefault();
          void send(model);
        }}
      >
        <label for="pg-prompt" class="pg-sr">
          Message
        </label>
        <textarea id="pg-prompt" data-testid="pg-prompt" rows={3} placeholder="Message (Ctrl+Enter sends)" value={prompt.value} onInput={(e) => (prompt.value = (e.target as HTMLTextAreaElement).value)} onKeyDown={onKey} />
        <div class="row">
          <button type="submit" data-testid="pg-send" disabled={busy.value || !model || !prompt.value.trim()}>
            Send
          </button>
          <button type="button" class="ghost" data-testid="pg-stop" disabled={!busy.value} onClick={stop}>
            Stop
          </button>
          <span class="spacer" />
          <button type="button" class="ghost" data-testid="pg-clear" disabled={list.length === 0 && !error.value} onClick={clear}>
            Clear
          </button>
        </div>
      </form>
    </div>
  );
}
