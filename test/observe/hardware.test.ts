/** The performance-sample parsers over captured tool and /proc output, the rings, and `?after=`. */
import { describe, expect, test } from "bun:test";
import {
  cpuUtilPerCore,
  createRing,
  memoryMb,
  parseGpuTool,
  parseLoadavg,
  parseMeminfo,
  parseNetDev,
  parseNumber,
  parseNvidiaSmi,
  parseProcStat,
  parseRfc3339,
  parseRocmSmi,
  ringCapacity,
  samplesAfter,
  splitCsvLine,
  sysSample,
} from "../../src/observe/hardware.ts";

const TS = "2026-03-01T12:00:00.000Z";

// nvidia-smi --query-gpu=index,name,uuid,temperature.gpu,utilization.gpu,memory.used,memory.total,fan.speed,power.draw --format=csv,noheader,nounits
const NVIDIA_H200x2 = `0, NVIDIA H200, GPU-5c3e8f1a-2b4d-4c6e-9f10-1a2b3c4d5e6f, 34, 0, 1, 143771, [N/A], 75.63
1, NVIDIA H200, GPU-7d9a0b1c-3e5f-4a7b-8c9d-0e1f2a3b4c5d, 41, 100, 80123, 143771, [N/A], 512.40
`;
const NVIDIA_4090 = "0, NVIDIA GeForce RTX 4090, GPU-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0, 45, 12, 20480, 24564, 30, 120.55\n";
const NVIDIA_NO_DRIVER =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n";

// rocm-smi -i -P -t -f -u --showmemuse --showmeminfo vram --showproductname --csv (with the warning some versions print first)
const ROCM_CSV = `WARNING: AMD GPU device(s) is/are in a low-power state. Check power control/runtime_status

device,Device Name,Device ID,Device Rev,Subsystem ID,GUID,Temperature (Sensor edge) (C),Temperature (Sensor junction) (C),Temperature (Sensor memory) (C),Fan speed (%),Fan RPM,Current Socket Graphics Package Power (W),GPU use (%),GPU Memory Allocated (VRAM%),Memory Activity,VRAM Total Memory (B),VRAM Total Used Memory (B),Card Series,Card Model,Card Vendor,Card SKU,Node ID,GFX Version
card0,Navi 31 [Radeon RX 7900 XT/7900 XTX],0x744c,0xc8,0x5315,45523,38.0,42.0,46.0,21.57,900,22.0,7,2,N/A,25753026560,429494272,Navi 31 [Radeon RX 7900 XT/7900 XTX],0x744c,"Advanced Micro Devices, Inc. [AMD/ATI]",EXT89175,1,gfx1100
card1,N/A,0x73bf,0xc1,0x0e3a,12210,55.0,61.0,N/A,N/A,N/A,N/A,100,50,N/A,17163091968,8581545984,N/A,0x73bf,"Advanced Micro Devices, Inc. [AMD/ATI]",N/A,2,gfx1030
`;
const ROCM_JSON = JSON.stringify({
  card0: {
    "Device Name": "Aqua Vanjaram [Instinct MI300X]",
    GUID: "31870",
    "Temperature (Sensor edge) (C)": "N/A",
    "Temperature (Sensor junction) (C)": "45.0",
    "Temperature (Sensor memory) (C)": "38.0",
    "Average Graphics Package Power (W)": "141.0",
    "GPU use (%)": "0",
    "VRAM Total Memory (B)": "205822885888",
    "VRAM Total Used Memory (B)": "295510016",
    "Card Series": "AMD Instinct MI300X",
    "GFX Version": "gfx942",
  },
  system: { "Driver version": "6.8.5" },
});

