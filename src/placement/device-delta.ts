/**
 * A model measured from outside its process group (a backend in a container): how much more each
 * device uses after its load than before. Pure; the two readings are taken at the edge. Web-standard.
 */
import type { Bytes, Device, Measurement } from "./types.ts";

/**
 * A load measured from outside: each device's used memory in `after` minus in `before` (two
 * readings, e.g. detectDevices() before the start and after ready; `usedAtStart` is read as "used
 * at that reading"). Devices that did not grow, or are missing from either reading, are left out.
 */
export function deviceDelta(model: string, before: readonly Device[], after: readonly Device[], at: number): Measurement {
  const was = new Map(before.map((d) => [d.id, d.usedAtStart]));
  const perDevice: Record<string, Bytes> = {};
  for (const d of after) {
    const prior = was.get(d.id);
    if (prior !== undefined && d.usedAtStart > prior) perDevice[d.id] = d.usedAtStart - prior;
  }
  return { model, perDevice, method: "device-delta", at };
}
