/**
 * A uPlot time-series chart as a Preact component: x = epoch seconds, one line per series.
 * Redraws when the data changes and resizes with its container.
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** One line of a chart. */
export interface ChartSeries {
  label: string;
  /** y per x (null = no point). */
  values: (number | null)[];
}

const COLOURS = ["#2f7ed8", "#e4572e", "#29a36a", "#a259d9", "#f0a202", "#17a2b8", "#8d6e63", "#d63384"];

/** A chart of `series` over `x` (epoch seconds); `unit` labels the y axis. */
export function TimeChart(props: { title: string; x: number[]; series: ChartSeries[]; unit?: string; height?: number; testId?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join("\u0000");

  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      title: props.title,
      width: Math.max(200, el.clientWidth),
      height: props.height ?? 220,
      series: [{}, ...props.series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2, points: { show: true, size: 4 } }))],
      axes: [{ stroke: "currentColor", grid: { stroke: "rgba(128,128,128,0.2)" } }, { stroke: "currentColor", grid: { stroke: "rgba(128,128,128,0.2)" }, label: props.unit ?? "" }],
      scales: { x: { time: true } },
      legend: { show: true },
    };
    const u = new uPlot(opts, [props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: props.height ?? 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // A new set of series needs a new plot; new values only a setData.
  }, [shape, props.title]);

  useEffect(() => {
    plot.current?.setData([props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData);
  }, [props.x, props.series]);

  return <div class="chart" ref={box} data-testid={props.testId} />;
}
