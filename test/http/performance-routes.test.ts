/**
 * `/api/performance` and `/api/hardware` over real sockets: llama-swap's shapes, `?after=`, the 503s
 * and 400s, 405s, auth; then the real monitor on this machine (CPU and memory from /proc, GPUs as
 * whatever tool is here, or absent).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { totalmem } from "node:os";
import { createHardwareMonitor } from "../../src/cli/hardware-monitor.ts";
import type { GpuStat, PerformanceSamples, SysStat } from "../../src/observe/hardware.ts";
import type { HardwareMonitor, HardwareSnapshot } from "../../src/observe/hardware-snapshot.ts";
import { waitFor } from "../fixtures/wait.ts";
import { createFakeRouter, makeConfig, quietLogs, startApp } from "./helpers.ts";

const sys = (timestamp: string, cpu: number[] = [12.5, 80]): SysStat => ({
  timestamp,
  cpu_util_per_core: cpu,
  mem_total_mb: 64000,
  mem_used_mb: 12000,
  mem_free_mb: 40000,
  swap_total_mb: 0,
  swap_used_mb: 0,
  load_avg_1: 1.5,
  load_avg_5: 1.2,
  load_avg_15: 0.9,
  net_io: [{ name: "eth0", bytes_recv: 1000, bytes_sent: 2000 }],
});
const gpu = (timestamp: string, id: number): GpuStat => ({
  timestamp,
  id,
  name: "NVIDIA H200",
  uuid: `GPU-${id}`,
  temp_c: 34,
  vram_temp_c: 0,
  gpu_util_pct: 50,
  mem_util_pct: 25,
  mem_used_mb: 35942,
  mem_total_mb: 143771,
  fan_speed_pct: 0,
  power_draw_w: 300.5,
});
const T = ["2026-03-01T12:00:00.000Z", "2026-03-01T12:00:05.000Z", "2026-03-01T12:00:10.000Z"];
const SNAPSHOT: HardwareSnapshot = {
  schema_version: 1,
  captured_at: T[0],
  capture: { scope: "inference_host", method: "detected", detector: { name: "switchyard", version: "1.2.3" } },
  architecture: { name: "x86_64", raw_name: "x64" },
  operating_system: { family: "linux", name: "debian", version: "12", kernel: "6.1.0" },
  environment: { kind: "unknown", name: null, version: null },
  cpu: { vendor: "GenuineIntel", model: "Xeon", socket_count: 1, physical_core_count: 2, logical_thread_count: 2 },
  memory: { capacity_bytes: 64000 * 1024 * 1024 },
  accelerators: [],
  accelerator_probes: [],
};

/** A monitor whose answers the test sets. */
function fakeMonitor(over: { samples?: PerformanceSamples | null; snapshot?: HardwareSnapshot | null } = {}): HardwareMonitor {
  const samples =
    over.samples === undefined
      ? { sys: T.map((t) => sys(t)), gpu: T.flatMap((t) => [gpu(t, 0), gpu(t, 1)]), gpuMonitor: { tool: "nvidia-smi" as const, status: "ok" as const, detail: null } }
      : over.samples;
  return { samples: () => samples, snapshot: async () => (over.snapshot === undefined ? SNAPSHOT : over.snapshot) };
}

const router = createFakeRouter({});
const config = makeConfig([]);
const apps: { stop(): void }[] = [];
afterAll(() => apps.forEach((a) => a.stop()));
const start = (deps: Partial<Parameters<typeof startApp>[0]> = {}) => {
  const app = startApp({ config, router, logs: quietLogs(), ...deps });
  apps.push(app);
  return app;
};

