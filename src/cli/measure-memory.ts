/**
 * What a running model really uses, measured at the edge after it turned ready. The supervisor
 * starts each model as the leader of its own process group, so the model is that group: its pids
 * are found by scanning /proc/<pid>/stat for the group id. The CPU figure is the group's PSS
 * (/proc/<pid>/smaps_rollup) when every member's is readable, else its RSS (VmRSS of
 * /proc/<pid>/status); on NVIDIA, the GPU figure is nvidia-smi's per-process memory summed over
 * the group's pids per GPU. A backend outside our group (a container) is measured instead as the
 * devices' used memory after its load minus before (placement/device-delta.ts).
 *
 * Caveats: RSS and PSS count a model file's mmap'd pages that are resident, even when the weights
 * live on the GPU; inside a container nvidia-smi may report host pids that are not ours (then the
 * GPU figure is empty and deviceDelta is the way).
 */
import { readdir, readFile } from "node:fs/promises";
import { groupGpuUse, NVIDIA_SMI_APPS_ARGS, parseNvidiaComputeApps } from "../placement/nvidia-smi.ts";
import type { Bytes, Device, Measurement } from "../placement/types.ts";
import { createCommandRunner, type CommandRunner } from "./run-command.ts";

const readText = (path: string): Promise<string | null> => readFile(path, "utf8").catch(() => null);

/** A `Name:   1234 kB` value of a /proc file, in bytes, or null when absent. */
function kbField(text: string, name: string): Bytes | null {
  const m = new RegExp(`^${name}:\\s+(\\d+)\\s*kB`, "m").exec(text);
  return m ? Number(m[1]) * 1024 : null;
}

/** The live (not zombie) pids of process group `pgid`, found by scanning /proc/<pid>/stat; [] when there is none. */
export async function processGroupPids(pgid: number, procRoot = "/proc"): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(procRoot);
  } catch {
    return [];
  }
  const pids = await Promise.all(
    names
      .filter((n) => /^\d+$/.test(n))
      .map(async (n) => {
        const stat = await readText(`${procRoot}/${n}/stat`);
        if (stat === null) return null;
        // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ")".
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return f[0] !== "Z" && f[0] !== "X" && Number(f[2]) === pgid ? Number(n) : null;
      }),
  );
  return pids.filter((p): p is number => p !== null).sort((a, b) => a - b);
}

/** Resident memory of `pids` together: PSS when every member's smaps_rollup is readable, else RSS (VmRSS); gone pids count 0. */
export async function residentMemory(pids: readonly number[], procRoot = "/proc"): Promise<{ bytes: Bytes; method: "pss" | "rss" }> {
  const read = await Promise.all(
    pids.map(async (pid) => {
      const [rollup, status] = await Promise.all([readText(`${procRoot}/${pid}/smaps_rollup`), readText(`${procRoot}/${pid}/status`)]);
      return { pss: rollup === null ? null : kbField(rollup, "Pss"), rss: status === null ? null : kbField(status, "VmRSS") };
    }),
  );
  const live = read.filter((r) => r.pss !== null || r.rss !== null);
  if (live.length > 0 && live.every((r) => r.pss !== null)) return { bytes: live.reduce((s, r) => s + (r.pss ?? 0), 0), method: "pss" };
  return { bytes: live.reduce((s, r) => s + (r.rss ?? 0), 0), method: "rss" };
}

/** What measureGroup needs. */
export interface MeasureGroupOptions {
  model: string;
  /** The model's process group id (its leader's pid). */
  pgid: number;
  /** The detected devices: nvidia-smi is asked only when one of them is an NVIDIA GPU with a UUID. */
  devices: readonly Device[];
  /** Runs nvidia-smi (default: createCommandRunner()). */
  run?: CommandRunner;
  procRoot?: string;
  /** The clock (default Date.now). */
  now?: () => number;
}

/** A measurement of a process group, and whether its GPU use could be read at all. */
export interface GroupMeasurement extends Measurement {
  /** nvidia-smi answered for the NVIDIA GPUs: no GPU figure then means the group holds no GPU memory there (false: unknown). */
  gpusRead: boolean;
}

/**
 * Measure a model's process group: `cpu` → its PSS or RSS, and each NVIDIA GPU its pids use →
 * their summed per-process memory. The method is "nvidia-per-process" when some GPU memory was
 * found, else the CPU figure's ("pss" or "rss"). A failing nvidia-smi leaves the GPUs out
 * (`gpusRead` false, as without NVIDIA GPUs).
 */
export async function measureGroup(opts: MeasureGroupOptions): Promise<GroupMeasurement> {
  const procRoot = opts.procRoot ?? "/proc";
  const pids = await processGroupPids(opts.pgid, procRoot);
  const cpu = await residentMemory(pids, procRoot);
  let gpu: Record<string, Bytes> = {};
  let gpusRead = false;
  if (opts.devices.some((d) => d.vendor === "nvidia" && d.uuid !== null)) {
    const result = await (opts.run ?? createCommandRunner())(["nvidia-smi", ...NVIDIA_SMI_APPS_ARGS]);
    const apps = result.status === "ok" ? parseNvidiaComputeApps(result.stdout) : null;
    if (apps?.ok) {
      gpu = groupGpuUse(apps.value, opts.devices, pids);
      gpusRead = true;
    }
  }
  const onGpu = Object.values(gpu).some((b) => b > 0);
  return { model: opts.model, perDevice: { ...gpu, cpu: cpu.bytes }, method: onGpu ? "nvidia-per-process" : cpu.method, at: (opts.now ?? Date.now)(), gpusRead };
}
