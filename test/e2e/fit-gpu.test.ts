/**
 * The fit router on (fake) GPUs, end to end: dist/switchyard detects two 16 GiB GPUs with a fake
 * nvidia-smi, places each simulated model on a GPU with room (CUDA_VISIBLE_DEVICES and ${GPU}
 * say which), measures each through nvidia-smi's per-process figures once it is ready, and evicts
 * the least recently used model when a third one needs room. No GPU needed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { freePortRange } from "../fixtures/ports.ts";
import { installFakeNvidiaSmi, type InstalledFakeNvidiaSmi } from "../fixtures/fake-nvidia-smi.ts";
import { waitFor } from "../fixtures/wait.ts";
import { ensureBinary, startBinary, type Running } from "./harness.ts";

const GiB = 1024 ** 3;
const model = (id: string) => `  ${id}:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model ${id}-on-\${GPU} --gpu-mb 10240 --tokens 3
    memory: 10GiB
`;
const CONFIG = `
startPort: ${freePortRange(3)}
routing:
  router:
    use: fit
    settings:
      fit:
        reserve: 0GiB
        stateFile: ""
models:
${model("a")}${model("b")}${model("c")}`;

interface RunningBody {
  running: { model: string; state: string; memory?: { bytes: number; perDevice: Record<string, number>; source: string } }[];
  devices: { id: string; source: string; total: number; usedByModels: number; free: number }[];
}

describe("routing.router.use: fit on detected GPUs (fake nvidia-smi)", () => {
  let fake: InstalledFakeNvidiaSmi;
  let sy: Running;
  beforeAll(async () => {
    await ensureBinary();
    fake = installFakeNvidiaSmi([
      { index: 0, uuid: "GPU-00000000-0000-0000-0000-000000000000", name: "Fake GPU", totalMib: 16384, usedMib: 0 },
      { index: 1, uuid: "GPU-11111111-1111-1111-1111-111111111111", name: "Fake GPU", totalMib: 16384, usedMib: 256 },
    ]);
    sy = await startBinary(CONFIG, [], { ...process.env, ...fake.env });
  });
  afterAll(async () => {
    await sy?.stop("SIGTERM");
    fake?.remove();
  });

  const running = async (): Promise<RunningBody> => (await (await fetch(`${sy.url}/running`)).json()) as RunningBody;
  const served = async (id: string): Promise<string> => {
    const res = await fetch(`${sy.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: id, messages: [{ role: "user", content: "hi" }] }) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { model: string }).model;
  };
  const measured = (id: string) => async () => (await running()).running.find((r) => r.model === id)?.memory?.source === "measured";

  test("the GPUs are detected and printed at start", async () => {
    // The log is written in batches: wait for the lines.
    await waitFor(() => sy.output().includes("fit: device 1: Fake GPU, 16.0 GiB total"), 10_000, "the device lines");
    expect(sy.output()).toContain("fit: device 0: Fake GPU, 16.0 GiB total");
    const r = await running();
    expect(r.devices.map((d) => [d.id, d.source])).toEqual([
      ["0", "nvidia-smi"],
      ["1", "nvidia-smi"],
      ["cpu", "meminfo"],
    ]);
  });

  test("each model goes to a GPU with room (${GPU} and CUDA_VISIBLE_DEVICES name it) and is measured per process", async () => {
    expect(await served("a")).toBe("a-on-0");
    await waitFor(measured("a"), 10_000, "a measured");
    expect(await served("b")).toBe("b-on-1");
    await waitFor(measured("b"), 10_000, "b measured");
    const r = await running();
    expect(r.running.find((m) => m.model === "a")!.memory).toEqual({ bytes: 10 * GiB, perDevice: { "0": 10 * GiB }, source: "measured" });
    expect(r.devices.find((d) => d.id === "1")).toMatchObject({ usedByModels: 10 * GiB });
  });

  test("a third 10 GiB model evicts the least recently used one and takes its GPU", async () => {
    await served("b"); // a is now the least recently used
    expect(await served("c")).toBe("c-on-0");
    const ready = (await running()).running.filter((m) => m.state === "ready").map((m) => m.model).sort();
    expect(ready).toEqual(["b", "c"]);
    expect(sy.output()).toMatch(/fit: c needs 10\.00 GiB on GPU 0 \(6\.00 GiB free\) \[declared\]; evicting a \(10\.00 GiB, idle/);
  });
});
