/** /proc/meminfo → the "cpu" Device. */
import { describe, expect, test } from "bun:test";
import { meminfoDevice, parseMeminfo } from "../../src/placement/meminfo.ts";

const MEMINFO = `MemTotal:       131891236 kB
MemFree:        98765432 kB
MemAvailable:   120000000 kB
Buffers:          123456 kB
Cached:         20000000 kB
SwapCached:            0 kB
SReclaimable:    1000000 kB
SwapTotal:       8388604 kB
SwapFree:        8388604 kB
HugePages_Total:       0
`;

describe("meminfoDevice", () => {
  test("total MemTotal, used MemTotal − MemAvailable, in bytes", () => {
    const r = meminfoDevice(MEMINFO);
    if (!r.ok) throw new Error(r.error);
    expect(r.value).toEqual({
      id: "cpu",
      kind: "cpu",
      index: null,
      uuid: null,
      name: "system RAM",
      vendor: null,
      total: 131891236 * 1024,
      usedAtStart: (131891236 - 120000000) * 1024,
      reserve: 0,
      source: "meminfo",
    });
  });

  test("without MemAvailable (old kernels): free, buffers and page cache count as available", () => {
    const r = meminfoDevice("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 300 kB\nSReclaimable: 50 kB\n");
    expect(r.ok && r.value.usedAtStart).toBe(500 * 1024);
  });

  test("garbage is an error, never a throw", () => {
    expect(meminfoDevice("hello")).toEqual({ ok: false, error: "unparsable /proc/meminfo: no MemTotal and MemFree" });
    expect(parseMeminfo(MEMINFO).ok && parseMeminfo(MEMINFO)).toBeTruthy();
  });
});
