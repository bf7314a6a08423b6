/**
 * Performance samples, in llama-swap's wire shapes (internal/perf/types.go) so its UI and tools read
 * `/api/performance` unchanged: what one sample of the system and of each GPU holds, the pure parsers
 * of the text they are read from (`nvidia-smi --query-gpu=… --format=csv,noheader,nounits`,
 * `rocm-smi … --csv` or `--json`, /proc/meminfo, /proc/stat, /proc/loadavg, /proc/net/dev), the
 * bounded rings they are kept in, and the `?after=` filter. A parser never throws: garbage is a
 * result that says what was wrong. Sampling and spawning happen at the edge
 * (cli/hardware-monitor.ts); the one-off host description is in hardware-snapshot.ts. Web-standard.
 */
import type { Parsed } from "../placement/parsed.ts";
import { parseNumber } from "../placement/parse-number.ts";
import { splitCsvLine } from "../placement/split-csv-line.ts";
import { rocmSmiRows } from "../placement/rocm-smi.ts";
import { parseMeminfo, type MemInfo } from "../placement/meminfo.ts";

// The tool-text parsers live in placement/ (which reads the same tools); they are re-exported here unchanged.
export { parseMeminfo, parseNumber, rocmSmiRows, splitCsvLine, type MemInfo, type Parsed };

// ---------------------------------------------------------------- wire shapes (llama-swap's JSON names)

/** One GPU at one moment (llama-swap's GpuStat; unknown numbers are 0, as there). */
export interface GpuStat {
  /** ISO time of the sample (RFC3339, UTC). */
  timestamp: string;
  id: number;
  name: string;
  uuid: string;
  temp_c: number;
  vram_temp_c: number;
  gpu_util_pct: number;
  mem_util_pct: number;
  mem_used_mb: number;
  mem_total_mb: number;
  fan_speed_pct: number;
  power_draw_w: number;
}

/** Byte counters of one network interface (loopback left out). */
export interface NetIOStat {
  name: string;
  bytes_recv: number;
  bytes_sent: number;
}

/** The system at one moment (llama-swap's SysStat). */
export interface SysStat {
  /** ISO time of the sample (RFC3339, UTC). */
  timestamp: string;
  /** Busy percent of each logical CPU since the previous sample. */
  cpu_util_per_core: number[];
  mem_total_mb: number;
  mem_used_mb: number;
  mem_free_mb: number;
  swap_total_mb: number;
  swap_used_mb: number;
  load_avg_1: number;
  load_avg_5: number;
  load_avg_15: number;
  net_io: NetIOStat[];
}

/** The GPU tools switchyard can read. */
export type GpuTool = "nvidia-smi" | "rocm-smi";

/**
 * Where GPU samples come from, said plainly (switchyard's addition to llama-swap's response):
 * `absent` no tool on PATH · `pending` none taken yet · `ok` the last sample parsed ·
 * `unparsable` the tool answered text we cannot read · `failed` it exited non-zero or hung.
 */
export interface GpuMonitorState {
  tool: GpuTool | null;
  status: "absent" | "pending" | "ok" | "unparsable" | "failed";
  /** What went wrong, or which tool is missing; null when ok. */
  detail: string | null;
}

/** Everything kept in memory, oldest first. */
export interface PerformanceSamples {
  sys: SysStat[];
  /** Every GPU of every kept sample, flattened in time order (as llama-swap's Current()). */
  gpu: GpuStat[];
  gpuMonitor: GpuMonitorState;
}

const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });

// ---------------------------------------------------------------- the commands (llama-swap's fields and flags)

/** Fields of nvidia-smi's per-sample query, in llama-swap's order. */
export const NVIDIA_SMI_FIELDS = "index,name,uuid,temperature.gpu,utilization.gpu,memory.used,memory.total,fan.speed,power.draw";
/** Arguments of one nvidia-smi sample (llama-swap runs the same query with `--loop`). */
export const NVIDIA_SMI_ARGS = [`--query-gpu=${NVIDIA_SMI_FIELDS}`, "--format=csv,noheader,nounits"];
/** Arguments of one rocm-smi sample, as llama-swap polls it. */
export const ROCM_SMI_ARGS = ["-i", "-P", "-t", "-f", "-u", "--showmemuse", "--showmeminfo", "vram", "--showproductname", "--csv"];

