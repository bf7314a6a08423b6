/**
 * The performance monitor and the hardware snapshot at the edge (Bun): every `everyMs` it reads
 * /proc (memory, CPU counters, load, network) and, when one is on PATH, runs nvidia-smi or rocm-smi
 * once (never two runs at a time: the next sample waits for the last to finish, and the first waits
 * for detection); a tool that hangs is killed after a timeout. Samples go into one-hour rings (observe/hardware.ts). The host description
 * is detected once, at start. `stop()` ends the loop and kills a tool still running.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Logger } from "../log/types.ts";
import { sleep } from "../process/abortable-sleep.ts";
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

const MAX_OUTPUT = 1 << 20;

/** Read a pipe to its end (at most MAX_OUTPUT bytes kept), or until `signal` aborts. */
async function readPipe(stream: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<string> {
  const reader = stream.getReader();
  const onAbort = () => void reader.cancel().catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (text.length < MAX_OUTPUT) text += decoder.decode(value, { stream: true });
    }
  } catch {
    // cancelled or broken: what was read is all there is
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  return text + decoder.decode();
}

/** The first non-empty line of a tool's complaint. */
const firstLine = (text: string): string => text.split("\n").map((l) => l.trim()).find((l) => l !== "")?.slice(0, 200) ?? "";

/**
 * Run `path args` with no shell and no stdin; a run still going after `timeoutMs`, or when `stop`
 * aborts, is killed with SIGKILL and reported as failed.
 */
async function runTool(path: string, args: string[], timeoutMs: number, stop: AbortSignal): Promise<ToolRun> {
  const name = path.split("/").pop() ?? path;
  if (stop.aborted) return { ok: false, error: `${name} not run: stopping` };
  let proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  try {
    proc = Bun.spawn([path, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  } catch (err) {
    return { ok: false, error: `cannot run ${name}: ${(err as Error).message}` };
  }
  const cut = new AbortController();
  const timer = setTimeout(() => cut.abort(new Error("timeout")), timeoutMs);
  const onStop = () => cut.abort(new Error("stopped"));
  stop.addEventListener("abort", onStop, { once: true });
  const aborted = new Promise<"cut">((resolve) => cut.signal.addEventListener("abort", () => resolve("cut"), { once: true }));
  try {
    const finished = Promise.all([readPipe(proc.stdout, cut.signal), readPipe(proc.stderr, cut.signal), proc.exited]);
    const result = await Promise.race([finished, aborted]);
    if (result === "cut") {
      proc.kill("SIGKILL");
      const why = (cut.signal.reason as Error).message;
      return { ok: false, error: why === "timeout" ? `${name} did not answer within ${timeoutMs} ms; killed` : `${name} stopped` };
    }
    const [stdout, stderr, code] = result;
    if (code !== 0) return { ok: false, error: `${name} exited with code ${code}${firstLine(stderr || stdout) ? `: ${firstLine(stderr || stdout)}` : ""}` };
    return { ok: true, stdout };
  } finally {
    clearTimeout(timer);
    stop.removeEventListener("abort", onStop);
  }
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

  const run = async (): Promise<void> => {
    // Detection runs the same tools: let it finish first, so no two tool runs ever overlap.
    await detection;
    // The baseline for the first sample's CPU percentages.
    const first = sysSample(await readProc(), null, new Date().toISOString());
    if (first.ok) prevCpu = first.value.cpu;
    while (!stopper.signal.aborted) {
      const ticked = await sleep(everyMs, stopper.signal).then(() => true, () => false);
      if (!ticked) break;
      await Promise.all([sampleSys(), sampleGpu()]);
    }
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
    const [osRelease, kernel, cpuinfo, meminfo, cgroupV2, cgroupV1] = await Promise.all([
      readText("/etc/os-release"),
      readText(`${proc}/sys/kernel/osrelease`),
      readText(`${proc}/cpuinfo`),
      readText(`${proc}/meminfo`),
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
