/** A device in one line, for the startup log and `--check`. Web-standard. */
import type { Bytes, Device } from "./types.ts";

const GIB = 1024 ** 3;

/** Bytes as GiB with one decimal ("139.8 GiB"). */
export function formatGiB(bytes: Bytes): string {
  return `${(bytes / GIB).toFixed(1)} GiB`;
}

/** `device 0: NVIDIA H200, 139.8 GiB total, 0.5 GiB used (nvidia-smi)`; the reserve is named when set. */
export function describeDevice(d: Device): string {
  const reserve = d.reserve > 0 ? `, ${formatGiB(d.reserve)} reserved` : "";
  return `device ${d.id}: ${d.name}, ${formatGiB(d.total)} total, ${formatGiB(d.usedAtStart)} used${reserve} (${d.source})`;
}
