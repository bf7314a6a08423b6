/** The Performance page: CPU, memory and GPU over the last hour from /api/performance, and the host from /api/hardware. */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { GpuMonitorState, GpuStat, SysStat } from "../../observe/hardware.ts";
import type { HardwareSnapshot } from "../../observe/hardware-snapshot.ts";
import { ApiError, apiFetch, apiJson, apiKey, errorMessage } from "../lib/api.ts";
import { TimeChart } from "../lib/chart.tsx";
import { HardwareCard } from "./performance-hardware.tsx";

interface PerformanceAnswer {
  enabled: boolean;
  sys_stats?: SysStat[];
  gpu_stats?: GpuStat[];
  gpu_monitor?: GpuMonitorState;
}

const KEEP_MS = 60 * 60 * 1000;
const secs = (iso: string): number => Date.parse(iso) / 1000;
const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** The samples kept so far, polled every 5 s (only newer ones after the first answer). */
function usePerformance() {
  const sys = useSignal<SysStat[]>([]);
  const gpu = useSignal<GpuStat[]>([]);
  const monitor = useSignal<GpuMonitorState | null>(null);
  const state = useSignal<"loading" | "ok" | "disabled" | "error">("loading");
  const error = useSignal("");
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (): Promise<void> => {
      try {
        const last = sys.value.at(-1)?.timestamp;
        const res = await apiFetch(`/api/performance${last ? `?after=${encodeURIComponent(last)}` : ""}`);
        // 503 {"enabled":false} is "monitoring off"; any other failure is an error to show.
        if (!res.ok && res.status !== 503) throw new Error(await errorMessage(res));
        const body = (await res.json()) as PerformanceAnswer;
        if (stop) return;
        if (!body.enabled) state.value = "disabled";
        else {
          const cut = Date.now() - KEEP_MS;
          sys.value = [...sys.value, ...(body.sys_stats ?? [])].filter((s) => Date.parse(s.timestamp) >= cut);
          gpu.value = [...gpu.value, ...(body.gpu_stats ?? [])].filter((s) => Date.parse(s.timestamp) >= cut);
          monitor.value = body.gpu_monitor ?? null;
          state.value = "ok";
        }
      } catch (err) {
        if (!stop) {
          state.value = "error";
          error.value = err instanceof Error ? err.message : String(err);
        }
      }
      if (!stop) timer = setTimeout(poll, 5000);
    };
    void poll();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, []);
  return { sys: sys.value, gpu: gpu.value, monitor: monitor.value, state: state.value, error: error.value };
}

function SystemCharts(props: { sys: SysStat[] }) {
  const x = props.sys.map((s) => secs(s.timestamp));
  const cores = props.sys[0]?.cpu_util_per_core.length ?? 0;
  return (
    <div class="grid">
      <div class="card">
        <TimeChart
          title={`CPU busy (${cores} logical CPUs)`}
          x={x}
          unit="%"
          testId="perf-cpu"
          series={[
            { label: "mean", values: props.sys.map((s) => mean(s.cpu_util_per_core)) },
            { label: "busiest core", values: props.sys.map((s) => Math.max(0, ...s.cpu_util_per_core)) },
          ]}
        />
      </div>
      <div class="card">
        <TimeChart
          title="Memory"
          x={x}
          unit="MiB"
          testId="perf-mem"
          series={[
            { label: "used", values: props.sys.map((s) => s.mem_used_mb) },
            { label: "total", values: props.sys.map((s) => s.mem_total_mb) },
            { label: "swap used", values: props.sys.map((s) => s.swap_used_mb) },
          ]}
        />
      </div>
      <div class="card">
        <TimeChart
          title="Load average"
          x={x}
          testId="perf-load"
          series={[
            { label: "1 min", values: props.sys.map((s) => s.load_avg_1) },
            { label: "5 min", values: props.sys.map((s) => s.load_avg_5) },
            { label: "15 min", values: props.sys.map((s) => s.load_avg_15) },
          ]}
        />
      </div>
    </div>
  );
}

function GpuCharts(props: { gpu: GpuStat[]; monitor: GpuMonitorState | null }) {
  if (props.gpu.length === 0) {
    const m = props.monitor;
    const why = !m ? "no GPU samples yet" : m.status === "absent" ? "no GPU tool found (nvidia-smi or rocm-smi)" : m.status === "pending" ? "waiting for the first sample" : `${m.tool ?? "the GPU tool"}: ${m.status}${m.detail ? ` (${m.detail})` : ""}`;
    return (
      <p class="muted" data-testid="perf-gpu" data-state={m?.status ?? "pending"}>
        GPUs: {why}.
      </p>
    );
  }
  const ids = [...new Set(props.gpu.map((g) => g.id))].sort((a, b) => a - b);
  const times = [...new Set(props.gpu.map((g) => g.timestamp))].sort();
  const x = times.map(secs);
  const at = new Map(props.gpu.map((g) => [`${g.id}@${g.timestamp}`, g]));
  const series = (pick: (g: GpuStat) => number) => ids.map((id) => ({ label: `GPU ${id}`, values: times.map((t) => { const g = at.get(`${id}@${t}`); return g ? pick(g) : null; }) }));
  const name = (id: number): string => props.gpu.find((g) => g.id === id)?.name ?? "";
  return (
    <div class="grid" data-testid="perf-gpu" data-state="ok">
      <div class="card">
        <TimeChart title="GPU utilisation" x={x} unit="%" series={series((g) => g.gpu_util_pct)} testId="perf-gpu-util" />
      </div>
      <div class="card">
        <TimeChart title="GPU memory used" x={x} unit="MiB" series={series((g) => g.mem_used_mb)} testId="perf-gpu-mem" />
      </div>
      <div class="card">
        <TimeChart title="GPU temperature and power" x={x} unit="°C / W" series={[...series((g) => g.temp_c).map((s) => ({ ...s, label: `${s.label} °C` })), ...series((g) => g.power_draw_w).map((s) => ({ ...s, label: `${s.label} W` }))]} testId="perf-gpu-temp" />
      </div>
      <p class="muted">{ids.map((id) => `GPU ${id}: ${name(id)}`).join(" · ")}</p>
    </div>
  );
}

/** The Performance page (`#/performance`). */
export function PerformancePage() {
  const perf = usePerformance();
  const hw = useSignal<HardwareSnapshot | null>(null);
  const hwError = useSignal("");
  const key = apiKey.value;
  useEffect(() => {
    apiJson<HardwareSnapshot>("/api/hardware").then(
      (h) => {
        hw.value = h;
        hwError.value = "";
      },
      (err: unknown) => (hwError.value = err instanceof ApiError || err instanceof Error ? err.message : String(err)),
    );
  }, [key]);
  return (
    <>
      <h1>Performance and hardware</h1>
      {perf.state === "loading" && <p class="muted">Reading samples…</p>}
      {perf.state === "disabled" && (
        <p class="muted" data-testid="perf-disabled">
          System monitoring is off (<code>performance.disabled: true</code> in the config).
        </p>
      )}
      {perf.state === "error" && (
        <p role="alert" class="state-failed">
          Could not read /api/performance: {perf.error}
        </p>
      )}
      {perf.state === "ok" && (
        <>
          {perf.sys.length < 2 && <p class="muted">Samples are taken every few seconds; the charts fill in as they arrive.</p>}
          <SystemCharts sys={perf.sys} />
          <h2>GPUs</h2>
          <GpuCharts gpu={perf.gpu} monitor={perf.monitor} />
        </>
      )}
      <h2>This machine</h2>
      <HardwareCard snapshot={hw.value} error={hwError.value} />
    </>
  );
}