describe("/api/performance", () => {
  const app = start({ hardware: fakeMonitor() });

  test("every kept sample in llama-swap's shape, with the GPU monitor's state", async () => {
    const res = await fetch(`${app.url}/api/performance`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({
      enabled: true,
      sys_stats: T.map((t) => sys(t)),
      gpu_stats: T.flatMap((t) => [gpu(t, 0), gpu(t, 1)]),
      gpu_monitor: { tool: "nvidia-smi", status: "ok", detail: null },
    });
  });

  test("?after= keeps only later samples (strictly), in any RFC3339 offset", async () => {
    for (const after of ["2026-03-01T12:00:05Z", "2026-03-01T13:00:05%2B01:00", "2026-03-01T12:00:05.000000001Z"]) {
      const body = (await (await fetch(`${app.url}/api/performance?after=${after}`)).json()) as { sys_stats: SysStat[]; gpu_stats: GpuStat[] };
      expect(body.sys_stats.map((s) => s.timestamp)).toEqual([T[2]]);
      expect(body.gpu_stats.map((g) => [g.timestamp, g.id])).toEqual([
        [T[2], 0],
        [T[2], 1],
      ]);
    }
    const none = (await (await fetch(`${app.url}/api/performance?after=2030-01-01T00:00:00Z`)).json()) as { sys_stats: SysStat[]; gpu_stats: GpuStat[] };
    expect([none.sys_stats, none.gpu_stats]).toEqual([[], []]);
    const empty = (await (await fetch(`${app.url}/api/performance?after=`)).json()) as { sys_stats: SysStat[] };
    expect(empty.sys_stats).toHaveLength(3);
  });

  test("a bad ?after= is a 400 in the error envelope (text when asked)", async () => {
    const res = await fetch(`${app.url}/api/performance?after=yesterday`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      src: "switchyard",
      error: { message: "invalid 'after' timestamp, use RFC3339 format", type: "invalid_request_error", param: "after", code: "invalid_query" },
    });
    const text = await fetch(`${app.url}/api/performance?after=2026-02-30T00:00:00Z`, { headers: { accept: "text/plain" } });
    expect(text.status).toBe(400);
    expect(await text.text()).toBe("switchyard: invalid 'after' timestamp, use RFC3339 format");
  });

  test("disabled, or no monitor at all: 503 {\"enabled\":false}, as llama-swap", async () => {
    for (const other of [start({ hardware: fakeMonitor({ samples: null }) }), start()]) {
      const res = await fetch(`${other.url}/api/performance`);
      expect(res.status).toBe(503);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(await res.json()).toEqual({ enabled: false });
    }
  });

  test("GPUs absent are said so, with an empty list", async () => {
    const other = start({ hardware: fakeMonitor({ samples: { sys: [sys(T[0])], gpu: [], gpuMonitor: { tool: null, status: "absent", detail: "no GPU tool: neither nvidia-smi nor rocm-smi is on PATH" } } }) });
    const body = (await (await fetch(`${other.url}/api/performance`)).json()) as Record<string, unknown>;
    expect(body.gpu_stats).toEqual([]);
    expect(body.gpu_monitor).toEqual({ tool: null, status: "absent", detail: "no GPU tool: neither nvidia-smi nor rocm-smi is on PATH" });
  });

  test("other methods are 405 with Allow; HEAD answers", async () => {
    for (const path of ["/api/performance", "/api/hardware"]) {
      const res = await fetch(`${app.url}${path}`, { method: "POST" });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, HEAD");
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed");
      expect((await fetch(`${app.url}${path}`, { method: "HEAD" })).status).toBe(200);
    }
  });

  test("not written to the access log (a dashboard polls it); /api/hardware is", async () => {
    const logs = quietLogs();
    const other = start({ hardware: fakeMonitor(), logs });
    await (await fetch(`${other.url}/api/performance`)).arrayBuffer();
    await (await fetch(`${other.url}/api/hardware`)).arrayBuffer();
    expect(logs.proxy.history()).not.toContain("/api/performance");
    expect(logs.proxy.history()).toContain('"GET /api/hardware HTTP/1.1" 200');
  });

  test("both need the API key when keys are set", async () => {
    const other = start({ config: makeConfig([], { apiKeys: ["sk-1"] }), hardware: fakeMonitor() });
    for (const path of ["/api/performance", "/api/hardware"]) {
      expect((await fetch(`${other.url}${path}`)).status).toBe(401);
      expect((await fetch(`${other.url}${path}`, { headers: { authorization: "Bearer sk-1" } })).status).toBe(200);
    }
  });
});

