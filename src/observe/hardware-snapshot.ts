/**
 * The host description behind `/api/hardware`, in llama-swap's versioned HardwareSnapshot shape
 * (internal/hw/types.go, schema version 1; its UI's Hardware page reads it), and the pure parsers of
 * what it is built from: /proc/cpuinfo, /etc/os-release, cgroup memory limits, and the one-off
 * inventory queries of nvidia-smi and rocm-smi. Unknown facts are null, never a placeholder.
 * The files are read and the tools run at the edge (cli/hardware-monitor.ts). Web-standard.
 */
import { parseNumber, rocmSmiRows, splitCsvLine, type GpuTool, type Parsed, type PerformanceSamples } from "./hardware.ts";

/** What the HTTP layer reads (implemented at the edge, faked in tests). */
export interface HardwareMonitor {
  /** The samples kept; null when performance monitoring is disabled (`performance.disabled`). */
  samples(): PerformanceSamples | null;
  /** The host description detected once at start; null when detection failed. */
  snapshot(): Promise<HardwareSnapshot | null>;
}

export const HARDWARE_SCHEMA_VERSION = 1;

/** llama-swap's HardwareSnapshot (JSON names as there). */
export interface HardwareSnapshot {
  schema_version: number;
  /** ISO time of detection (UTC). */
  captured_at: string;
  capture: { scope: "inference_host"; method: "detected"; detector: { name: string; version: string } };
  architecture: { name: string; raw_name: string | null };
  operating_system: { family: string; name: string | null; version: string | null; kernel: string | null; raw_family?: string };
  environment: { kind: "native" | "container" | "virtual_machine" | "wsl" | "other" | "unknown"; name: string | null; version: string | null };
  cpu: { vendor: string | null; model: string | null; socket_count: number | null; physical_core_count: number | null; logical_thread_count: number | null };
  memory: { capacity_bytes: number };
  accelerators: Accelerator[];
  /** switchyard's addition: what each GPU tool said, so "no accelerators" says why. */
  accelerator_probes: AcceleratorProbe[];
}

/** One accelerator (llama-swap's Accelerator). */
export interface Accelerator {
  /** Dense, report-local index after merging and sorting. */
  index: number;
  kind: "gpu" | "npu" | "other";
  vendor: string | null;
  model: string | null;
  architecture: string | null;
  memory: { kind: "dedicated" | "unified" | "shared_system" | "unknown"; capacity_bytes: number | null };
  driver: { name: string | null; version: string | null } | null;
  power_limit_watts: number | null;
}

/** What one GPU tool answered at detection. */
export interface AcceleratorProbe {
  tool: GpuTool;
  status: "ok" | "absent" | "unparsable" | "failed";
  /** How many accelerators it reported. */
  found: number;
  detail: string | null;
}

/** An accelerator with the private identity (PCI address or UUID) used only to merge and sort. */
export interface DetectedAccelerator {
  identity: string;
  value: Omit<Accelerator, "index">;
}

// ---------------------------------------------------------------- the commands (llama-swap's fields and flags)

/** nvidia-smi's inventory query. */
export const NVIDIA_SMI_INVENTORY_ARGS = ["--query-gpu=index,name,uuid,pci.bus_id,memory.total,driver_version,power.limit", "--format=csv,noheader,nounits"];
/** Architecture names (newer drivers only). */
export const NVIDIA_SMI_ARCH_ARGS = ["--query-gpu=index,architecture", "--format=csv,noheader,nounits"];
/** Compute capabilities, for an architecture the driver does not name. */
export const NVIDIA_SMI_COMPUTE_CAP_ARGS = ["--query-gpu=index,compute_cap", "--format=csv,noheader,nounits"];
/** rocm-smi's inventory query, and the fallback for versions without driver and power columns. */
export const ROCM_SMI_INVENTORY_ARGS = ["-i", "--showmeminfo", "vram", "--showproductname", "--showdriverversion", "--showmaxpower", "--showbus", "--csv"];
export const ROCM_SMI_INVENTORY_FALLBACK_ARGS = ["-i", "--showmeminfo", "vram", "--showproductname", "--showbus", "--csv"];

// ---------------------------------------------------------------- helpers

/** Trimmed text, or null for "", n/a, unknown (never a placeholder string). */
export function known(text: string | undefined | null): string | null {
  const t = (text ?? "").trim();
  return t === "" || /^(\[?n\/a\]?|unknown|\[not supported\])$/i.test(t) ? null : t;
}

