/**
 * The playground's load test: N streamed chat requests at once to one model; completed and failed
 * counts, output tokens, aggregate and per-request tokens per second, mean time to first token and
 * wall time, updated live as the requests stream and finish.
 */
import { signal } from "@preact/signals";
import { ms, num } from "../lib/format.ts";
import { ModelPicker, useNow, useTabModel } from "./playground-common.tsx";
import { newRunId, streamChat, tokensOf, tokensPerSecond, type ChatResult } from "./playground-stream.ts";

/** The most requests one test sends. */
export const MAX_REQUESTS = 256;

interface Req {
  n: number;
  state: "running" | "ok" | "failed" | "stopped";
  /** Content chunks so far (live), until the result's count replaces it. */
  chunks: number;
  startedAt: number;
  firstAt: number | null;
  result: ChatResult | null;
}

const count = signal("8");
const maxTokens = signal("128");
const prompt = signal("Write a short story about a lighthouse keeper.");
const reqs = signal<Req[]>([]);
const running = signal(false);
const startedAt = signal(0);
const endedAt = signal(0);
/** Bumped to re-render while requests stream (their counters are mutated in place). */
const tick = signal(0);
let controller: AbortController | null = null;

const clamp = (v: string, lo: number, hi: number, dflt: number): number => {
  const n = Math.floor(Number(v));
  return Number.isFinite(n) && n >= lo ? Math.min(hi, n) : dflt;
};

async function start(model: string): Promise<void> {
  if (running.value || !model) return;
  const n = clamp(count.value, 1, MAX_REQUESTS, 8);
  const max = clamp(maxTokens.value, 1, 32768, 128);
  count.value = String(n);
  const list: Req[] = Array.from({ length: n }, (_, i) => ({ n: i + 1, state: "running", chunks: 0, startedAt: 0, firstAt: null, result: null }));
  reqs.value = list;
  const ctl = new AbortController();
  controller = ctl;
  running.value = true;
  startedAt.value = performance.now();
  endedAt.value = 0;
  const timer = setInterval(() => tick.value++, 250);
  const body = { model, max_tokens: max, messages: [{ role: "user", content: prompt.value.trim() || "Hello" }] };
  await Promise.all(
    list.map(async (r) => {
      r.startedAt = performance.now();
      const res = await streamChat(body, newRunId(), ctl.signal, {
        onContent: () => {
          r.chunks++;
          r.firstAt ??= performance.now();
        },
      });
      r.result = res;
      r.state = res.aborted ? "stopped" : res.error ? "failed" : "ok";
      tick.value++;
    }),
  );
  clearInterval(timer);
  endedAt.value = performance.now();
  running.value = false;
  controller = null;
  tick.value++;
}

const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** The live summary of a test. */
function summary(list: Req[], now: number) {
  const ok = list.filter((r) => r.state === "ok");
  const failed = list.filter((r) => r.state === "failed");
  const tokens = list.reduce((a, r) => a + (r.result ? (r.state === "ok" ? tokensOf(r.result) : 0) : r.chunks), 0);
  const wallMs = (endedAt.value || now) - startedAt.value;
  // Live: the first content chunk; finished: the result's first token (content or reasoning).
  const ttft = mean(list.map((r) => (r.result ? (r.result.firstTokenAt !== null ? r.result.firstTokenAt - r.result.startedAt : null) : r.firstAt !== null ? r.firstAt - r.startedAt : null)).filter((x): x is number => x !== null));
  const rates = ok.map((r) => tokensPerSecond(r.result!)).filter((x): x is number => x !== null);
  return { ok: ok.length, failed: failed.length, stopped: list.filter((r) => r.state === "stopped").length, running: list.filter((r) => r.state === "running").length, tokens, wallMs, tps: wallMs > 0 ? (tokens * 1000) / wallMs : 0, ttft, perReq: mean(rates) };
}

function Stat(props: { label: string; value: string; testId: string }) {
  return (
    <div class="pg-stat">
      <small class="muted">{props.label}</small>
      <strong data-testid={props.testId}>{props.value}</strong>
    </div>
  );
}

