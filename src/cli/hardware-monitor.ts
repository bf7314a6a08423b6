/**
 * The performance monitor and the hardware snapshot at the edge (Bun): every `everyMs`, on a fixed
 * schedule, it reads /proc (memory, CPU counters, load, network; node:os where there is no /proc)
 * and, on a schedule of its own, runs nvidia-smi or rocm-smi once when one is on PATH (never two
 * runs at a time: the next sample waits for the last to finish, and the first waits for
 * detection); a tool that hangs is killed after a timeout, and not started again while it lingers. Samples go into one-hour rings (observe/hardware.ts). The host description
 * is detected once, at start. `stop()` ends the loop and kills a tool still running.
 */
import { existsSync } from "node:fs";
import os from "node:os";
import { readFile } from "node:fs/promises";
import type { Logger } from "../log/types.ts";
import { sleep } from "../process/abortable-sleep.ts";
import { runToolProcess, toolFailure } from "./tool-process.ts";
import {
  createRing,
  NVIDIA_SMI_ARGS,
  parseGpuTool,
  ringCapacity,
  ROCM_SMI_ARGS,
  sysSample,
  type CpuTimes,
  type GpuMonitorState,
  type GpuStat,
  type GpuTool,
  type PerformanceSamples,
  type SysStat,
} from "../observe/hardware.ts";
import {
  applyNvidiaIndexed,
  buildSnapshot,
  NVIDIA_SMI_ARCH_ARGS,
  NVIDIA_SMI_COMPUTE_CAP_ARGS,
  NVIDIA_SMI_INVENTORY_ARGS,
  nvidiaAccelerators,
  nvidiaArchitecture,
  parseNvidiaInventory,
  parseRocmInventory,
  ROCM_SMI_INVENTORY_ARGS,
  ROCM_SMI_INVENTORY_FALLBACK_ARGS,
  type AcceleratorProbe,
  type DetectedAccelerator,
  type HardwareMonitor,
  type HardwareSnapshot,
} from "../observe/hardware-snapshot.ts";

/** Options of the monitor. */
export interface HardwareMonitorOptions {
  /** Sample at all (`performance.disabled` turns it off; the snapshot is still detected). */
  enabled: boolean;
  /** Milliseconds between samples (at least 100, as llama-swap's floor). */
  everyMs: number;
  /** Named in the snapshot's detector. */
  version: string;
  log: Logger;
  /** Where the tools are: a path, or null for "not installed" (default: looked up on PATH). */
  tools?: Partial<Record<GpuTool, string | null>>;
  /** A tool run that takes longer is killed (default 5000 ms, llama-swap's rocm-smi poll timeout). */
  toolTimeoutMs?: number;
  /** Root of the proc file system (default /proc). */
  procRoot?: string;
}

/** The monitor as serve mode holds it. */
export interface RunningHardwareMonitor extends HardwareMonitor {
  /** Start sampling (and detection); a second call does nothing. */
  start(): void;
  /** Stop sampling, kill a tool still running, and wait until the loop has ended. */
  stop(): Promise<void>;
}

/** The result of one tool run. */
type ToolRun = { ok: true; stdout: string } | { ok: false; error: string };

/**
 * Run `path args` once (cli/tool-process.ts): a run still going after `timeoutMs`, or when `stop`
 * aborts, is killed and reported as failed, and so is a run not started because the last one,
 * killed, has not exited yet.
 */
async function runTool(path: string, args: string[], timeoutMs: number, stop: AbortSignal): Promise<ToolRun> {
  const name = path.split("/").pop() ?? path;
  if (stop.aborted) return { ok: false, error: `${name} not run: stopping` };
  const r = await runToolProcess(path, args, { timeoutMs, signal: stop });
  if (r.kind === "exited" && r.code === 0) return { ok: true, stdout: r.stdout };
  return { ok: false, error: toolFailure(name, r, timeoutMs) };
}

/**
 * Memory, CPU counters and load from node:os in /proc's own formats (meminfo in kB, one `cpuN` line
 * of user nice system idle iowait irq per CPU, loadavg), for systems without /proc (macOS), so one
 * parser serves both. os.cpus() counts in ms, not jiffies: only ratios are taken from it.
 */
function osTexts(): { meminfo: string; stat: string; loadavg: string } {
  const kb = (bytes: number): number => Math.floor(bytes / 1024);
  const free = kb(os.freemem());
  const meminfo = `MemTotal: ${kb(os.totalmem())} kB\nMemFree: ${free} kB\nMemAvailable: ${free} kB\n`;
  const stat = os
    .cpus()
    .map((c, i) => `cpu${i} ${c.times.user} ${c.times.nice} ${c.times.sys} ${c.times.idle} 0 ${c.times.irq}`)
    .join("\n");
  const [l1, l5, l15] = os.loadavg();
  return { meminfo, stat, loadavg: `${l1} ${l5} ${l15} 0/0 0\n` };
}