/** A PCI address in one spelling (`0000:17:00.0`), or "" (llama-swap's normalizePCIIdentity). */
export function normalizePciIdentity(text: string): string {
  let value = text.trim().toLowerCase();
  if (known(value) === null) return "";
  if (value.split(":").length === 2) value = `0000:${value}`;
  const parts = value.split(":");
  if (parts.length === 3 && /^[0-9a-f]+$/.test(parts[0])) parts[0] = parseInt(parts[0], 16).toString(16).padStart(4, "0");
  return parts.join(":");
}

/** NVIDIA's architecture for a compute capability (llama-swap's table), or null. */
export function nvidiaArchitecture(computeCap: string): string | null {
  const table: Record<string, string> = {
    "2.0": "Fermi", "2.1": "Fermi",
    "3.0": "Kepler", "3.2": "Kepler", "3.5": "Kepler", "3.7": "Kepler",
    "5.0": "Maxwell", "5.2": "Maxwell", "5.3": "Maxwell",
    "6.0": "Pascal", "6.1": "Pascal", "6.2": "Pascal",
    "7.0": "Volta", "7.2": "Volta", "7.5": "Turing",
    "8.0": "Ampere", "8.6": "Ampere", "8.7": "Ampere", "8.9": "Ada Lovelace",
    "9.0": "Hopper",
    "10.0": "Blackwell", "10.3": "Blackwell", "11.0": "Blackwell", "12.0": "Blackwell", "12.1": "Blackwell",
  };
  return table[computeCap.trim()] ?? null;
}

// ---------------------------------------------------------------- nvidia-smi

/** One GPU of nvidia-smi's inventory. */
export interface NvidiaRecord {
  index: number;
  name: string;
  uuid: string;
  busId: string;
  memoryBytes: number;
  driver: string;
  powerLimit: number | null;
  architecture: string | null;
}

/** `nvidia-smi <NVIDIA_SMI_INVENTORY_ARGS>`: seven columns a line; anything else is unparsable. */
export function parseNvidiaInventory(text: string): Parsed<NvidiaRecord[]> {
  const records: NvidiaRecord[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const f = splitCsvLine(line);
    if (f.length !== 7 || !/^\d+$/.test(f[0])) return { ok: false, error: `unparsable nvidia-smi output: ${JSON.stringify(line.slice(0, 120))}` };
    records.push({
      index: Number(f[0]),
      name: f[1],
      uuid: f[2],
      busId: f[3],
      memoryBytes: Math.round((parseNumber(f[4]) ?? 0) * 1024 * 1024),
      driver: f[5],
      powerLimit: parseNumber(f[6]),
      architecture: null,
    });
  }
  if (records.length === 0) return { ok: false, error: "nvidia-smi listed no GPU" };
  return { ok: true, value: records };
}

/** `index, value` lines (architecture or compute capability) applied to the records by index. */
export function applyNvidiaIndexed(records: NvidiaRecord[], text: string, apply: (r: NvidiaRecord, value: string) => void): void {
  const byIndex = new Map(records.map((r) => [r.index, r]));
  for (const line of text.split(/\r?\n/)) {
    const f = splitCsvLine(line);
    if (f.length !== 2 || !/^\d+$/.test(f[0])) continue;
    const r = byIndex.get(Number(f[0]));
    const value = known(f[1]);
    if (r && value !== null) apply(r, value);
  }
}

/** NVIDIA records as accelerators (identity: the PCI address, else the UUID). */
export function nvidiaAccelerators(records: readonly NvidiaRecord[]): DetectedAccelerator[] {
  return records.map((r) => {
    const version = known(r.driver);
    return {
      identity: normalizePciIdentity(r.busId) || r.uuid.trim(),
      value: {
        kind: "gpu",
        vendor: "NVIDIA",
        model: known(r.name),
        architecture: known(r.architecture),
        memory: { kind: "dedicated", capacity_bytes: r.memoryBytes > 0 ? r.memoryBytes : null },
        driver: version === null ? null : { name: "NVIDIA", version },
        power_limit_watts: r.powerLimit !== null && r.powerLimit > 0 ? r.powerLimit : null,
      },
    };
  });
}

// ---------------------------------------------------------------- rocm-smi