// ---------------------------------------------------------------- small helpers

const orZero = (n: number | null): number => n ?? 0;
const quote = (text: string): string => JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
const nonEmptyLines = (text: string): string[] =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");

// ---------------------------------------------------------------- nvidia-smi

/**
 * `nvidia-smi --query-gpu=<NVIDIA_SMI_FIELDS> --format=csv,noheader,nounits`: one line per GPU,
 * e.g. `0, NVIDIA H200, GPU-5c3…, 34, 0, 1, 143771, [N/A], 75.63`. Fields a GPU does not report
 * ([N/A], [Not Supported]) are 0, as in llama-swap. A line whose index is not a number is not a GPU
 * line; output with no GPU line at all is unparsable.
 */
export function parseNvidiaSmi(text: string, timestamp: string): Parsed<GpuStat[]> {
  const lines = nonEmptyLines(text);
  if (lines.length === 0) return fail("nvidia-smi printed nothing");
  const gpus: GpuStat[] = [];
  let bad: string | null = null;
  for (const line of lines) {
    const f = line.split(",").map((s) => s.trim());
    const id = f.length >= 9 && /^\d+$/.test(f[0]) ? Number(f[0]) : null;
    if (id === null) {
      bad ??= line;
      continue;
    }
    // A name with a comma in it: the first field is the index, the last seven are fixed.
    const tail = f.slice(f.length - 7);
    const [uuid, temp, util, used, total, fan, power] = tail;
    const memUsed = Math.trunc(orZero(parseNumber(used)));
    const memTotal = Math.trunc(orZero(parseNumber(total)));
    gpus.push({
      timestamp,
      id,
      name: f.slice(1, f.length - 7).join(", "),
      uuid,
      temp_c: Math.trunc(orZero(parseNumber(temp))),
      vram_temp_c: 0,
      gpu_util_pct: orZero(parseNumber(util)),
      mem_util_pct: memTotal > 0 ? (memUsed / memTotal) * 100 : 0,
      mem_used_mb: memUsed,
      mem_total_mb: memTotal,
      fan_speed_pct: orZero(parseNumber(fan)),
      power_draw_w: orZero(parseNumber(power)),
    });
  }
  if (gpus.length === 0) return fail(`unparsable nvidia-smi output: ${quote(bad ?? "")}`);
  return { ok: true, value: gpus };
}

// ---------------------------------------------------------------- rocm-smi

/** One rocm-smi device (its column names lower-cased) → a GpuStat, as llama-swap maps the columns. */
function rocmStat(device: string, fields: ReadonlyMap<string, string>, timestamp: string): GpuStat | null {
  const m = /^card(\d+)$/.exec(device.trim());
  if (!m) return null;
  const get = (...names: string[]): string => {
    for (const n of names) {
      const v = fields.get(n);
      if (v !== undefined && v !== "") return v;
    }
    return "";
  };
  const MB = 1024 * 1024;
  const memTotal = Math.floor(orZero(parseNumber(get("vram total memory (b)"))) / MB);
  const memUsed = Math.floor(orZero(parseNumber(get("vram total used memory (b)"))) / MB);
  const series = get("card series");
  const deviceName = get("device name");
  const gfx = get("gfx version");
  const usable = (s: string): boolean => s !== "" && s.toUpperCase() !== "N/A";
  const name = usable(series) ? `${series} ${device} (${gfx})` : usable(deviceName) ? `${deviceName} ${device} (${gfx})` : device;
  return {
    timestamp,
    id: Number(m[1]),
    name,
    uuid: get("guid"),
    temp_c: Math.trunc(orZero(parseNumber(get("temperature (sensor edge) (c)")))),
    vram_temp_c: Math.trunc(orZero(parseNumber(get("temperature (sensor memory) (c)")))),
    gpu_util_pct: orZero(parseNumber(get("gpu use (%)"))),
    mem_util_pct: memTotal > 0 ? (memUsed / memTotal) * 100 : 0,
    mem_used_mb: memUsed,
    mem_total_mb: memTotal,
    fan_speed_pct: orZero(parseNumber(get("fan speed (%)"))),
    power_draw_w: orZero(parseNumber(get("current socket graphics package power (w)", "average graphics package power (w)"))),
  };
}

