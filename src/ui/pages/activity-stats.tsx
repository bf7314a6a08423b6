/** The Activity page's stats strip: totals from `/api/metrics/stats`, mean speeds per model from the loaded records. */
import { num } from "../lib/format.ts";
import { rate, type ActivityRecord, type ActivityStatsJson } from "./activity-data.ts";

/** Mean generation and prompt speed per model over records that reported one. */
function meanSpeeds(records: readonly ActivityRecord[]): { model: string; gen: number | null; prompt: number | null; n: number }[] {
  const by = new Map<string, { gen: number[]; prompt: number[]; n: number }>();
  for (const r of records) {
    const m = by.get(r.model) ?? { gen: [], prompt: [], n: 0 };
    m.n++;
    const g = rate(r.tokens.tokens_per_second);
    const p = rate(r.tokens.prompt_per_second);
    if (g !== null) m.gen.push(g);
    if (p !== null) m.prompt.push(p);
    by.set(r.model, m);
  }
  const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  return [...by.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([model, m]) => ({ model, gen: mean(m.gen), prompt: mean(m.prompt), n: m.n }));
}

const speed = (v: number | null): string => (v === null ? "–" : num(v, v >= 100 ? 0 : 1));

function Figure(props: { label: string; value: string; testId: string; hint?: string }) {
  return (
    <div style={{ minWidth: "120px" }} title={props.hint}>
      <div class="muted" style={{ fontSize: "12px" }}>
        {props.label}
      </div>
      <div style={{ fontSize: "20px", fontWeight: 600, fontVariantNumeric: "tabular-nums" }} data-testid={props.testId}>
        {props.value}
      </div>
    </div>
  );
}

/** Totals (all recorded requests, or the chosen model's) and each model's mean tokens/s in the loaded records. */
export function ActivityStats(props: { stats: ActivityStatsJson | null; records: readonly ActivityRecord[]; model: string }) {
  const s = props.stats;
  const speeds = meanSpeeds(props.records);
  const scope = props.model ? `requests to ${props.model}` : "all recorded requests";
  const gen = s?.gen_histogram;
  return (
    <section class="card" aria-label="Activity totals" data-testid="activity-stats">
      <div class="row" style={{ gap: "20px", alignItems: "flex-start" }}>
        <Figure label="Requests" value={s ? num(s.total_requests) : "–"} testId="stat-requests" hint={scope} />
        <Figure label="Input tokens" value={s ? num(s.total_input_tokens) : "–"} testId="stat-input-tokens" hint={scope} />
        <Figure label="Output tokens" value={s ? num(s.total_output_tokens) : "–"} testId="stat-output-tokens" hint={scope} />
        <Figure label="Cached tokens" value={s ? num(s.total_cache_tokens) : "–"} testId="stat-cache-tokens" hint={scope} />
        {gen && <Figure label="Generation p50 / p95" value={`${num(gen.p50, 1)} / ${num(gen.p95, 1)}`} testId="stat-gen-pct" hint={`tokens/s over ${scope}`} />}
      </div>
      <p class="muted" style={{ margin: "4px 0 0", fontSize: "12px" }}>
        Totals cover {scope}; the speeds below cover the {num(props.records.length)} record{props.records.length === 1 ? "" : "s"} in view.
      </p>
      <h2 style={{ fontSize: "13px", margin: "10px 0 4px" }}>Mean tokens per second, by model</h2>
      {speeds.length === 0 ? (
        <p class="muted" style={{ margin: 0 }}>
          No records in view.
        </p>
      ) : (
        <ul class="row" style={{ listStyle: "none", margin: 0, padding: 0, gap: "6px 18px" }}>
          {speeds.map((m) => (
            <li key={m.model} data-testid={`stat-tps-${m.model}`}>
              <span class="mono">{m.model}</span>: <strong>{speed(m.gen)}</strong> gen
              <span class="muted">
                {" "}
                · {speed(m.prompt)} prompt · {num(m.n)} req
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