/** `rocm-smi <ROCM_SMI_INVENTORY_ARGS>` (CSV, or the same with --json) as accelerators. */
export function parseRocmInventory(text: string): Parsed<DetectedAccelerator[]> {
  const rows = rocmSmiRows(text);
  if (rows === null) return { ok: false, error: `unparsable rocm-smi output: ${JSON.stringify(text.trim().split("\n")[0]?.slice(0, 120) ?? "")}` };
  const out: DetectedAccelerator[] = [];
  for (const { device, fields } of rows) {
    if (!/^card\d+$/.test(device.trim())) continue;
    const first = (...names: string[]): string | null => {
      for (const n of names) {
        const v = known(fields.get(n));
        if (v !== null) return v;
      }
      return null;
    };
    const memory = parseNumber(first("vram total memory (b)") ?? "") ?? 0;
    const version = first("driver version");
    const power = parseNumber(first("max graphics package power (w)", "maximum graphics package power (w)") ?? "");
    out.push({
      identity: normalizePciIdentity(first("pci bus", "pci bus id", "bus") ?? "") || (first("guid", "unique id") ?? ""),
      value: {
        kind: "gpu",
        vendor: "AMD",
        model: first("card series", "device name", "card model"),
        architecture: first("gfx version"),
        memory: { kind: "dedicated", capacity_bytes: memory > 0 ? memory : null },
        driver: version === null ? null : { name: "amdgpu", version },
        power_limit_watts: power !== null && power > 0 ? power : null,
      },
    });
  }
  if (out.length === 0) return { ok: false, error: "rocm-smi listed no cardN device" };
  return { ok: true, value: out };
}

/**
 * Merge records of one device (same identity: an earlier non-null value wins), sort by identity
 * then model, and number them densely (llama-swap's finalizeAccelerators).
 */
export function finalizeAccelerators(found: readonly DetectedAccelerator[]): Accelerator[] {
  const merged: DetectedAccelerator[] = [];
  const byIdentity = new Map<string, DetectedAccelerator>();
  for (const c of found) {
    const prior = c.identity === "" ? undefined : byIdentity.get(c.identity);
    if (!prior) {
      const copy = { identity: c.identity, value: { ...c.value, memory: { ...c.value.memory } } };
      merged.push(copy);
      if (c.identity !== "") byIdentity.set(c.identity, copy);
      continue;
    }
    const d = prior.value;
    const s = c.value;
    d.vendor ??= s.vendor;
    d.model ??= s.model;
    d.architecture ??= s.architecture;
    if (d.memory.kind === "unknown") d.memory.kind = s.memory.kind;
    d.memory.capacity_bytes ??= s.memory.capacity_bytes;
    if (d.driver === null) d.driver = s.driver;
    else if (s.driver !== null) d.driver = { name: d.driver.name ?? s.driver.name, version: d.driver.version ?? s.driver.version };
    d.power_limit_watts ??= s.power_limit_watts;
  }
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  merged.sort((a, b) => cmp(a.identity, b.identity) || cmp(a.value.model ?? "", b.value.model ?? ""));
  return merged.map((m, index) => ({ index, ...m.value }));
}

// ---------------------------------------------------------------- host facts

/** Node's `process.arch` in llama-swap's names (Go's GOARCH names differ; the raw value is kept). */
export function normalizeArchitecture(raw: string): HardwareSnapshot["architecture"] {
  switch (raw) {
    case "x64":
      return { name: "x86_64", raw_name: raw };
    case "arm64":
    case "riscv64":
    case "s390x":
      return { name: raw, raw_name: null };
    case "ppc64":
      return { name: "ppc64le", raw_name: raw };
    case "arm":
      return { name: "armv7", raw_name: raw };
    default:
      return { name: "other", raw_name: raw };
  }
}

/** Node's `process.platform` as llama-swap's OS family. */
export function normalizeOsFamily(raw: string): { family: string; raw_family?: string } {
  switch (raw) {
    case "linux":
    case "freebsd":
      return { family: raw };
    case "darwin":
      return { family: "macos" };
    case "win32":
      return { family: "windows" };
    default:
      return { family: "other", raw_family: raw };
  }
}

