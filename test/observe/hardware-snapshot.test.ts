/** The `/api/hardware` snapshot: inventory parsers over captured output, merging, host facts. */
import { describe, expect, test } from "bun:test";
import {
  applyNvidiaIndexed,
  buildSnapshot,
  zoneinfoCapacity,
  finalizeAccelerators,
  normalizeArchitecture,
  normalizeOsFamily,
  normalizePciIdentity,
  nvidiaAccelerators,
  nvidiaArchitecture,
  parseCgroupLimit,
  parseCpuinfo,
  parseNvidiaInventory,
  parseOsRelease,
  parseRocmInventory,
  type SnapshotInputs,
} from "../../src/observe/hardware-snapshot.ts";

// nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,memory.total,driver_version,power.limit --format=csv,noheader,nounits
const NVIDIA_INVENTORY = `0, NVIDIA H200, GPU-5c3e8f1a-2b4d-4c6e-9f10-1a2b3c4d5e6f, 00000000:19:00.0, 143771, 570.124.06, 700.00
1, NVIDIA GeForce RTX 3090, GPU-7d9a0b1c-3e5f-4a7b-8c9d-0e1f2a3b4c5d, 00000000:0A:00.0, 24576, 570.124.06, [N/A]
`;

// rocm-smi -i --showmeminfo vram --showproductname --showdriverversion --showmaxpower --showbus --csv
const ROCM_INVENTORY = `device,Device ID,Device Rev,Subsystem ID,GUID,Max Graphics Package Power (W),PCI Bus,VRAM Total Memory (B),VRAM Total Used Memory (B),Card Series,Card Model,Card Vendor,Card SKU,Driver version,GFX Version
card0,0x744c,0xc8,0x5315,45523,327.0,0000:03:00.0,25753026560,429494272,Navi 31 [Radeon RX 7900 XT/7900 XTX],0x744c,"Advanced Micro Devices, Inc. [AMD/ATI]",EXT89175,6.8.5,gfx1100
`;

const CPUINFO_2S = [0, 1, 2, 3]
  .map((i) => `processor\t: ${i}\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz\nphysical id\t: ${i >> 1}\ncore id\t\t: ${i & 1}\nflags\t\t: fpu vme\n`)
  .join("\n");
const CPUINFO_ARM = "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n\nprocessor\t: 1\nBogoMIPS\t: 50.00\n";

describe("nvidia-smi inventory", () => {
  test("seven columns a GPU; [N/A] power limit is null; architecture by index, else by compute capability", () => {
    const r = parseNvidiaInventory(NVIDIA_INVENTORY);
    if (!r.ok) throw new Error(r.error);
    applyNvidiaIndexed(r.value, "0, Hopper\n1, [N/A]\n7, Ampere\n", (rec, v) => (rec.architecture = v));
    applyNvidiaIndexed(r.value, "0, 9.0\n1, 8.6\n", (rec, v) => (rec.architecture ??= nvidiaArchitecture(v)));
    expect(nvidiaAccelerators(r.value)).toEqual([
      {
        identity: "0000:19:00.0",
        value: {
          kind: "gpu",
          vendor: "NVIDIA",
          model: "NVIDIA H200",
          architecture: "Hopper",
          memory: { kind: "dedicated", capacity_bytes: 143771 * 1024 * 1024 },
          driver: { name: "NVIDIA", version: "570.124.06" },
          power_limit_watts: 700,
        },
      },
      expect.objectContaining({ identity: "0000:0a:00.0", value: expect.objectContaining({ architecture: "Ampere", power_limit_watts: null }) }),
    ]);
  });

  test("garbage or nothing: unparsable", () => {
    expect(parseNvidiaInventory("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.").ok).toBe(false);
    expect(parseNvidiaInventory("")).toEqual({ ok: false, error: "nvidia-smi listed no GPU" });
    expect(parseNvidiaInventory("0, a, b\n").ok).toBe(false);
  });

  test("compute capabilities (llama-swap's table)", () => {
    expect(["7.5", "8.9", "9.0", "12.0", "1.0"].map(nvidiaArchitecture)).toEqual(["Turing", "Ada Lovelace", "Hopper", "Blackwell", null]);
  });
});

