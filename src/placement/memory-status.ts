/** What /running and metrics tell of memory: each device's budget and use, and each model's figure and where it sits. */
import { budgetOf, usageOf, type FitView } from "./fit.ts";
import type { Bytes, Device, NeedSource } from "./types.ts";

/** One device, as reported. */
export interface DeviceStatus {
  id: string;
  kind: "cpu" | "gpu";
  name: string;
  source: Device["source"];
  total: Bytes;
  /** Used by other processes when switchyard started. */
  usedByOthers: Bytes;
  reserve: Bytes;
  /** What the resident models occupy (by their figures). */
  usedByModels: Bytes;
  /** Budget left: total − others − reserve − models (may be negative when a measurement exceeded the plan). */
  free: Bytes;
}

/** One model's memory, as reported. */
export interface ModelMemoryStatus {
  /** Bytes per device while it is resident (by its figure); its figure on one device when not resident. */
  bytes: Bytes;
  perDevice: Record<string, Bytes>;
  source: NeedSource;
  resident: boolean;
}

/** The whole report. */
export interface MemoryStatus {
  devices: DeviceStatus[];
  models: Record<string, ModelMemoryStatus>;
}

/** Build the report for `models`, of which `running` are resident. */
export function memoryStatus(devices: readonly Device[], models: readonly string[], running: readonly string[], view: Pick<FitView, "need" | "placedOn">): MemoryStatus {
  const full: FitView = { ...view, persistent: () => false, priority: () => 0, inFlight: () => 0, lastUsed: () => 0 };
  const resident = new Set(running);
  const out: Record<string, ModelMemoryStatus> = {};
  const used = new Map<string, Bytes>();
  for (const m of models) {
    const need = view.need(m);
    const perDevice = resident.has(m) ? usageOf(m, full, devices) : need.any !== undefined ? {} : { ...need.perDevice };
    if (resident.has(m)) for (const [id, b] of Object.entries(perDevice)) used.set(id, (used.get(id) ?? 0) + b);
    const bytes = need.any ?? Object.values(need.perDevice).reduce((a, b) => a + b, 0);
    out[m] = { bytes, perDevice, source: need.source, resident: resident.has(m) };
  }
  return {
    devices: devices.map((d) => {
      const byModels = used.get(d.id) ?? 0;
      return { id: d.id, kind: d.kind, name: d.name, source: d.source, total: d.total, usedByOthers: d.usedAtStart, reserve: d.reserve, usedByModels: byModels, free: budgetOf(d) - byModels };
    }),
    models: out,
  };
}