/**
 * `rocm-smi <ROCM_SMI_ARGS>` (CSV, as llama-swap polls it) or the same flags with `--json`: one GpuStat
 * per `cardN` device. Text with no device table is unparsable.
 */
export function parseRocmSmi(text: string, timestamp: string): Parsed<GpuStat[]> {
  if (text.trim() === "") return fail("rocm-smi printed nothing");
  const rows = rocmSmiRows(text);
  if (rows === null) return fail(`unparsable rocm-smi output: ${quote(nonEmptyLines(text)[0] ?? "")}`);
  const gpus = rows.map((r) => rocmStat(r.device, r.fields, timestamp)).filter((g): g is GpuStat => g !== null);
  if (gpus.length === 0) return fail("rocm-smi listed no cardN device");
  return { ok: true, value: gpus };
}

/** The parser of a tool's sample output. */
export function parseGpuTool(tool: GpuTool, text: string, timestamp: string): Parsed<GpuStat[]> {
  return tool === "nvidia-smi" ? parseNvidiaSmi(text, timestamp) : parseRocmSmi(text, timestamp);
}

// ---------------------------------------------------------------- /proc

/**
 * Memory in MiB, as gopsutil (llama-swap's source) counts it on Linux: used = total − free −
 * buffers − page cache (Cached + SReclaimable), the figure `free` prints; swap used = total − free.
 */
export function memoryMb(info: MemInfo): Pick<SysStat, "mem_total_mb" | "mem_used_mb" | "mem_free_mb" | "swap_total_mb" | "swap_used_mb"> {
  const kb = (name: string): number => info.get(name) ?? 0;
  const mb = (k: number): number => Math.floor(Math.max(0, k) / 1024);
  const total = kb("MemTotal");
  const free = kb("MemFree");
  let used = total - free - kb("Buffers") - kb("Cached") - kb("SReclaimable");
  if (used < 0) used = total - free;
  return {
    mem_total_mb: mb(total),
    mem_used_mb: mb(used),
    mem_free_mb: mb(free),
    swap_total_mb: mb(kb("SwapTotal")),
    swap_used_mb: mb(kb("SwapTotal") - kb("SwapFree")),
  };
}

/** One logical CPU's counters from /proc/stat (in ticks). */
export interface CpuTimes {
  name: string;
  total: number;
  idle: number;
}

/**
 * The per-CPU lines of /proc/stat (`cpu0 user nice system idle iowait irq softirq steal guest
 * guest_nice`; the aggregate `cpu` line is skipped). Total is the first eight counters (guest time is
 * already inside user and nice), idle is idle + iowait, as gopsutil counts them.
 */