describe("/api/hardware", () => {
  test("the snapshot as detected", async () => {
    const app = start({ hardware: fakeMonitor() });
    const res = await fetch(`${app.url}/api/hardware`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(SNAPSHOT);
  });

  test("answers even with performance disabled", async () => {
    const app = start({ hardware: fakeMonitor({ samples: null }) });
    expect((await fetch(`${app.url}/api/hardware`)).status).toBe(200);
  });

  test("no snapshot, or no monitor: 503 in the error envelope", async () => {
    for (const app of [start({ hardware: fakeMonitor({ snapshot: null }) }), start()]) {
      const res = await fetch(`${app.url}/api/hardware`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: unknown }).error).toEqual({ message: "hardware detection unavailable", type: "server_error", param: null, code: "hardware_unavailable" });
    }
  });
});

describe("the real monitor on this machine", () => {
  const gpuTool = Bun.which("nvidia-smi") ? "nvidia-smi" : Bun.which("rocm-smi") ? "rocm-smi" : null;
  const monitor = createHardwareMonitor({ enabled: true, everyMs: 100, version: "test", log: quietLogs().log });
  monitor.start();
  const app = start({ hardware: monitor });
  afterAll(() => monitor.stop());

  test("CPU and memory are real numbers; GPUs are this machine's tool, or absent", async () => {
    const read = async () => (await (await fetch(`${app.url}/api/performance`)).json()) as { enabled: boolean; sys_stats: SysStat[]; gpu_stats: GpuStat[]; gpu_monitor: PerformanceSamples["gpuMonitor"] };
    let body = await read();
    await waitFor(async () => (body = await read()).sys_stats.length >= 2, 10_000, "two system samples");
    expect(body.enabled).toBe(true);
    const last = body.sys_stats[body.sys_stats.length - 1];
    expect(Date.parse(last.timestamp)).toBeGreaterThan(Date.now() - 60_000);
    expect(last.cpu_util_per_core.length).toBeGreaterThan(0);
    for (const pct of last.cpu_util_per_core) {
      expect(Number.isFinite(pct)).toBe(true);
      expect(pct).toBeGreaterThanOrEqual(0);
      expect(pct).toBeLessThanOrEqual(100);
    }
    expect(Math.abs(last.mem_total_mb - Math.floor(totalmem() / 1024 / 1024))).toBeLessThanOrEqual(1);
    expect(last.mem_used_mb).toBeGreaterThan(0);
    expect(last.mem_used_mb).toBeLessThanOrEqual(last.mem_total_mb);
    expect(last.mem_free_mb).toBeLessThanOrEqual(last.mem_total_mb);
    expect(last.load_avg_1).toBeGreaterThanOrEqual(0);
    if (gpuTool === null) {
      expect(body.gpu_monitor).toEqual({ tool: null, status: "absent", detail: "no GPU tool: neither nvidia-smi nor rocm-smi is on PATH" });
      expect(body.gpu_stats).toEqual([]);
    } else {
      expect(body.gpu_monitor.tool).toBe(gpuTool);
    }
  });

  test("the snapshot describes this host", async () => {
    const res = await fetch(`${app.url}/api/hardware`);
    expect(res.status).toBe(200);
    const snap = (await res.json()) as HardwareSnapshot;
    expect(snap).toMatchObject({ schema_version: 1, capture: { scope: "inference_host", method: "detected", detector: { name: "switchyard", version: "test" } }, operating_system: { family: process.platform === "darwin" ? "macos" : process.platform } });
    expect(snap.memory.capacity_bytes).toBeGreaterThan(0);
    // MemTotal, or the memory installed (zoneinfo's present pages, a little more: the kernel's reserve).
    expect(snap.memory.capacity_bytes).toBeLessThanOrEqual(totalmem() * 1.25);
    expect(snap.cpu.logical_thread_count).toBeGreaterThan(0);
    expect(snap.accelerator_probes.map((p) => p.tool)).toEqual(["nvidia-smi", "rocm-smi"]);
    if (gpuTool === null) {
      expect(snap.accelerators).toEqual([]);
      expect(snap.accelerator_probes.map((p) => p.status)).toEqual(["absent", "absent"]);
    }
  });
});
