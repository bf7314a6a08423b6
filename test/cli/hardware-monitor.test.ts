/**
 * The monitor's edge over stand-in GPU tools (shell scripts): samples parsed and kept, a tool that
 * fails, prints garbage or hangs (killed after the timeout), no overlapping runs, a stop that kills
 * a run in progress, and the snapshot built from the tools' inventory answers.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { createHardwareMonitor, type HardwareMonitorOptions } from "../../src/cli/hardware-monitor.ts";
import { createLogHub } from "../../src/log/log-hub.ts";
import { toolDir } from "../fixtures/shell-tools.ts";
import { waitFor } from "../fixtures/wait.ts";
import { isPidAlive } from "../../src/process/proc-liveness.ts";

const { dir, tool } = toolDir("switchyard-hw-");
const alive = isPidAlive;

const FAKE_NVIDIA = tool(
  "nvidia-smi",
  `case "$1" in
  --query-gpu=index,name,uuid,temperature.gpu,*) echo "0, NVIDIA H200, GPU-aaaa, 34, 7, 1024, 143771, [N/A], 75.63" ;;
  --query-gpu=index,name,uuid,pci.bus_id,*) echo "0, NVIDIA H200, GPU-aaaa, 00000000:19:00.0, 143771, 570.124.06, 700.00" ;;
  --query-gpu=index,architecture) echo "0, Hopper" ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac`,
);

const monitors: { stop(): Promise<void> }[] = [];
afterAll(() => Promise.all(monitors.map((m) => m.stop())));

function monitor(over: Partial<HardwareMonitorOptions>) {
  const logs = createLogHub({ level: "debug", logToStdout: "none" });
  const m = createHardwareMonitor({ enabled: true, everyMs: 100, version: "t", log: logs.log, tools: { "nvidia-smi": null, "rocm-smi": null }, ...over });
  monitors.push(m);
  return { m, logs };
}

describe("hardware monitor", () => {
  test("nvidia-smi samples are parsed and kept; the snapshot lists the GPU", async () => {
    const { m, logs } = monitor({ tools: { "nvidia-smi": FAKE_NVIDIA, "rocm-smi": null } });
    m.start();
    await waitFor(() => (m.samples()?.gpu.length ?? 0) >= 2, 5000, "two GPU samples");
    const s = m.samples()!;
    expect(s.gpuMonitor).toEqual({ tool: "nvidia-smi", status: "ok", detail: null });
    expect(s.gpu[0]).toMatchObject({ id: 0, name: "NVIDIA H200", uuid: "GPU-aaaa", gpu_util_pct: 7, mem_used_mb: 1024, power_draw_w: 75.63 });
    expect(s.sys.length).toBeGreaterThan(0);
    expect(logs.proxy.history()).toContain("performance: reading GPUs with nvidia-smi");
    const snap = await m.snapshot();
    expect(snap?.accelerators).toEqual([
      {
        index: 0,
        kind: "gpu",
        vendor: "NVIDIA",
        model: "NVIDIA H200",
        architecture: "Hopper",
        memory: { kind: "dedicated", capacity_bytes: 143771 * 1024 * 1024 },
        driver: { name: "NVIDIA", version: "570.124.06" },
        power_limit_watts: 700,
      },
    ]);
    expect(snap?.accelerator_probes).toEqual([
      { tool: "nvidia-smi", status: "ok", found: 1, detail: null },
      { tool: "rocm-smi", status: "absent", found: 0, detail: "rocm-smi is not on PATH" },
    ]);
  });

  test("no tool: GPUs absent, system samples still taken", async () => {
    const { m } = monitor({});
    m.start();
    await waitFor(() => (m.samples()?.sys.length ?? 0) >= 1, 5000, "a system sample");
    expect(m.samples()!.gpuMonitor).toEqual({ tool: null, status: "absent", detail: "no GPU tool: neither nvidia-smi nor rocm-smi is on PATH" });
    expect(m.samples()!.gpu).toEqual([]);
  });

  test("a tool that exits non-zero: failed, with its complaint", async () => {
    const path = tool("broken-smi", `echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."; exit 9`);
    const { m, logs } = monitor({ tools: { "nvidia-smi": path } });
    m.start();
    await waitFor(() => m.samples()!.gpuMonitor.status === "failed", 5000, "a failed GPU sample");
    expect(m.samples()!.gpuMonitor.detail).toBe("broken-smi exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.");
    expect(m.samples()!.gpu).toEqual([]);
    expect(logs.proxy.history()).toContain("performance: GPU samples failed: broken-smi exited with code 9");
    const snap = await m.snapshot();
    expect(snap?.accelerators).toEqual([]);
    expect(snap?.accelerator_probes[0]).toMatchObject({ tool: "nvidia-smi", status: "failed" });
  });

  test("a tool that prints garbage: unparsable, never a throw", async () => {
    const path = tool("garbage-smi", `printf '\\001\\002 hello, world\\n'`);
    const { m } = monitor({ tools: { "rocm-smi": path } });
    m.start();
    await waitFor(() => m.samples()!.gpuMonitor.status === "unparsable", 5000, "an unparsable GPU sample");
    expect(m.samples()!.gpuMonitor).toMatchObject({ tool: "rocm-smi", detail: expect.stringContaining("unparsable rocm-smi output") });
    expect((await m.snapshot())?.accelerator_probes[1]).toMatchObject({ tool: "rocm-smi", status: "unparsable" });
  });

  test("a tool that hangs is killed after the timeout, and the next sample runs", async () => {
    const pids = join(dir, "hang.pids");
    const path = tool("hang-smi", `echo $$ >> "${pids}"; exec sleep 30`);
    const { m } = monitor({ tools: { "nvidia-smi": path }, toolTimeoutMs: 200 });
    m.start();
    await waitFor(() => m.samples()!.gpuMonitor.status === "failed", 5000, "the hung sample to fail");
    expect(m.samples()!.gpuMonitor.detail).toBe("hang-smi did not answer within 200 ms; killed");
    const first = Number(readFileSync(pids, "utf8").split("\n")[0]);
    await waitFor(() => !alive(first), 5000, "the hung tool to be gone");
    await waitFor(() => readFileSync(pids, "utf8").trim().split("\n").length >= 2, 5000, "a second run");
  });

  test("tool runs never overlap (detection and samples), even when a run outlasts the interval", async () => {
    const log = join(dir, "overlap.log");
    writeFileSync(log, "");
    const path = tool("slow-smi", `echo start >> "${log}"; sleep 0.3; echo end >> "${log}"; echo "0, G, U, 1, 2, 3, 4, 5, 6"`);
    const { m } = monitor({ tools: { "nvidia-smi": path }, everyMs: 100 });
    m.start();
    await waitFor(() => (m.samples()?.gpu.length ?? 0) >= 3, 10_000, "three slow GPU samples");
    await m.stop();
    const lines = readFileSync(log, "utf8").trim().split("\n");
    const runs = Math.floor(lines.length / 2);
    expect(lines.slice(0, runs * 2)).toEqual(Array.from({ length: runs }, () => ["start", "end"]).flat());
  });

  test("stop() kills the runs in progress and ends the loop", async () => {
    const pids = join(dir, "stop.pids");
    writeFileSync(pids, "");
    const path = tool("stuck-smi", `echo $$ >> "${pids}"; exec sleep 30`);
    const { m } = monitor({ tools: { "nvidia-smi": path }, toolTimeoutMs: 60_000 });
    m.start();
    // The inventory probe at start hangs (the first sample waits for it).
    await waitFor(() => readFileSync(pids, "utf8").trim() !== "", 5000, "a stuck run");
    const t0 = performance.now();
    await m.stop();
    expect(performance.now() - t0).toBeLessThan(3000);
    const stuck = readFileSync(pids, "utf8").trim().split("\n").map(Number);
    await waitFor(() => stuck.every((pid) => !alive(pid)), 5000, "the stuck tools to be gone");
    expect((await m.snapshot())?.accelerator_probes[0]).toEqual({ tool: "nvidia-smi", status: "failed", found: 0, detail: "stuck-smi stopped" });
  });

  test("a GPU tool that hangs does not hold back the system samples (each on its own schedule)", async () => {
    const path = tool("hung-for-long-smi", "exec sleep 60");
    const { m } = monitor({ tools: { "nvidia-smi": path }, toolTimeoutMs: 60_000 });
    m.start();
    await waitFor(() => (m.samples()?.sys.length ?? 0) >= 3, 5000, "three system samples while the GPU tool hangs");
    expect(m.samples()!.gpu).toEqual([]);
    await m.stop();
  });

  test("no /proc (macOS): system samples and the snapshot's memory come from node:os", async () => {
    const empty = mkdtempSync(join(dir, "no-proc-"));
    const { m, logs } = monitor({ procRoot: empty });
    m.start();
    await waitFor(() => (m.samples()?.sys.length ?? 0) >= 2, 5000, "two system samples without /proc");
    const s = m.samples()!.sys.at(-1)!;
    expect(s.mem_total_mb).toBe(Math.floor(Math.floor(os.totalmem() / 1024) / 1024));
    expect(s.cpu_util_per_core).toHaveLength(os.cpus().length);
    expect(s.load_avg_1).toBeGreaterThanOrEqual(0);
    expect((await m.snapshot())?.memory.capacity_bytes ?? 0).toBeGreaterThan(0);
    expect(logs.proxy.history()).not.toContain("system sample skipped");
  });

  test("disabled: no samples (null), the snapshot still answers", async () => {
    const { m, logs } = monitor({ enabled: false });
    m.start();
    expect(m.samples()).toBeNull();
    expect((await m.snapshot())?.schema_version).toBe(1);
    expect(logs.proxy.history()).toContain("performance monitoring is disabled");
  });
});