function Result() {
  void tick.value;
  const now = useNow(running.value, 250);
  const list = reqs.value;
  if (list.length === 0) return null;
  const s = summary(list, now);
  const errors = [...new Set(list.filter((r) => r.state === "failed").map((r) => r.result?.error ?? ""))].filter(Boolean);
  return (
    <section class="pg-result" data-testid="lt-result" aria-live="polite" aria-label="Load test result">
      <div class="pg-stats">
        <Stat label="Completed" value={`${s.ok} / ${list.length}`} testId="lt-completed" />
        <Stat label="Failed" value={String(s.failed)} testId="lt-failed" />
        {s.running > 0 && <Stat label="Running" value={String(s.running)} testId="lt-running" />}
        {s.stopped > 0 && <Stat label="Stopped" value={String(s.stopped)} testId="lt-stopped" />}
        <Stat label="Output tokens" value={num(s.tokens)} testId="lt-tokens" />
        <Stat label="Aggregate" value={`${num(s.tps, 1)} tok/s`} testId="lt-tps" />
        <Stat label="Mean TTFT" value={ms(s.ttft)} testId="lt-ttft" />
        <Stat label="Mean per request" value={s.perReq === null ? "–" : `${num(s.perReq, 1)} tok/s`} testId="lt-req-tps" />
        <Stat label="Wall time" value={ms(s.wallMs)} testId="lt-wall" />
      </div>
      {errors.length > 0 && (
        <div class="pg-error" role="alert" data-testid="lt-errors">
          {errors.slice(0, 3).join("; ")}
          {errors.length > 3 ? ` (+${errors.length - 3} more)` : ""}
        </div>
      )}
      <details>
        <summary>Requests</summary>
        <div class="table-wrap">
          <table data-testid="lt-requests">
            <thead>
              <tr>
                <th class="num">#</th>
                <th>State</th>
                <th class="num">TTFT</th>
                <th class="num">Tokens</th>
                <th class="num">tok/s</th>
                <th class="num">Time</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => {
                const res = r.result;
                const rate = res ? tokensPerSecond(res) : null;
                return (
                  <tr>
                    <td class="num">{r.n}</td>
                    <td title={res?.error ?? undefined}>{r.state}</td>
                    <td class="num">{res ? (res.firstTokenAt !== null ? ms(res.firstTokenAt - res.startedAt) : "–") : r.firstAt !== null ? ms(r.firstAt - r.startedAt) : "…"}</td>
                    <td class="num">{num(res ? tokensOf(res) : r.chunks)}</td>
                    <td class="num">{rate === null ? "–" : num(rate, 1)}</td>
                    <td class="num">{res ? ms(res.endedAt - res.startedAt) : "…"}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </details>
    </section>
  );
}

/** The load test tab. */
export function LoadTestTab() {
  const { id: model } = useTabModel("loadtest", "chat");
  const busy = running.value;
  return (
    <div class="pg-media" data-testid="pg-loadtest-tab">
      <ModelPicker tab="loadtest" cap="chat" disabled={busy} />
      <form
        class="pg-compose"
        onSubmit={(e) => {
          e.preventDefault();
          void start(model);
        }}
      >
        <label for="lt-prompt">Prompt</label>
        <textarea id="lt-prompt" data-testid="lt-prompt" rows={2} value={prompt.value} onInput={(e) => (prompt.value = (e.target as HTMLTextAreaElement).value)} />
        <div class="row">
          <label for="lt-count">Parallel requests</label>
          <input id="lt-count" data-testid="lt-count" type="number" min={1} max={MAX_REQUESTS} style={{ width: "6em" }} value={count.value} onInput={(e) => (count.value = (e.target as HTMLInputElement).value)} />
          <label for="lt-max-tokens">Max tokens</label>
          <input id="lt-max-tokens" data-testid="lt-max-tokens" type="number" min={1} style={{ width: "6em" }} value={maxTokens.value} onInput={(e) => (maxTokens.value = (e.target as HTMLInputElement).value)} />
          <button type="submit" data-testid="lt-start" disabled={busy || !model}>
            Start
          </button>
          <button type="button" class="ghost" data-testid="lt-stop" disabled={!busy} onClick={() => controller?.abort()}>
            Stop
          </button>
        </div>
        <small class="muted">
          Up to {MAX_REQUESTS} streamed requests at once. Over HTTP/1.1 a browser opens about 6 connections to one server (one is the live event stream), so the rest wait in the
          browser: their time to first token includes that wait. The model's concurrencyLimit answers 429 beyond it.
        </small>
      </form>
      <Result />
    </div>
  );
}
