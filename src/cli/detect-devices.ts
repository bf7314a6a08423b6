/**
 * Device discovery at start (and for `--check`): nvidia-smi, else rocm-smi, for the GPUs, and
 * /proc/meminfo for the system RAM ("cpu"). Never throws: a tool that is missing or fails leaves
 * the CPU alone, and the text says so. The tools run through an injectable CommandRunner (tests
 * point it at a fake nvidia-smi); the parsing is placement's.
 */
import { readFile } from "node:fs/promises";
import { describeDevice } from "../placement/describe-device.ts";
import { meminfoDevice } from "../placement/meminfo.ts";
import { NVIDIA_SMI_DEVICE_ARGS, parseNvidiaDevices } from "../placement/nvidia-smi.ts";
import type { Parsed } from "../placement/parsed.ts";
import { parseRocmDevices, ROCM_SMI_DEVICE_ARGS } from "../placement/rocm-smi.ts";
import type { Device } from "../placement/types.ts";
import { createCommandRunner, type CommandRunner } from "./run-command.ts";

/** Where detection looks. */
export interface DetectDevicesOptions {
  /** Runs nvidia-smi and rocm-smi (default: createCommandRunner() on this process's PATH). */
  run?: CommandRunner;
  /** Reads a file, null when it cannot (default: readFile as UTF-8). */
  readText?: (path: string) => Promise<string | null>;
  /** Root of the proc file system (default /proc). */
  procRoot?: string;
}

/** What was detected. */
export interface DetectedDevices {
  /** The GPUs in index order, then "cpu" (absent only when /proc/meminfo cannot be read). */
  devices: Device[];
  /** One line per device (describeDevice), then one line per problem, for the startup log and --check. */
  lines: string[];
  /** Which tool the GPUs came from, or null when none answered. */
  gpuTool: "nvidia-smi" | "rocm-smi" | null;
}

const readTextFile = (path: string): Promise<string | null> => readFile(path, "utf8").catch(() => null);

/** One GPU tool: its Devices, or why there are none. */
async function probe(run: CommandRunner, argv: string[], parse: (text: string) => Parsed<Device[]>): Promise<Parsed<Device[]>> {
  const result = await run(argv);
  if (result.status !== "ok") return { ok: false, error: result.status === "missing" ? "not on PATH" : result.detail };
  return parse(result.stdout);
}

/** Detect the devices: GPUs from nvidia-smi (else rocm-smi), then the CPU from /proc/meminfo. */
export async function detectDevices(opts: DetectDevicesOptions = {}): Promise<DetectedDevices> {
  const run = opts.run ?? createCommandRunner();
  const readText = opts.readText ?? readTextFile;
  const problems: string[] = [];
  let gpus: Device[] = [];
  let gpuTool: DetectedDevices["gpuTool"] = null;
  const nvidia = await probe(run, ["nvidia-smi", ...NVIDIA_SMI_DEVICE_ARGS], parseNvidiaDevices);
  if (nvidia.ok) {
    gpus = nvidia.value;
    gpuTool = "nvidia-smi";
  } else {
    const rocm = await probe(run, ["rocm-smi", ...ROCM_SMI_DEVICE_ARGS], parseRocmDevices);
    if (rocm.ok) {
      gpus = rocm.value;
      gpuTool = "rocm-smi";
    } else problems.push(`no GPU detected (nvidia-smi: ${nvidia.error}; rocm-smi: ${rocm.error}): placing on the CPU only`);
  }
  const meminfoPath = `${opts.procRoot ?? "/proc"}/meminfo`;
  const text = await readText(meminfoPath);
  const cpu = text === null ? ({ ok: false, error: `cannot read ${meminfoPath}` } as const) : meminfoDevice(text);
  if (!cpu.ok) problems.push(`no cpu device: ${cpu.error}`);
  const devices = cpu.ok ? [...gpus, cpu.value] : gpus;
  return { devices, lines: [...devices.map(describeDevice), ...problems], gpuTool };
}
