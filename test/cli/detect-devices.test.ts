/** Device discovery with the fake nvidia-smi, with rocm-smi, with a broken driver and with no tool. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detectDevices } from "../../src/cli/detect-devices.ts";
import { createCommandRunner, type CommandRunner } from "../../src/cli/run-command.ts";
import { FAKE_H200S, installFakeNvidiaSmi } from "../fixtures/fake-nvidia-smi.ts";

const MIB = 1024 * 1024;
const root = mkdtempSync(join(tmpdir(), "detect-devices-"));
const procRoot = join(root, "proc");
const emptyPath = join(root, "empty-bin");
mkdirSync(procRoot);
mkdirSync(emptyPath);
writeFileSync(join(procRoot, "meminfo"), "MemTotal:       131891236 kB\nMemFree:        98765432 kB\nMemAvailable:   129000000 kB\n");
const fake = installFakeNvidiaSmi(FAKE_H200S);
afterAll(() => {
  fake.remove();
  rmSync(root, { recursive: true, force: true });
});

describe("detectDevices", () => {
  test("nvidia-smi (the fake, on PATH): GPUs in index order, then the CPU, one line each", async () => {
    const found = await detectDevices({ run: createCommandRunner({ path: fake.binDir }), procRoot });
    expect(found.gpuTool).toBe("nvidia-smi");
    expect(found.devices.map((d) => [d.id, d.uuid, d.total, d.usedAtStart])).toEqual([
      ["0", FAKE_H200S[0]!.uuid, 143771 * MIB, 1 * MIB],
      ["1", FAKE_H200S[1]!.uuid, 143771 * MIB, 517 * MIB],
      ["cpu", null, 131891236 * 1024, (131891236 - 129000000) * 1024],
    ]);
    expect(found.lines).toEqual([
      "device 0: NVIDIA H200, 140.4 GiB total, 0.0 GiB used (nvidia-smi)",
      "device 1: NVIDIA H200, 140.4 GiB total, 0.5 GiB used (nvidia-smi)",
      "device cpu: system RAM, 125.8 GiB total, 2.8 GiB used (meminfo)",
    ]);
  });

  test("no GPU tool at all: the CPU only, and a line that says so", async () => {
    const found = await detectDevices({ run: createCommandRunner({ path: emptyPath }), procRoot });
    expect(found.gpuTool).toBeNull();
    expect(found.devices.map((d) => d.id)).toEqual(["cpu"]);
    expect(found.lines[1]).toBe("no GPU detected (nvidia-smi: not on PATH; rocm-smi: not on PATH): placing on the CPU only");
  });

  test("nvidia-smi without a driver, then rocm-smi answers", async () => {
    fake.update({ failWith: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." });
    try {
      const viaFake = createCommandRunner({ path: fake.binDir });
      const calls: string[] = [];
      const run: CommandRunner = async (argv) => {
        calls.push(argv.join(" "));
        if (argv[0] === "nvidia-smi") return viaFake(argv);
        return { status: "ok", stdout: '{"card0": {"VRAM Total Memory (B)": "17163091968", "VRAM Total Used Memory (B)": "8581545984", "Card Series": "Radeon RX 6800"}}' };
      };
      const found = await detectDevices({ run, procRoot });
      expect(calls[1]).toBe("rocm-smi --showmeminfo vram --showproductname --json");
      expect(found.gpuTool).toBe("rocm-smi");
      expect(found.lines).toEqual(["device 0: Radeon RX 6800, 16.0 GiB total, 8.0 GiB used (rocm-smi)", "device cpu: system RAM, 125.8 GiB total, 2.8 GiB used (meminfo)"]);

      const neither = await detectDevices({ run: async (argv) => (argv[0] === "nvidia-smi" ? viaFake(argv) : { status: "missing", detail: "" }), procRoot });
      expect(neither.lines.at(-1)).toBe(
        "no GPU detected (nvidia-smi: nvidia-smi exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.; rocm-smi: not on PATH): placing on the CPU only",
      );
    } finally {
      fake.update({ failWith: undefined });
    }
  });

  test("an unreadable /proc/meminfo: no cpu device, said plainly", async () => {
    const found = await detectDevices({ run: createCommandRunner({ path: emptyPath }), procRoot: join(root, "nowhere") });
    expect(found.devices).toEqual([]);
    expect(found.lines.at(-1)).toBe(`no cpu device: cannot read ${join(root, "nowhere")}/meminfo`);
  });
});