export function parseProcStat(text: string): Parsed<CpuTimes[]> {
  const cpus: CpuTimes[] = [];
  for (const line of nonEmptyLines(text)) {
    const m = /^(cpu\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const n = m[2].split(/\s+/).map(Number);
    if (n.length < 4 || n.some((x) => !Number.isFinite(x) || x < 0)) continue;
    cpus.push({ name: m[1], total: n.slice(0, 8).reduce((a, b) => a + b, 0), idle: n[3] + (n[4] ?? 0) });
  }
  if (cpus.length === 0) return fail("unparsable /proc/stat: no cpuN line");
  return { ok: true, value: cpus };
}

/** Busy percent of each CPU between two /proc/stat readings (0 where a CPU is new or no time passed). */
export function cpuUtilPerCore(prev: readonly CpuTimes[], cur: readonly CpuTimes[]): number[] {
  const before = new Map(prev.map((c) => [c.name, c]));
  return cur.map((c) => {
    const p = before.get(c.name);
    if (!p) return 0;
    const dt = c.total - p.total;
    if (dt <= 0) return 0;
    const busy = dt - (c.idle - p.idle);
    return Math.min(100, Math.max(0, (busy / dt) * 100));
  });
}

/** The three load averages of /proc/loadavg, or null. */
export function parseLoadavg(text: string): [number, number, number] | null {
  const f = text.trim().split(/\s+/).slice(0, 3).map((s) => parseNumber(s));
  return f.length === 3 && f.every((x) => x !== null) ? (f as [number, number, number]) : null;
}

/** Interfaces of /proc/net/dev with their byte counters, loopback left out (as llama-swap). */
export function parseNetDev(text: string): NetIOStat[] {
  const out: NetIOStat[] = [];
  for (const line of nonEmptyLines(text)) {
    const m = /^([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === "lo") continue;
    const n = m[2].split(/\s+/).map(Number);
    if (n.length < 9 || n.some((x) => !Number.isFinite(x))) continue;
    out.push({ name: m[1], bytes_recv: n[0], bytes_sent: n[8] });
  }
  return out;
}

/** The /proc texts of one system sample (null: the file could not be read). */
export interface ProcTexts {
  meminfo: string | null;
  stat: string | null;
  loadavg: string | null;
  netDev: string | null;
}

/**
 * One system sample from the /proc texts and the previous CPU counters. Memory and CPU counters are
 * required (without them the sample is skipped, as llama-swap skips it); load and network are best
 * effort. Also returns the CPU counters for the next sample.
 */
export function sysSample(texts: ProcTexts, prevCpu: readonly CpuTimes[] | null, timestamp: string): Parsed<{ stat: SysStat; cpu: CpuTimes[] }> {
  if (texts.meminfo === null) return fail("cannot read /proc/meminfo");
  if (texts.stat === null) return fail("cannot read /proc/stat");
  const mem = parseMeminfo(texts.meminfo);
  if (!mem.ok) return mem;
  const cpu = parseProcStat(texts.stat);
  if (!cpu.ok) return cpu;
  const load = texts.loadavg === null ? null : parseLoadavg(texts.loadavg);
  return {
    ok: true,
    value: {
      cpu: cpu.value,
      stat: {
        timestamp,
        cpu_util_per_core: prevCpu === null ? cpu.value.map(() => 0) : cpuUtilPerCore(prevCpu, cpu.value),
        ...memoryMb(mem.value),
        load_avg_1: load?.[0] ?? 0,
        load_avg_5: load?.[1] ?? 0,
        load_avg_15: load?.[2] ?? 0,
        net_io: texts.netDev === null ? [] : parseNetDev(texts.netDev),
      },
    },
  };
}

// ---------------------------------------------------------------- rings

/** Samples kept: one hour of them at the sampling interval, at least one (llama-swap's ringCapacity). */
export function ringCapacity(everyMs: number): number {
  return Math.max(1, Math.floor(3_600_000 / Math.max(1, everyMs)));
}

/** A fixed-capacity ring: pushing onto a full ring drops the oldest. */
export interface Ring<T> {
  readonly capacity: number;
  readonly size: number;
  push(value: T): void;
  /** The values, oldest first. */
  toArray(): T[];
}

/** Create a ring of `capacity` (at least 1) values. */
export function createRing<T>(capacity: number): Ring<T> {
  const cap = Math.max(1, Math.floor(capacity));
  const items: T[] = [];
  let start = 0;
  return {
    capacity: cap,
    get size() {
      return items.length;
    },
    push(value) {
      if (items.length < cap) items.push(value);
      else {
        items[start] = value;
        start = (start + 1) % cap;
      }
    },
    toArray() {
      return [...items.slice(start), ...items.slice(0, start)];
    },
  };
}

// ---------------------------------------------------------------- ?after=

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An RFC3339 timestamp (`2026-01-02T03:04:05Z`, `…05.123+02:00`) as epoch ms (fractions below a
 * millisecond are dropped), or null when it is not one, as Go's time.Parse(time.RFC3339) decides
 * (fields out of range are refused). A `+` offset that URL decoding turned into a space is read as `+`.
 */
export function parseRfc3339(text: string): number | null {
  const m = RFC3339.exec(text.trim().replace(/ (\d{2}:\d{2})$/, "+$1"));
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 59) return null;
  let offsetMin = 0;
  if (m[8] !== "Z") {
    const oh = Number(m[8].slice(1, 3));
    const om = Number(m[8].slice(4, 6));
    if (oh > 23 || om > 59) return null;
    offsetMin = (m[8][0] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const ms = m[7] ? Number(m[7].slice(1, 4).padEnd(3, "0")) : 0;
  return Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMin * 60_000;
}

/** The samples taken strictly after `afterMs` (llama-swap's `?after=` filter). */
export function samplesAfter<T extends { timestamp: string }>(samples: readonly T[], afterMs: number): T[] {
  return samples.filter((s) => Date.parse(s.timestamp) > afterMs);
}