describe("nvidia-smi", () => {
  test("two datacenter GPUs: [N/A] fan is 0, memory use in percent", () => {
    const r = parseNvidiaSmi(NVIDIA_H200x2, TS);
    if (!r.ok) throw new Error(r.error);
    expect(r.value).toEqual([
      {
        timestamp: TS,
        id: 0,
        name: "NVIDIA H200",
        uuid: "GPU-5c3e8f1a-2b4d-4c6e-9f10-1a2b3c4d5e6f",
        temp_c: 34,
        vram_temp_c: 0,
        gpu_util_pct: 0,
        mem_util_pct: (1 / 143771) * 100,
        mem_used_mb: 1,
        mem_total_mb: 143771,
        fan_speed_pct: 0,
        power_draw_w: 75.63,
      },
      expect.objectContaining({ id: 1, temp_c: 41, gpu_util_pct: 100, mem_used_mb: 80123, power_draw_w: 512.4 }),
    ]);
  });

  test("a consumer card with a fan", () => {
    const r = parseGpuTool("nvidia-smi", NVIDIA_4090, TS);
    expect(r.ok && r.value[0]).toMatchObject({ name: "NVIDIA GeForce RTX 4090", fan_speed_pct: 30, mem_used_mb: 20480, mem_total_mb: 24564 });
  });

  test("a name with a comma keeps its fields in place", () => {
    const r = parseNvidiaSmi("3, Some GPU, Rev B, GPU-x, 50, 5, 10, 20, 40, 99.5\n", TS);
    expect(r.ok && r.value[0]).toMatchObject({ id: 3, name: "Some GPU, Rev B", uuid: "GPU-x", temp_c: 50, power_draw_w: 99.5 });
  });

  test("a driver complaint, an empty answer, or garbage: unparsable, never a throw", () => {
    expect(parseNvidiaSmi(NVIDIA_NO_DRIVER, TS)).toEqual({ ok: false, error: expect.stringContaining("unparsable nvidia-smi output: \"NVIDIA-SMI has failed") });
    expect(parseNvidiaSmi("", TS)).toEqual({ ok: false, error: "nvidia-smi printed nothing" });
    expect(parseNvidiaSmi("No devices were found\n", TS).ok).toBe(false);
    expect(parseNvidiaSmi("a, b, c\n", TS).ok).toBe(false);
    expect(parseNvidiaSmi("\u0000\u00ff\ufffd,,,,,,,,,\n", TS).ok).toBe(false);
  });

  test("a bad line among good ones is skipped", () => {
    const r = parseNvidiaSmi(`garbage\n${NVIDIA_4090}`, TS);
    expect(r.ok && r.value.map((g) => g.id)).toEqual([0]);
  });
});

describe("rocm-smi", () => {
  test("CSV with a warning first and a quoted vendor: llama-swap's names and columns", () => {
    const r = parseRocmSmi(ROCM_CSV, TS);
    if (!r.ok) throw new Error(r.error);
    expect(r.value[0]).toEqual({
      timestamp: TS,
      id: 0,
      name: "Navi 31 [Radeon RX 7900 XT/7900 XTX] card0 (gfx1100)",
      uuid: "45523",
      temp_c: 38,
      vram_temp_c: 46,
      gpu_util_pct: 7,
      mem_util_pct: (409 / 24560) * 100,
      mem_used_mb: 409,
      mem_total_mb: 24560,
      fan_speed_pct: 21.57,
      power_draw_w: 22,
    });
    // N/A everywhere: zeros, and the device name alone.
    expect(r.value[1]).toMatchObject({ id: 1, name: "card1", temp_c: 55, vram_temp_c: 0, fan_speed_pct: 0, power_draw_w: 0, gpu_util_pct: 100, mem_used_mb: 8184, mem_total_mb: 16368 });
  });

  test("the JSON form (non-card entries skipped; average power when there is no current)", () => {
    const r = parseGpuTool("rocm-smi", ROCM_JSON, TS);
    if (!r.ok) throw new Error(r.error);
    expect(r.value).toHaveLength(1);
    expect(r.value[0]).toMatchObject({ id: 0, name: "AMD Instinct MI300X card0 (gfx942)", uuid: "31870", temp_c: 0, vram_temp_c: 38, power_draw_w: 141, mem_total_mb: 196288, mem_used_mb: 281 });
  });

  test("garbage: unparsable, never a throw", () => {
    expect(parseRocmSmi("", TS)).toEqual({ ok: false, error: "rocm-smi printed nothing" });
    expect(parseRocmSmi("ERROR: GPU[0] : Unable to read\n", TS)).toEqual({ ok: false, error: 'unparsable rocm-smi output: "ERROR: GPU[0] : Unable to read"' });
    expect(parseRocmSmi("{not json", TS).ok).toBe(false);
    expect(parseRocmSmi("[1,2]", TS).ok).toBe(false);
    expect(parseRocmSmi('{"system": {"Driver version": "6.8"}}', TS)).toEqual({ ok: false, error: "rocm-smi listed no cardN device" });
    expect(parseRocmSmi("device,GPU use (%)\nnot-a-card,5\ncard0,1,2\n", TS)).toEqual({ ok: false, error: "rocm-smi listed no cardN device" });
  });
});

describe("small parsers", () => {
  test("numbers: tool placeholders are null", () => {
    expect(["34", " 75.63 ", "-1", "1e3"].map(parseNumber)).toEqual([34, 75.63, -1, 1000]);
    expect(["", "N/A", "[N/A]", "[Not Supported]", "12 W", "0x10", "NaN", "Infinity"].map(parseNumber)).toEqual(Array(8).fill(null));
  });

  test("CSV cells: quotes group commas, doubled quotes escape", () => {
    expect(splitCsvLine('a, "b, c" ,"say ""hi""",')).toEqual(["a", "b, c", 'say "hi"', ""]);
  });
});

