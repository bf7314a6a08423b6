/**
 * nvidia-smi as placement reads it: the GPUs with their memory (`--query-gpu=index,uuid,name,
 * memory.total,memory.used`) and each compute process's memory (`--query-compute-apps=pid,
 * used_memory,gpu_uuid`), both `--format=csv,noheader,nounits` (memory in MiB). Pure parsers that
 * never throw; the tool is run at the edge (cli/detect-devices.ts, cli/measure-memory.ts). Web-standard.
 */
import type { Bytes, Device } from "./types.ts";
import type { Parsed } from "./parsed.ts";
import { parseNumber } from "./parse-number.ts";
import { splitCsvLine } from "./split-csv-line.ts";

/** One MiB, nvidia-smi's unit with `nounits`. */
const MIB = 1024 * 1024;

/** Arguments of the device query. */
export const NVIDIA_SMI_DEVICE_ARGS = ["--query-gpu=index,uuid,name,memory.total,memory.used", "--format=csv,noheader,nounits"];
/** Arguments of the per-process query. */
export const NVIDIA_SMI_APPS_ARGS = ["--query-compute-apps=pid,used_memory,gpu_uuid", "--format=csv,noheader,nounits"];

/** One compute process on one GPU, as nvidia-smi lists it. */
export interface ComputeApp {
  /** The pid as the driver sees it (the host's pid namespace: inside a container it may not be ours). */
  pid: number;
  /** Memory it holds on that GPU; null when the driver does not say ([N/A], e.g. under WDDM or without permission). */
  used: Bytes | null;
  gpuUuid: string;
}

const lines = (text: string): string[] =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
const quote = (text: string): string => JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);

/**
 * `nvidia-smi <NVIDIA_SMI_DEVICE_ARGS>`: one line per GPU, e.g. `0, GPU-5c3e…, NVIDIA H200, 143771, 1`,
 * into Devices (id = the index; usedAtStart = memory.used; reserve 0). A name with a comma keeps it
 * (the first two and last two fields are fixed). Output without a single GPU line (the driver's
 * "NVIDIA-SMI has failed…", or nothing) is an error; a line that is not a GPU line is skipped.
 */
export function parseNvidiaDevices(text: string): Parsed<Device[]> {
  const all = lines(text);
  if (all.length === 0) return { ok: false, error: "nvidia-smi listed no GPU" };
  const devices: Device[] = [];
  let bad: string | null = null;
  for (const line of all) {
    const f = splitCsvLine(line);
    const total = f.length >= 5 ? parseNumber(f[f.length - 2]) : null;
    if (f.length < 5 || !/^\d+$/.test(f[0]) || total === null) {
      bad ??= line;
      continue;
    }
    const index = Number(f[0]);
    devices.push({
      id: String(index),
      kind: "gpu",
      index,
      uuid: f[1] === "" ? null : f[1],
      name: f.slice(2, f.length - 2).join(", "),
      vendor: "nvidia",
      total: Math.round(total * MIB),
      usedAtStart: Math.round((parseNumber(f[f.length - 1]) ?? 0) * MIB),
      reserve: 0,
      source: "nvidia-smi",
    });
  }
  if (devices.length === 0) return { ok: false, error: `unparsable nvidia-smi output: ${quote(bad ?? "")}` };
  return { ok: true, value: devices };
}

/**
 * `nvidia-smi <NVIDIA_SMI_APPS_ARGS>`: one line per process and GPU, e.g. `4242, 1536, GPU-5c3e…`
 * (nothing at all when no process uses a GPU). Text with lines but no process line is an error.
 */
export function parseNvidiaComputeApps(text: string): Parsed<ComputeApp[]> {
  const all = lines(text);
  const apps: ComputeApp[] = [];
  let bad: string | null = null;
  for (const line of all) {
    const f = splitCsvLine(line);
    if (f.length !== 3 || !/^\d+$/.test(f[0]) || f[2] === "") {
      bad ??= line;
      continue;
    }
    const mib = parseNumber(f[1]);
    apps.push({ pid: Number(f[0]), used: mib === null ? null : Math.round(mib * MIB), gpuUuid: f[2] });
  }
  if (apps.length === 0 && bad !== null) return { ok: false, error: `unparsable nvidia-smi output: ${quote(bad)}` };
  return { ok: true, value: apps };
}

/**
 * What the processes `pids` hold per GPU: the compute apps' memory summed by device id (the GPU
 * found by UUID among `devices`). Apps on an unknown GPU, or whose memory the driver does not
 * report, are left out; a GPU none of them uses is absent (not 0).
 */
export function groupGpuUse(apps: readonly ComputeApp[], devices: readonly Device[], pids: Iterable<number>): Record<string, Bytes> {
  const wanted = new Set(pids);
  const byUuid = new Map(devices.filter((d) => d.uuid !== null).map((d) => [d.uuid, d.id]));
  const out: Record<string, Bytes> = {};
  for (const app of apps) {
    const id = byUuid.get(app.gpuUuid);
    if (!wanted.has(app.pid) || id === undefined || app.used === null) continue;
    out[id] = (out[id] ?? 0) + app.used;
  }
  return out;
}
