/** rocm-smi's `--showmeminfo vram --showproductname --json` (and its CSV form) → Devices. */
import { describe, expect, test } from "bun:test";
import { parseRocmDevices, rocmSmiRows } from "../../src/placement/rocm-smi.ts";

// rocm-smi --showmeminfo vram --showproductname --json (ROCm 6.x; bytes as strings; a "system" entry is not a card)
const MI300X_JSON = JSON.stringify({
  card1: { "VRAM Total Memory (B)": "205822885888", "VRAM Total Used Memory (B)": "295510016", "Card Series": "AMD Instinct MI300X", "Card Model": "0x74a1", "Card Vendor": "Advanced Micro Devices, Inc. [AMD/ATI]", "Card SKU": "M3000100", GUID: "31870" },
  card0: { "VRAM Total Memory (B)": "205822885888", "VRAM Total Used Memory (B)": "12632064", "Card Series": "N/A", "Device Name": "Aqua Vanjaram [Instinct MI300X]" },
  system: { "Driver version": "6.8.5" },
});
// rocm-smi --showmeminfo vram --json on an older version (memory only)
const MEMORY_ONLY = '{"card0": {"VRAM Total Memory (B)": "17163091968", "VRAM Total Used Memory (B)": "8581545984"}}';
// the same flags without --json
const CSV = `WARNING: AMD GPU device(s) is/are in a low-power state. Check power control/runtime_status

device,VRAM Total Memory (B),VRAM Total Used Memory (B),Card Series,Card Model,Card Vendor,Card SKU
card0,25753026560,429494272,Navi 31 [Radeon RX 7900 XT/7900 XTX],0x744c,"Advanced Micro Devices, Inc. [AMD/ATI]",EXT89175
`;

describe("parseRocmDevices", () => {
  test("the JSON form: cards in index order, bytes, the series or device name, the GUID", () => {
    const r = parseRocmDevices(MI300X_JSON);
    if (!r.ok) throw new Error(r.error);
    expect(r.value).toEqual([
      { id: "0", kind: "gpu", index: 0, uuid: null, name: "Aqua Vanjaram [Instinct MI300X]", vendor: "amd", total: 205822885888, usedAtStart: 12632064, reserve: 0, source: "rocm-smi" },
      { id: "1", kind: "gpu", index: 1, uuid: "31870", name: "AMD Instinct MI300X", vendor: "amd", total: 205822885888, usedAtStart: 295510016, reserve: 0, source: "rocm-smi" },
    ]);
  });

  test("memory only (a made-up name), and the CSV form with a warning first", () => {
    const a = parseRocmDevices(MEMORY_ONLY);
    expect(a.ok && a.value[0]).toMatchObject({ name: "AMD GPU card0", total: 17163091968, usedAtStart: 8581545984 });
    const b = parseRocmDevices(CSV);
    expect(b.ok && b.value[0]).toMatchObject({ id: "0", name: "Navi 31 [Radeon RX 7900 XT/7900 XTX]", total: 25753026560 });
  });

  test("nothing, an error line, and JSON with no card", () => {
    expect(parseRocmDevices("")).toEqual({ ok: false, error: "rocm-smi printed nothing" });
    expect(parseRocmDevices("ERROR: GPU[0] : Unable to read\n")).toEqual({ ok: false, error: 'unparsable rocm-smi output: "ERROR: GPU[0] : Unable to read"' });
    expect(parseRocmDevices('{"system": {"Driver version": "6.8"}}')).toEqual({ ok: false, error: "rocm-smi listed no cardN device with VRAM" });
  });

  test("rocmSmiRows keeps the device names and lower-cases the columns", () => {
    expect(rocmSmiRows(MEMORY_ONLY)?.[0]?.fields.get("vram total memory (b)")).toBe("17163091968");
    expect(rocmSmiRows("{not json")).toBeNull();
  });
});