describe("rocm-smi inventory", () => {
  test("CSV with a quoted vendor", () => {
    const r = parseRocmInventory(ROCM_INVENTORY);
    expect(r).toEqual({
      ok: true,
      value: [
        {
          identity: "0000:03:00.0",
          value: {
            kind: "gpu",
            vendor: "AMD",
            model: "Navi 31 [Radeon RX 7900 XT/7900 XTX]",
            architecture: "gfx1100",
            memory: { kind: "dedicated", capacity_bytes: 25753026560 },
            driver: { name: "amdgpu", version: "6.8.5" },
            power_limit_watts: 327,
          },
        },
      ],
    });
  });

  test("garbage: unparsable", () => {
    expect(parseRocmInventory("ERROR: No AMD GPUs specified").ok).toBe(false);
    expect(parseRocmInventory("device,GUID\n").ok).toBe(false);
  });
});

describe("merging and numbering", () => {
  test("one device seen twice merges (the first non-null wins); sorted by identity; dense indexes", () => {
    const base = { kind: "gpu" as const, vendor: null, model: null, architecture: null, memory: { kind: "unknown" as const, capacity_bytes: null }, driver: null, power_limit_watts: null };
    const out = finalizeAccelerators([
      { identity: "0000:19:00.0", value: { ...base, vendor: "NVIDIA", model: "B" } },
      { identity: "0000:03:00.0", value: { ...base, model: "A" } },
      { identity: "0000:19:00.0", value: { ...base, model: "ignored", architecture: "Hopper", memory: { kind: "dedicated", capacity_bytes: 1 }, driver: { name: "x", version: null } } },
      { identity: "", value: { ...base, model: "C" } },
    ]);
    expect(out.map((a) => [a.index, a.model, a.architecture, a.memory.kind])).toEqual([
      [0, "C", null, "unknown"],
      [1, "A", null, "unknown"],
      [2, "B", "Hopper", "dedicated"],
    ]);
  });

  test("PCI addresses in one spelling", () => {
    expect(normalizePciIdentity("00000000:0A:00.0")).toBe("0000:0a:00.0");
    expect(normalizePciIdentity("03:00.0")).toBe("0000:03:00.0");
    expect(normalizePciIdentity("N/A")).toBe("");
  });
});

