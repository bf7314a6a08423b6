/** Charts over the loaded records, one line per model: generation speed, time to first token, queue wait. */
import { useMemo } from "preact/hooks";
import { TimeChart, type ChartSeries } from "../lib/chart.tsx";
import { rate, type ActivityRecord } from "./activity-data.ts";

interface ChartData {
  x: number[];
  tps: ChartSeries[];
  ttft: ChartSeries[];
  wait: ChartSeries[];
}

/** x ascending (epoch seconds), and per model a series that is null at other models' records. */
function chartData(records: readonly ActivityRecord[]): ChartData {
  const sorted = records
    .map((r) => ({ r, t: Date.parse(r.timestamp) / 1000 }))
    .filter((p) => Number.isFinite(p.t))
    .sort((a, b) => a.t - b.t || a.r.id - b.r.id);
  const modelIds = [...new Set(sorted.map((p) => p.r.model))].sort();
  const per = (pick: (r: ActivityRecord) => number | null): ChartSeries[] =>
    modelIds.map((m) => ({ label: m, values: sorted.map((p) => (p.r.model === m ? pick(p.r) : null)) }));
  return {
    x: sorted.map((p) => p.t),
    tps: per((r) => rate(r.tokens.tokens_per_second)),
    ttft: per((r) => r.ttft_ms),
    wait: per((r) => r.queue_wait_ms),
  };
}

/** The three charts, side by side where there is room and stacked where there is not. */
export function ActivityCharts(props: { records: readonly ActivityRecord[] }) {
  const d = useMemo(() => chartData(props.records), [props.records]);
  return (
    <section aria-label="Charts" style={{ display: "grid", gap: "12px", gridTemplateColumns: "repeat(auto-fit, minmax(min(340px, 100%), 1fr))", marginBottom: "12px" }}>
      <div class="card" style={{ margin: 0, minWidth: 0 }}>
        <TimeChart title="Generation speed" unit="tokens/s" x={d.x} series={d.tps} testId="chart-tps" height={200} />
      </div>
      <div class="card" style={{ margin: 0, minWidth: 0 }}>
        <TimeChart title="Time to first token" unit="ms" x={d.x} series={d.ttft} testId="chart-ttft" height={200} />
      </div>
      <div class="card" style={{ margin: 0, minWidth: 0 }}>
        <TimeChart title="Queue wait" unit="ms" x={d.x} series={d.wait} testId="chart-wait" height={200} />
      </div>
    </section>
  );
}
