/**
 * Measuring real simulator children, each the leader of its own process group as the supervisor
 * starts models: the group's RSS/PSS with --memory-mb, and per-process GPU memory with --gpu-mb
 * through the fake nvidia-smi (several simulators on two GPUs), and the device delta.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { detectDevices } from "../../src/cli/detect-devices.ts";
import { measureGroup, processGroupPids, residentMemory } from "../../src/cli/measure-memory.ts";
import { createCommandRunner } from "../../src/cli/run-command.ts";
import { deviceDelta } from "../../src/placement/device-delta.ts";
import { spawnGroup, type SpawnedProcess } from "../../src/process/spawn-group.ts";
import { FAKE_H200S, installFakeNvidiaSmi } from "../fixtures/fake-nvidia-smi.ts";
import { simulateArgv } from "../fixtures/sim-model.ts";

const MIB = 1024 * 1024;
const fake = installFakeNvidiaSmi(FAKE_H200S);
const run = createCommandRunner({ path: fake.binDir });
const started: SpawnedProcess[] = [];
afterAll(async () => {
  for (const p of started) p.killGroup("SIGKILL");
  await Promise.all(started.map((p) => p.exited));
  fake.remove();
});

/** Start the simulator as a group leader; resolves once it printed "ready at" (it is healthy then). */
function startGroup(args: string[], env: Record<string, string> = {}): Promise<SpawnedProcess> {
  return new Promise((resolve, reject) => {
    let out = "";
    let proc: SpawnedProcess | null = null;
    let ready = false;
    const check = () => {
      if (!ready && proc !== null && /ready at \d+/.test(out)) {
        ready = true;
        resolve(proc);
      }
    };
    proc = spawnGroup(simulateArgv(["--port", "0", ...args]), {
      env: { ...process.env, ...env },
      onOutput: (text) => {
        out += text;
        check();
      },
    });
    started.push(proc);
    check();
    void proc.exited.then((info) => ready || reject(new Error(`simulator exited (${JSON.stringify(info)}) before ready:\n${out}`)));
  });
}

describe("the CPU: RSS or PSS of the process group", () => {
  test("a simulator holding --memory-mb 64 measures at least 64 MiB, and 60 MiB more than one that holds nothing", async () => {
    const [big, small] = await Promise.all([startGroup(["--memory-mb", "64"]), startGroup([])]);
    const pids = await processGroupPids(big.pid);
    expect(pids).toContain(big.pid);
    expect(await processGroupPids(-12345)).toEqual([]);
    const m = await measureGroup({ model: "big", pgid: big.pid, devices: [], run, now: () => 7 });
    expect(["pss", "rss"]).toContain(m.method);
    expect(m.at).toBe(7);
    expect(Object.keys(m.perDevice)).toEqual(["cpu"]);
    expect(m.perDevice.cpu).toBeGreaterThanOrEqual(64 * MIB);
    const base = await residentMemory(await processGroupPids(small.pid));
    expect(m.perDevice.cpu! - base.bytes).toBeGreaterThanOrEqual(60 * MIB);
    expect(await residentMemory([])).toEqual({ bytes: 0, method: "rss" });
  });
});

describe("NVIDIA: per-process memory over the group (the fake nvidia-smi)", () => {
  test("several simulators declaring --gpu-mb on two GPUs: each group gets its own, per GPU; the device delta agrees", async () => {
    const before = (await detectDevices({ run })).devices;
    const [a, b] = await Promise.all([
      startGroup(["--gpu-mb", "2048"], { ...fake.env, CUDA_VISIBLE_DEVICES: "1" }),
      startGroup(["--gpu-mb", "512"], { ...fake.env, CUDA_VISIBLE_DEVICES: FAKE_H200S[0]!.uuid }),
    ]);
    const ma = await measureGroup({ model: "a", pgid: a.pid, devices: before, run });
    expect(ma.method).toBe("nvidia-per-process");
    expect(ma.perDevice["1"]).toBe(2048 * MIB);
    expect(ma.perDevice["0"]).toBeUndefined();
    expect(ma.perDevice.cpu).toBeGreaterThan(0);
    const mb = await measureGroup({ model: "b", pgid: b.pid, devices: before, run });
    expect(mb.perDevice["0"]).toBe(512 * MIB);

    const after = (await detectDevices({ run })).devices;
    const delta = deviceDelta("a+b", before.filter((d) => d.kind === "gpu"), after.filter((d) => d.kind === "gpu"), 1);
    expect(delta.perDevice).toEqual({ "0": 512 * MIB, "1": 2048 * MIB });

    // once a simulator is gone, the fake no longer reports it
    b.killGroup("SIGKILL");
    await b.exited;
    const later = await measureGroup({ model: "b", pgid: b.pid, devices: before, run });
    expect(later.perDevice).toEqual({ cpu: 0 });
    expect(later.method).toBe("rss");
  });

  test("a failing nvidia-smi leaves the GPUs out", async () => {
    const devices = (await detectDevices({ run })).devices;
    const sim = await startGroup(["--gpu-mb", "100"], fake.env);
    fake.update({ failWith: "NVIDIA-SMI has failed" });
    try {
      const m = await measureGroup({ model: "x", pgid: sim.pid, devices, run });
      expect(Object.keys(m.perDevice)).toEqual(["cpu"]);
    } finally {
      fake.update({ failWith: undefined });
    }
  });
});
