/** nvidia-smi's device and per-process queries → Devices and per-GPU use of a process group. */
import { describe, expect, test } from "bun:test";
import { groupGpuUse, parseNvidiaComputeApps, parseNvidiaDevices } from "../../src/placement/nvidia-smi.ts";

const MIB = 1024 * 1024;
const H200_0 = "GPU-5c3e8f1a-2b4d-4c6e-9f10-1a2b3c4d5e6f";
const H200_1 = "GPU-7d9a0b1c-3e5f-4a7b-8c9d-0e1f2a3b4c5d";

// nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used --format=csv,noheader,nounits (two H200s, one busy)
const H200x2 = `0, ${H200_0}, NVIDIA H200, 143771, 1
1, ${H200_1}, NVIDIA H200, 143771, 80123
`;
// nvidia-smi --query-compute-apps=pid,used_memory,gpu_uuid --format=csv,noheader,nounits
const APPS = `4242, 1536, ${H200_0}
4243, 512, ${H200_0}
4242, 2048, ${H200_1}
777, 70000, ${H200_1}
`;

describe("parseNvidiaDevices", () => {
  test("two H200s: index as id, MiB as bytes, used at start", () => {
    const r = parseNvidiaDevices(H200x2);
    if (!r.ok) throw new Error(r.error);
    expect(r.value).toEqual([
      { id: "0", kind: "gpu", index: 0, uuid: H200_0, name: "NVIDIA H200", vendor: "nvidia", total: 143771 * MIB, usedAtStart: 1 * MIB, reserve: 0, source: "nvidia-smi" },
      { id: "1", kind: "gpu", index: 1, uuid: H200_1, name: "NVIDIA H200", vendor: "nvidia", total: 143771 * MIB, usedAtStart: 80123 * MIB, reserve: 0, source: "nvidia-smi" },
    ]);
  });

  test("a name with a comma, CRLF line ends, [N/A] used", () => {
    const r = parseNvidiaDevices("0, GPU-aaaa, NVIDIA RTX A6000, Ada Generation, 49140, [N/A]\r\n");
    if (!r.ok) throw new Error(r.error);
    expect(r.value[0]).toMatchObject({ name: "NVIDIA RTX A6000, Ada Generation", total: 49140 * MIB, usedAtStart: 0 });
  });

  test("the driver's failure text, nothing at all, and a stray line among GPU lines", () => {
    const noDriver = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n";
    const r = parseNvidiaDevices(noDriver);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toStartWith('unparsable nvidia-smi output: "NVIDIA-SMI has failed');
    expect(parseNvidiaDevices("\n")).toEqual({ ok: false, error: "nvidia-smi listed no GPU" });
    const mixed = parseNvidiaDevices(`WARNING: infoROM is corrupted at gpu 0000:17:00.0\n${H200x2}`);
    expect(mixed.ok && mixed.value.map((d) => d.id)).toEqual(["0", "1"]);
  });
});

describe("parseNvidiaComputeApps", () => {
  test("one line per process and GPU; [N/A] memory is null; no process is an empty list", () => {
    const r = parseNvidiaComputeApps(`${APPS}9, [N/A], ${H200_0}\n`);
    if (!r.ok) throw new Error(r.error);
    expect(r.value[0]).toEqual({ pid: 4242, used: 1536 * MIB, gpuUuid: H200_0 });
    expect(r.value[4]).toEqual({ pid: 9, used: null, gpuUuid: H200_0 });
    expect(parseNvidiaComputeApps("")).toEqual({ ok: true, value: [] });
    expect(parseNvidiaComputeApps("No running processes found\n").ok).toBe(false);
  });
});

describe("groupGpuUse", () => {
  test("sums the group's pids per GPU, by UUID; others, unknown GPUs and unknown amounts are left out", () => {
    const devices = parseNvidiaDevices(H200x2);
    const apps = parseNvidiaComputeApps(`${APPS}4242, 10, GPU-not-ours\n4243, [N/A], ${H200_1}\n`);
    if (!devices.ok || !apps.ok) throw new Error("fixtures");
    expect(groupGpuUse(apps.value, devices.value, [4242, 4243])).toEqual({ "0": 2048 * MIB, "1": 2048 * MIB });
    expect(groupGpuUse(apps.value, devices.value, [777])).toEqual({ "1": 70000 * MIB });
    expect(groupGpuUse(apps.value, devices.value, [1])).toEqual({});
  });
});