// ---------------------------------------------------------------- /proc

const MEMINFO = `MemTotal:       24683584 kB
MemFree:        20679844 kB
MemAvailable:   23276380 kB
Buffers:            3716 kB
Cached:           756136 kB
SwapCached:            0 kB
Active(file):     475108 kB
SwapTotal:       8388604 kB
SwapFree:        8126460 kB
SReclaimable:     129104 kB
HugePages_Total:       0
`;

const STAT_1 = `cpu  422825 0 23507 638709 697 0 1283 44632 0 0
cpu0 211925 0 11659 318768 390 0 588 22516 0 0
cpu1 210900 0 11848 319941 306 0 695 22116 0 0
intr 123456 0 9 0
ctxt 987654
btime 1760000000
processes 19932
`;
// 100 ticks later: cpu0 was busy 75 of them, cpu1 idle throughout (10 of them iowait).
const STAT_2 = `cpu  422900 0 23507 638824 707 0 1283 44632 0 0
cpu0 211975 0 11679 318793 390 0 593 22516 0 0
cpu1 210900 0 11848 320031 316 0 695 22116 0 0
`;

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 16931908886 3148004    0    0    0     0          0         0 16931908886 3148004    0    0    0     0       0          0
  eth0: 514944389   14173    0    0    0     0          0         0   705618    8454    0    0    0     0       0          0
  ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
