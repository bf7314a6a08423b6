/**
 * /proc/meminfo: its values, and the system RAM as the "cpu" placement Device (total MemTotal,
 * used MemTotal − MemAvailable). Pure; the file is read at the edge. Web-standard.
 */
import type { Device } from "./types.ts";
import type { Parsed } from "./parsed.ts";

/** /proc/meminfo values in kB, by name (`MemTotal`, `MemAvailable`, `SwapFree`, …). */
export type MemInfo = ReadonlyMap<string, number>;

/** /proc/meminfo text; unparsable without MemTotal and MemFree. */
export function parseMeminfo(text: string): Parsed<MemInfo> {
  const values = new Map<string, number>();
  for (const raw of text.split(/\r?\n/)) {
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?$/.exec(raw.trim());
    if (m) values.set(m[1], Number(m[2]));
  }
  if (!values.has("MemTotal") || !values.has("MemFree")) return { ok: false, error: "unparsable /proc/meminfo: no MemTotal and MemFree" };
  return { ok: true, value: values };
}

/**
 * The "cpu" Device from /proc/meminfo text: total MemTotal, used MemTotal − MemAvailable (kernels
 * older than 3.14 print no MemAvailable: then MemFree + Buffers + Cached + SReclaimable count as
 * available).
 */
export function meminfoDevice(text: string): Parsed<Device> {
  const info = parseMeminfo(text);
  if (!info.ok) return info;
  const kb = (name: string): number => info.value.get(name) ?? 0;
  const total = kb("MemTotal");
  const available = info.value.get("MemAvailable") ?? kb("MemFree") + kb("Buffers") + kb("Cached") + kb("SReclaimable");
  return {
    ok: true,
    value: {
      id: "cpu",
      kind: "cpu",
      index: null,
      uuid: null,
      name: "system RAM",
      vendor: null,
      total: total * 1024,
      usedAtStart: Math.max(0, Math.min(total, total - available)) * 1024,
      reserve: 0,
      source: "meminfo",
    },
  };
}
