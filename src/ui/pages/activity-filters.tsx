/** The Activity page's filter bar (model, time range, outcome) and its export buttons. */
import { download } from "../lib/format.ts";
import { models } from "../lib/store.ts";
import { OUTCOMES, RANGES, toCsv, toMarkdown, type ActivityRecord, type Filters, type Outcome, type RangeId } from "./activity-data.ts";

const stamp = (): string => new Date().toISOString().replace(/[:]/g, "").replace(/\..*$/, "");

/** Selects for the filters; `onChange` gets the whole new set. */
export function FilterBar(props: { filters: Filters; onChange: (f: Filters) => void; onRefresh: () => void }) {
  const f = props.filters;
  const ids = [...new Set(models.value.map((m) => m.id))].sort();
  // A remembered model that is gone from the list still shows as chosen.
  if (f.model && !ids.includes(f.model)) ids.unshift(f.model);
  const value = (e: Event): string => (e.target as HTMLSelectElement).value;
  return (
    <div class="row" role="group" aria-label="Filters" style={{ gap: "12px" }}>
      <label>
        <span class="muted">Model </span>
        <select data-testid="filter-model" value={f.model} onChange={(e) => props.onChange({ ...f, model: value(e) })}>
          <option value="">all</option>
          {ids.map((id) => (
            <option value={id}>{id}</option>
          ))}
        </select>
      </label>
      <label>
        <span class="muted">Time </span>
        <select data-testid="filter-range" value={f.range} onChange={(e) => props.onChange({ ...f, range: value(e) as RangeId })}>
          {RANGES.map(([id, label]) => (
            <option value={id}>{label}</option>
          ))}
        </select>
      </label>
      <label>
        <span class="muted">Outcome </span>
        <select data-testid="filter-outcome" value={f.outcome} onChange={(e) => props.onChange({ ...f, outcome: value(e) as Outcome | "" })}>
          <option value="">all</option>
          {OUTCOMES.map((o) => (
            <option value={o.id}>{o.label}</option>
          ))}
        </select>
      </label>
      <button type="button" class="ghost" onClick={props.onRefresh} data-testid="activity-refresh">
        Refresh
      </button>
    </div>
  );
}

/** Download the filtered records as CSV or as a Markdown table. */
export function ExportButtons(props: { records: readonly ActivityRecord[] }) {
  const n = props.records.length;
  const hint = `${n} filtered record${n === 1 ? "" : "s"}`;
  return (
    <div class="row" role="group" aria-label="Export">
      <button type="button" class="ghost" data-testid="export-csv" title={`Download ${hint} as CSV`} onClick={() => download(`switchyard-activity-${stamp()}.csv`, toCsv(props.records), "text/csv")}>
        Export CSV
      </button>
      <button type="button" class="ghost" data-testid="export-md" title={`Download ${hint} as a Markdown table`} onClick={() => download(`switchyard-activity-${stamp()}.md`, toMarkdown(props.records), "text/markdown")}>
        Export Markdown
      </button>
    </div>
  );
}
