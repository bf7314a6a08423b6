/** Memory sizes as the config writes them: `7.5GiB`, `512MiB`, `24GB`; and back for messages. */

const UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 1024,
  MIB: 1024 ** 2,
  GIB: 1024 ** 3,
  TIB: 1024 ** 4,
};

/** Bytes for a size with its unit (GiB/MiB/KiB/TiB: powers of 1024; GB/MB/KB/TB: of 1000), or null when it is not one. */
export function parseSize(text: string): number | null {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B|B)\s*$/i.exec(text);
  if (!m) return null;
  const unit = UNITS[m[2].toUpperCase()];
  return unit === undefined ? null : Math.round(Number(m[1]) * unit);
}

/** A byte count for people: `7.50 GiB`, `512 MiB`. */
export function formatSize(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (abs >= 1024 ** 2) return `${Math.round(bytes / 1024 ** 2)} MiB`;
  if (abs >= 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${bytes} B`;
}
