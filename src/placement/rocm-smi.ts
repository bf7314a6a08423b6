/**
 * rocm-smi as placement reads it: `rocm-smi --showmeminfo vram --showproductname --json`, which
 * prints `{"card0": {"VRAM Total Memory (B)": "25753026560", "VRAM Total Used Memory (B)": "429494272",
 * "Card Series": "…", …}, "system": {…}}` (bytes, as strings), into Devices; and the row reader of
 * rocm-smi's CSV and JSON forms that observe/hardware.ts shares. Pure; never throws. Web-standard.
 */
import type { Device } from "./types.ts";
import type { Parsed } from "./parsed.ts";
import { parseNumber } from "./parse-number.ts";
import { splitCsvLine } from "./split-csv-line.ts";

/** Arguments of the device query (the product name is asked for too, so a device has a name). */
export const ROCM_SMI_DEVICE_ARGS = ["--showmeminfo", "vram", "--showproductname", "--json"];

/** One device row of rocm-smi: its name (`card0`, `system`) and fields keyed by lower-cased column name. */
export interface RocmSmiRow {
  device: string;
  fields: Map<string, string>;
}

const nonEmptyLines = (text: string): string[] =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");

/**
 * Rows of rocm-smi's `--csv` table (lines before the `device,…` header, such as warnings, are
 * skipped), or of its `--json` object (`{"card0": {"GPU use (%)": "3", …}}`): device name → fields
 * keyed by lower-cased column name. Null when the text is neither.
 */
export function rocmSmiRows(text: string): RocmSmiRow[] | null {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch {
      return null;
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return null;
    const rows: RocmSmiRow[] = [];
    for (const [device, v] of Object.entries(doc)) {
      if (typeof v !== "object" || v === null || Array.isArray(v)) continue;
      const fields = new Map<string, string>();
      for (const [k, x] of Object.entries(v)) if (typeof x === "string" || typeof x === "number") fields.set(k.trim().toLowerCase(), String(x).trim());
      rows.push({ device, fields });
    }
    return rows;
  }
  let header: string[] | null = null;
  const rows: RocmSmiRow[] = [];
  for (const line of nonEmptyLines(text)) {
    const cells = splitCsvLine(line);
    if (cells[0].toLowerCase() === "device") {
      header = cells.map((c) => c.toLowerCase());
      continue;
    }
    if (header === null || cells.length !== header.length) continue;
    const fields = new Map<string, string>();
    header.forEach((h, i) => fields.has(h) || fields.set(h, cells[i]));
    rows.push({ device: cells[0], fields });
  }
  return header === null ? null : rows;
}

/**
 * `rocm-smi <ROCM_SMI_DEVICE_ARGS>` (or the same without `--json`: the CSV form is read too) into
 * Devices: one per `cardN` with a VRAM total (id and index N, uuid the GUID or unique id when
 * printed, name the card series or device name, else `AMD GPU cardN`). Text with no such device is
 * an error.
 */
export function parseRocmDevices(text: string): Parsed<Device[]> {
  if (text.trim() === "") return { ok: false, error: "rocm-smi printed nothing" };
  const rows = rocmSmiRows(text);
  if (rows === null) return { ok: false, error: `unparsable rocm-smi output: ${JSON.stringify((nonEmptyLines(text)[0] ?? "").slice(0, 120))}` };
  const usable = (v: string | undefined): string | null => (v === undefined || v === "" || /^n\/a$/i.test(v) ? null : v);
  const devices: Device[] = [];
  for (const { device, fields } of rows) {
    const m = /^card(\d+)$/.exec(device.trim());
    const total = parseNumber(fields.get("vram total memory (b)"));
    if (!m || total === null) continue;
    const index = Number(m[1]);
    devices.push({
      id: String(index),
      kind: "gpu",
      index,
      uuid: usable(fields.get("guid")) ?? usable(fields.get("unique id")),
      name: usable(fields.get("card series")) ?? usable(fields.get("device name")) ?? `AMD GPU card${index}`,
      vendor: "amd",
      total,
      usedAtStart: parseNumber(fields.get("vram total used memory (b)")) ?? 0,
      reserve: 0,
      source: "rocm-smi",
    });
  }
  if (devices.length === 0) return { ok: false, error: "rocm-smi listed no cardN device with VRAM" };
  devices.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  return { ok: true, value: devices };
}