/** The kernel's page size from /proc/self/smaps (`KernelPageSize: 4 kB`), or null. */
function pageSizeOf(smaps: string | null): number | null {
  const m = smaps ? /^KernelPageSize:\s+(\d+) kB/m.exec(smaps) : null;
  return m ? Number(m[1]) * 1024 : null;
}

const readText = (path: string): Promise<string | null> => readFile(path, "utf8").catch(() => null);

/** Create the monitor (nothing runs until `start()`). */
export function createHardwareMonitor(opts: HardwareMonitorOptions): RunningHardwareMonitor {
  const everyMs = Math.max(100, opts.everyMs);
  const toolTimeoutMs = opts.toolTimeoutMs ?? 5000;
  const proc = opts.procRoot ?? "/proc";
  const log = opts.log;
  const which = (tool: GpuTool): string | null => (opts.tools && tool in opts.tools ? (opts.tools[tool] ?? null) : Bun.which(tool));
  const sysRing = createRing<SysStat>(ringCapacity(everyMs));
  const gpuRing = createRing<GpuStat[]>(ringCapacity(everyMs));
  const stopper = new AbortController();
  let gpuTool: { tool: GpuTool; path: string } | null = null;
  let gpuState: GpuMonitorState = { tool: null, status: "pending", detail: null };
  let sysError: string | null = null;
  let loop: Promise<void> | null = null;
  let detection: Promise<HardwareSnapshot | null> | null = null;

  const readProc = async () => {
    const [meminfo, stat, loadavg, netDev] = await Promise.all(["meminfo", "stat", "loadavg", "net/dev"].map((f) => readText(`${proc}/${f}`)));
    // No /proc (macOS): the same figures from node:os, written as /proc would have them.
    if (meminfo === null && stat === null) return { ...osTexts(), netDev: null };
    return { meminfo, stat, loadavg, netDev };
  };

  const setGpuState = (next: GpuMonitorState): void => {
    if (next.status !== gpuState.status || next.detail !== gpuState.detail) {
      if (next.status === "ok") log.info(`performance: reading GPUs with ${next.tool}`);
      else if (next.status !== "pending") log.warn(`performance: GPU samples ${next.status}: ${next.detail}`);
    }
    gpuState = next;
  };

  let prevCpu: CpuTimes[] | null = null;
  const sampleSys = async (): Promise<void> => {
    const r = sysSample(await readProc(), prevCpu, new Date().toISOString());
    if (r.ok) {
      prevCpu = r.value.cpu;
      sysRing.push(r.value.stat);
      sysError = null;
    } else if (r.error !== sysError) {
      sysError = r.error;
      log.warn(`performance: system sample skipped: ${r.error}`);
    }
  };

  const sampleGpu = async (): Promise<void> => {
    if (gpuTool === null) return;
    const { tool, path } = gpuTool;
    const run = await runTool(path, tool === "nvidia-smi" ? NVIDIA_SMI_ARGS : ROCM_SMI_ARGS, toolTimeoutMs, stopper.signal);
    if (stopper.signal.aborted) return;
    if (!run.ok) return setGpuState({ tool, status: "failed", detail: run.error });
    const parsed = parseGpuTool(tool, run.stdout, new Date().toISOString());
    if (!parsed.ok) return setGpuState({ tool, status: "unparsable", detail: parsed.error });
    gpuRing.push(parsed.value);
    setGpuState({ tool, status: "ok", detail: null });
  };

  /**
   * Take `sample` every `everyMs` on a fixed schedule (llama-swap's ticker): a slow sample delays
   * only its own next one, and ticks it ran past are skipped rather than taken back to back.
   */
  const every = async (sample: () => Promise<void>): Promise<void> => {
    let next = performance.now() + everyMs;
    while (!stopper.signal.aborted) {
      const ticked = await sleep(Math.max(0, next - performance.now()), stopper.signal).then(() => true, () => false);
      if (!ticked) break;
      await sample();
      next += everyMs;
      const now = performance.now();
      if (next <= now) next += Math.ceil((now - next) / everyMs) * everyMs;
    }
  };

  const run = async (): Promise<void> => {
    // System samples and GPU samples each on their own schedule: a slow or hung GPU tool must not
    // hold back the CPU and memory charts.
    const system = (async () => {
      // The baseline for the first sample's CPU percentages.
      const first = sysSample(await readProc(), null, new Date().toISOString());
      if (first.ok) prevCpu = first.value.cpu;
      await every(sampleSys);
    })();
    const gpus = (async () => {
      if (gpuTool === null) return;
      // Detection runs the same tools: let it finish first, so no two tool runs ever overlap.
      await detection;
      await every(sampleGpu);
    })();
    await Promise.all([system, gpus]);
  };

  const probe = async (tool: GpuTool, attempts: string[][], parse: (path: string, stdout: string) => Promise<DetectedAccelerator[] | string>): Promise<{ probe: AcceleratorProbe; found: DetectedAccelerator[] }> => {
    const path = which(tool);
    if (path === null) return { probe: { tool, status: "absent", found: 0, detail: `${tool} is not on PATH` }, found: [] };
    let last: ToolRun = { ok: false, error: "not run" };
    for (const args of attempts) {
      last = await runTool(path, args, toolTimeoutMs, stopper.signal);
      if (last.ok) break;
    }
    if (!last.ok) return { probe: { tool, status: "failed", found: 0, detail: last.error }, found: [] };
    const parsed = await parse(path, last.stdout);
    if (typeof parsed === "string") return { probe: { tool, status: "unparsable", found: 0, detail: parsed }, found: [] };
    return { probe: { tool, status: "ok", found: parsed.length, detail: null }, found: parsed };
  };

  const detect = async (): Promise<HardwareSnapshot | null> => {
    const nvidia = await probe("nvidia-smi", [NVIDIA_SMI_INVENTORY_ARGS], async (path, stdout) => {
      const records = parseNvidiaInventory(stdout);
      if (!records.ok) return records.error;
      const arch = await runTool(path, NVIDIA_SMI_ARCH_ARGS, toolTimeoutMs, stopper.signal);
      if (arch.ok) applyNvidiaIndexed(records.value, arch.stdout, (r, v) => (r.architecture = v));
      if (records.value.some((r) => r.architecture === null)) {
        const caps = await runTool(path, NVIDIA_SMI_COMPUTE_CAP_ARGS, toolTimeoutMs, stopper.signal);
        if (caps.ok) applyNvidiaIndexed(records.value, caps.stdout, (r, v) => (r.architecture ??= nvidiaArchitecture(v)));
      }
      return nvidiaAccelerators(records.value);
    });
    const rocm = await probe("rocm-smi", [ROCM_SMI_INVENTORY_ARGS, ROCM_SMI_INVENTORY_FALLBACK_ARGS], async (_path, stdout) => {
      const r = parseRocmInventory(stdout);
      return r.ok ? r.value : r.error;
    });
    const [osRelease, kernel, cpuinfo, meminfo, zoneinfo, smaps, cgroupV2, cgroupV1] = await Promise.all([
      readText("/etc/os-release"),
      readText(`${proc}/sys/kernel/osrelease`),
      readText(`${proc}/cpuinfo`),
      readText(`${proc}/meminfo`).then((t) => t ?? osTexts().meminfo),
      readText(`${proc}/zoneinfo`),
      // The page size: JavaScript has no getpagesize(); the kernel tells it per mapping.
      readText(`${proc}/self/smaps`),
      readText("/sys/fs/cgroup/memory.max"),
      readText("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
    ]);
    const built = buildSnapshot({
      capturedAt: new Date().toISOString(),
      detector: { name: "switchyard", version: opts.version },
      arch: process.arch,
      platform: process.platform,
      osRelease,
      kernel,
      dockerEnv: existsSync("/.dockerenv"),
      cpuinfo,
      meminfo,
      zoneinfo,
      pageSize: pageSizeOf(smaps),
      cgroupLimits: [cgroupV2, cgroupV1],
      accelerators: [...nvidia.found, ...rocm.found],
      probes: [nvidia.probe, rocm.probe],
    });
    if (!built.ok) {
      log.warn(`hardware detection unavailable: ${built.error}`);
      return null;
    }
    return built.value;
  };

  return {
    start() {
      if (loop !== null || stopper.signal.aborted) return;
      detection ??= detect();
      if (!opts.enabled) {
        log.info("performance monitoring is disabled");
        loop = Promise.resolve();
        return;
      }
      // llama-swap's order: nvidia-smi first, then rocm-smi.
      for (const tool of ["nvidia-smi", "rocm-smi"] as const) {
        const path = which(tool);
        if (path !== null) {
          gpuTool = { tool, path };
          break;
        }
      }
      gpuState = gpuTool ? { tool: gpuTool.tool, status: "pending", detail: null } : { tool: null, status: "absent", detail: "no GPU tool: neither nvidia-smi nor rocm-smi is on PATH" };
      if (gpuTool === null) log.info("performance: no GPU tool (nvidia-smi, rocm-smi) on PATH; GPU samples absent");
      loop = run().catch((err) => log.error(`performance monitor stopped: ${(err as Error)?.message ?? err}`));
    },
    async stop() {
      stopper.abort();
      await loop;
      await detection;
    },
    samples(): PerformanceSamples | null {
      if (!opts.enabled) return null;
      return { sys: sysRing.toArray(), gpu: gpuRing.toArray().flat(), gpuMonitor: { ...gpuState } };
    },
    snapshot() {
      detection ??= detect();
      return detection;
    },
  };
}