describe("host facts", () => {
  test("cpuinfo: vendor, model, threads, cores, sockets; ARM without ids leaves counts null", () => {
    expect(parseCpuinfo(CPUINFO_2S)).toEqual({ vendor: "GenuineIntel", model: "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz", socket_count: 2, physical_core_count: 4, logical_thread_count: 4 });
    expect(parseCpuinfo(CPUINFO_ARM)).toEqual({ vendor: null, model: null, socket_count: null, physical_core_count: null, logical_thread_count: 2 });
    expect(parseCpuinfo("garbage")).toEqual({ vendor: null, model: null, socket_count: null, physical_core_count: null, logical_thread_count: null });
  });

  test("os-release, architecture and OS family names", () => {
    expect(parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n')).toEqual({ id: "debian", versionId: "12" });
    expect(parseOsRelease("")).toEqual({ id: null, versionId: null });
    expect(normalizeArchitecture("x64")).toEqual({ name: "x86_64", raw_name: "x64" });
    expect(normalizeArchitecture("arm64")).toEqual({ name: "arm64", raw_name: null });
    expect(normalizeArchitecture("mips")).toEqual({ name: "other", raw_name: "mips" });
    expect(normalizeOsFamily("darwin")).toEqual({ family: "macos" });
    expect(normalizeOsFamily("aix")).toEqual({ family: "other", raw_family: "aix" });
  });

  test("cgroup limits: a number of bytes, or none", () => {
    expect(parseCgroupLimit("8589934592\n")).toBe(8589934592);
    expect(parseCgroupLimit("max\n")).toBeNull();
    expect(parseCgroupLimit(null)).toBeNull();
  });
});

describe("the snapshot", () => {
  const inputs: SnapshotInputs = {
    capturedAt: "2026-03-01T12:00:00.000Z",
    detector: { name: "switchyard", version: "1.2.3" },
    arch: "x64",
    platform: "linux",
    osRelease: "ID=ubuntu\nVERSION_ID=24.04\n",
    kernel: "6.8.0-51-generic\n",
    dockerEnv: true,
    cpuinfo: CPUINFO_2S,
    meminfo: "MemTotal:       16384000 kB\nMemFree: 1 kB\n",
    cgroupLimits: ["max\n", null],
    accelerators: [],
    probes: [
      { tool: "nvidia-smi", status: "absent", found: 0, detail: "nvidia-smi is not on PATH" },
      { tool: "rocm-smi", status: "absent", found: 0, detail: "rocm-smi is not on PATH" },
    ],
  };

  test("llama-swap's schema version 1, accelerators [] when none, and the probes saying why", () => {
    expect(buildSnapshot(inputs)).toEqual({
      ok: true,
      value: {
        schema_version: 1,
        captured_at: "2026-03-01T12:00:00.000Z",
        capture: { scope: "inference_host", method: "detected", detector: { name: "switchyard", version: "1.2.3" } },
        architecture: { name: "x86_64", raw_name: "x64" },
        operating_system: { family: "linux", name: "ubuntu", version: "24.04", kernel: "6.8.0-51-generic" },
        environment: { kind: "container", name: "Docker", version: null },
        cpu: { vendor: "GenuineIntel", model: "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz", socket_count: 2, physical_core_count: 4, logical_thread_count: 4 },
        memory: { capacity_bytes: 16384000 * 1024 },
        accelerators: [],
        accelerator_probes: inputs.probes,
      },
    });
  });

  test("a cgroup limit lowers the memory capacity; WSL is told by the kernel name", () => {
    const r = buildSnapshot({ ...inputs, cgroupLimits: ["8589934592\n"], kernel: "5.15.167.4-microsoft-standard-WSL2", dockerEnv: false });
    expect(r.ok && r.value.memory.capacity_bytes).toBe(8589934592);
    expect(r.ok && r.value.environment).toEqual({ kind: "wsl", name: "WSL", version: null });
  });

  test("capacity: the present pages of /proc/zoneinfo (Device zones left out) when above MemTotal, as llama-swap counts it; a cgroup limit still lowers it", () => {
    const zoneinfo = [
      "Node 0, zone      DMA",
      "  pages free     3840",
      "        present  3998",
      "Node 0, zone    DMA32",
      "        present  782288",
      "Node 0, zone   Normal",
      "        present  5505024",
      "Node 0, zone   Device",
      "        present  999999",
    ].join("\n");
    const pages = 3998 + 782288 + 5505024;
    const r = buildSnapshot({ ...inputs, meminfo: "MemTotal:       24683772 kB\n", zoneinfo, pageSize: 4096, cgroupLimits: [] });
    expect(r.ok && r.value.memory.capacity_bytes).toBe(pages * 4096);
    expect(zoneinfoCapacity(zoneinfo, 4096)).toBe(pages * 4096);
    // MemTotal wins when it is larger, and garbage counts nothing.
    expect(zoneinfoCapacity("Node 0, zone Normal\n present x\n", 4096)).toBe(0);
    const small = buildSnapshot({ ...inputs, meminfo: "MemTotal: 100000000 kB\n", zoneinfo, pageSize: 4096, cgroupLimits: [] });
    expect(small.ok && small.value.memory.capacity_bytes).toBe(100000000 * 1024);
    const limited = buildSnapshot({ ...inputs, meminfo: "MemTotal:       24683772 kB\n", zoneinfo, pageSize: 4096, cgroupLimits: ["8589934592\n"] });
    expect(limited.ok && limited.value.memory.capacity_bytes).toBe(8589934592);
  });

  test("no memory capacity, no snapshot (llama-swap's one required fact)", () => {
    expect(buildSnapshot({ ...inputs, meminfo: null })).toEqual({ ok: false, error: "system memory capacity unknown (no MemTotal in /proc/meminfo)" });
    expect(buildSnapshot({ ...inputs, meminfo: "garbage" }).ok).toBe(false);
  });
});