/** `ID` and `VERSION_ID` of /etc/os-release (gopsutil's platform and platform version). */
export function parseOsRelease(text: string): { id: string | null; versionId: string | null } {
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) values.set(m[1], m[2].trim().replace(/^(["'])(.*)\1$/, "$2"));
  }
  return { id: known(values.get("ID")), versionId: known(values.get("VERSION_ID")) };
}

/**
 * /proc/cpuinfo: vendor and model of the first CPU that names them, logical threads (processor
 * entries), physical cores (distinct physical id + core id pairs) and sockets (distinct physical ids).
 * Counts that cannot be told are null (ARM kernels print no physical id, for instance).
 */
export function parseCpuinfo(text: string): HardwareSnapshot["cpu"] {
  let vendor: string | null = null;
  let model: string | null = null;
  let logical = 0;
  const cores = new Set<string>();
  const sockets = new Set<string>();
  for (const block of text.split(/\n\s*\n/)) {
    const f = new Map<string, string>();
    for (const line of block.split("\n")) {
      const i = line.indexOf(":");
      if (i > 0) f.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    if (!f.has("processor")) continue;
    logical++;
    vendor ??= known(f.get("vendor_id"));
    model ??= known(f.get("model name"));
    const socket = f.get("physical id");
    const core = f.get("core id");
    if (socket !== undefined) sockets.add(socket);
    if (socket !== undefined && core !== undefined) cores.add(`${socket}/${core}`);
  }
  const logicalCount = logical > 0 ? logical : null;
  const physical = cores.size > 0 && (logicalCount === null || cores.size <= logicalCount) ? cores.size : null;
  return { vendor, model, socket_count: sockets.size > 0 ? sockets.size : null, physical_core_count: physical, logical_thread_count: logicalCount };
}

/** A cgroup memory limit file (`memory.max`, `memory.limit_in_bytes`) in bytes, or null for none (`max`). */
export function parseCgroupLimit(text: string | null): number | null {
  const n = text === null ? null : parseNumber(text);
  return n !== null && n > 0 ? n : null;
}

/** Everything a snapshot is built from (read at the edge). */
export interface SnapshotInputs {
  capturedAt: string;
  detector: { name: string; version: string };
  arch: string;
  platform: string;
  osRelease: string | null;
  kernel: string | null;
  /** Whether /.dockerenv exists. */
  dockerEnv: boolean;
  cpuinfo: string | null;
  meminfo: string | null;
  /** /proc/zoneinfo, and the kernel's page size in bytes (null where unknown). */
  zoneinfo?: string | null;
  pageSize?: number | null;
  cgroupLimits: (string | null)[];
  accelerators: DetectedAccelerator[];
  probes: AcceleratorProbe[];
}

/**
 * The memory installed by /proc/zoneinfo: present pages of every zone but Device, times the page
 * size (llama-swap's zoneinfoMemoryCapacity); 0 when it cannot tell. MemTotal leaves out what the
 * kernel reserved at boot, so a 24 GiB machine reads 23.5 there.
 */
export function zoneinfoCapacity(zoneinfo: string | null | undefined, pageSize: number | null | undefined): number {
  if (!zoneinfo || !pageSize || pageSize <= 0) return 0;
  let pages = 0;
  let include = false;
  for (const line of zoneinfo.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 4 && f[0] === "Node" && f[2] === "zone") {
      include = f[3] !== "Device";
      continue;
    }
    if (!include || f.length !== 2 || f[0] !== "present") continue;
    const n = Number(f[1]);
    if (!Number.isSafeInteger(n) || n < 0) return 0;
    pages += n;
  }
  return pages > 0 ? pages * pageSize : 0;
}

/**
 * The snapshot, or why there is none: like llama-swap, system memory is the one required fact (its
 * capacity is the larger of MemTotal and /proc/zoneinfo's present pages, lowered to a cgroup
 * limit); everything else is best effort.
 */
export function buildSnapshot(inputs: SnapshotInputs): Parsed<HardwareSnapshot> {
  const memKb = /^MemTotal:\s+(\d+)/m.exec(inputs.meminfo ?? "");
  let capacity = memKb ? Number(memKb[1]) * 1024 : 0;
  if (capacity <= 0) return { ok: false, error: "system memory capacity unknown (no MemTotal in /proc/meminfo)" };
  capacity = Math.max(capacity, zoneinfoCapacity(inputs.zoneinfo, inputs.pageSize));
  for (const limit of inputs.cgroupLimits.map(parseCgroupLimit)) if (limit !== null && limit < capacity) capacity = limit;

  const os = normalizeOsFamily(inputs.platform);
  const release = inputs.osRelease === null ? { id: null, versionId: null } : parseOsRelease(inputs.osRelease);
  const kernel = known(inputs.kernel);
  const wsl = kernel !== null && /microsoft|wsl/i.test(kernel);
  const environment: HardwareSnapshot["environment"] = wsl
    ? { kind: "wsl", name: "WSL", version: null }
    : inputs.dockerEnv
      ? { kind: "container", name: "Docker", version: null }
      : { kind: "unknown", name: null, version: null };
  return {
    ok: true,
    value: {
      schema_version: HARDWARE_SCHEMA_VERSION,
      captured_at: inputs.capturedAt,
      capture: { scope: "inference_host", method: "detected", detector: inputs.detector },
      architecture: normalizeArchitecture(inputs.arch),
      operating_system: {
        family: os.family,
        name: os.family === "macos" ? "macOS" : release.id,
        version: release.versionId,
        kernel,
        ...(os.raw_family === undefined ? {} : { raw_family: os.raw_family }),
      },
      environment,
      cpu: inputs.cpuinfo === null ? { vendor: null, model: null, socket_count: null, physical_core_count: null, logical_thread_count: null } : parseCpuinfo(inputs.cpuinfo),
      memory: { capacity_bytes: capacity },
      accelerators: finalizeAccelerators(inputs.accelerators),
      accelerator_probes: inputs.probes,
    },
  };
}