`;

describe("/proc", () => {
  test("meminfo: MiB as `free` counts used (total − free − buffers − cache − reclaimable slab)", () => {
    const info = parseMeminfo(MEMINFO);
    if (!info.ok) throw new Error(info.error);
    expect(info.value.get("HugePages_Total")).toBe(0);
    expect(memoryMb(info.value)).toEqual({
      mem_total_mb: Math.floor(24683584 / 1024),
      mem_used_mb: Math.floor((24683584 - 20679844 - 3716 - 756136 - 129104) / 1024),
      mem_free_mb: Math.floor(20679844 / 1024),
      swap_total_mb: Math.floor(8388604 / 1024),
      swap_used_mb: Math.floor((8388604 - 8126460) / 1024),
    });
  });

  test("meminfo without MemTotal, or garbage: unparsable", () => {
    expect(parseMeminfo("MemFree: 1 kB\n")).toEqual({ ok: false, error: "unparsable /proc/meminfo: no MemTotal and MemFree" });
    expect(parseMeminfo("\u0000garbage").ok).toBe(false);
  });

  test("stat: per-CPU busy percent between two readings", () => {
    const a = parseProcStat(STAT_1);
    const b = parseProcStat(STAT_2);
    if (!a.ok || !b.ok) throw new Error("stat");
    expect(a.value.map((c) => c.name)).toEqual(["cpu0", "cpu1"]);
    const [cpu0, cpu1] = cpuUtilPerCore(a.value, b.value);
    expect(cpu0).toBeCloseTo(75, 6);
    expect(cpu1).toBe(0);
  });

  test("stat: a CPU that appears, counters that did not move, or went backwards: 0, never NaN", () => {
    const prev = [{ name: "cpu0", total: 100, idle: 50 }];
    expect(cpuUtilPerCore(prev, [{ name: "cpu0", total: 100, idle: 50 }, { name: "cpu1", total: 10, idle: 5 }])).toEqual([0, 0]);
    expect(cpuUtilPerCore(prev, [{ name: "cpu0", total: 90, idle: 40 }])).toEqual([0]);
    expect(cpuUtilPerCore(prev, [{ name: "cpu0", total: 200, idle: 40 }])).toEqual([100]);
  });

  test("stat garbage: unparsable", () => {
    expect(parseProcStat("cpu 1 2 3 4\nintr 5\n")).toEqual({ ok: false, error: "unparsable /proc/stat: no cpuN line" });
    expect(parseProcStat("cpu0 a b c d\n").ok).toBe(false);
  });

  test("loadavg and net/dev (loopback left out)", () => {
    expect(parseLoadavg("0.00 0.01 0.31 1/81 19932\n")).toEqual([0, 0.01, 0.31]);
    expect(parseLoadavg("nonsense")).toBeNull();
    expect(parseNetDev(NET_DEV)).toEqual([
      { name: "eth0", bytes_recv: 514944389, bytes_sent: 705618 },
      { name: "ifb0", bytes_recv: 0, bytes_sent: 0 },
    ]);
    expect(parseNetDev("garbage: 1 2\n")).toEqual([]);
  });

  test("a system sample: first one has 0 % per CPU; later ones measure; load and network best effort", () => {
    const first = sysSample({ meminfo: MEMINFO, stat: STAT_1, loadavg: "0.50 0.25 0.10 1/81 1", netDev: NET_DEV }, null, TS);
    if (!first.ok) throw new Error(first.error);
    expect(first.value.stat).toMatchObject({ timestamp: TS, cpu_util_per_core: [0, 0], load_avg_1: 0.5, load_avg_15: 0.1, net_io: [{ name: "eth0" }, { name: "ifb0" }] });
    const second = sysSample({ meminfo: MEMINFO, stat: STAT_2, loadavg: null, netDev: null }, first.value.cpu, TS);
    if (!second.ok) throw new Error(second.error);
    expect(second.value.stat.cpu_util_per_core[0]).toBeCloseTo(75, 6);
    expect(second.value.stat).toMatchObject({ load_avg_1: 0, load_avg_5: 0, load_avg_15: 0, net_io: [] });
  });

  test("a system sample without memory or CPU counters is skipped with the reason", () => {
    expect(sysSample({ meminfo: null, stat: STAT_1, loadavg: null, netDev: null }, null, TS)).toEqual({ ok: false, error: "cannot read /proc/meminfo" });
    expect(sysSample({ meminfo: MEMINFO, stat: null, loadavg: null, netDev: null }, null, TS)).toEqual({ ok: false, error: "cannot read /proc/stat" });
    expect(sysSample({ meminfo: "x", stat: STAT_1, loadavg: null, netDev: null }, null, TS).ok).toBe(false);
  });
});

describe("rings", () => {
  test("capacity: one hour of samples (720 at 5 s), at least one", () => {
    expect(ringCapacity(5000)).toBe(720);
    expect(ringCapacity(15_000)).toBe(240);
    expect(ringCapacity(7_200_000)).toBe(1);
    expect(ringCapacity(0)).toBe(3_600_000);
  });

  test("a full ring drops the oldest; order is oldest first", () => {
    const r = createRing<number>(3);
    expect(r.toArray()).toEqual([]);
    for (let i = 1; i <= 7; i++) r.push(i);
    expect(r.toArray()).toEqual([5, 6, 7]);
    expect(r.size).toBe(3);
    const one = createRing<string>(0);
    one.push("a");
    one.push("b");
    expect(one.toArray()).toEqual(["b"]);
  });
});

describe("?after=", () => {
  test("RFC3339 in its forms", () => {
    expect(parseRfc3339("2026-03-01T12:00:00Z")).toBe(Date.UTC(2026, 2, 1, 12));
    expect(parseRfc3339("2026-03-01T14:30:00+02:30")).toBe(Date.UTC(2026, 2, 1, 12));
    expect(parseRfc3339("2026-03-01T11:00:00-01:00")).toBe(Date.UTC(2026, 2, 1, 12));
    expect(parseRfc3339("2026-03-01T12:00:00.123456789Z")).toBe(Date.UTC(2026, 2, 1, 12, 0, 0, 123));
    expect(parseRfc3339("2026-03-01T12:00:00.5Z")).toBe(Date.UTC(2026, 2, 1, 12, 0, 0, 500));
    // A `+` that URL decoding made a space.
    expect(parseRfc3339("2026-03-01T14:00:00 02:00")).toBe(Date.UTC(2026, 2, 1, 12));
    expect(parseRfc3339("2024-02-29T00:00:00Z")).toBe(Date.UTC(2024, 1, 29));
  });

  test("not RFC3339, or out of range: null", () => {
    for (const bad of ["", "yesterday", "1772366400", "2026-03-01", "2026-03-01 12:00:00Z", "2026-03-01T12:00:00", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T12:60:00Z", "2026-03-01T12:00:60Z", "2026-03-01T12:00:00+24:00"]) {
      expect(parseRfc3339(bad)).toBeNull();
    }
  });

  test("strictly after", () => {
    const s = ["2026-03-01T12:00:00.000Z", "2026-03-01T12:00:05.000Z", "2026-03-01T12:00:10.000Z"].map((timestamp) => ({ timestamp }));
    expect(samplesAfter(s, Date.UTC(2026, 2, 1, 12, 0, 5))).toEqual([s[2]]);
    expect(samplesAfter(s, Date.UTC(2026, 2, 1, 11))).toEqual(s);
    expect(samplesAfter(s, Date.UTC(2026, 2, 1, 13))).toEqual([]);
  });
});
