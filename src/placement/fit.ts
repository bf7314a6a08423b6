/**
 * The fit policy, as pure code: place a model where its memory fits beside the residents; when it
 * does not, evict residents on that device until it does: idle before busy, lower priority first,
 * least recently used first, never a persistent one. A model needing more than a device holds even
 * when empty is refused. With several devices, the one needing the fewest (and least recently
 * used) evictions of busy models wins, then the fewest evictions in all, the least recently used,
 * then the one with the most room left.
 */
import { formatSize } from "../config/size.ts";
import type { Bytes, Device, Need } from "./types.ts";

/** What the plan knows of each model (all reads; pure). */
export interface FitView {
  need(model: string): Need;
  persistent(model: string): boolean;
  priority(model: string): number;
  inFlight(model: string): number;
  /** Epoch ms of the model's last grant or finished request (0 = never). */
  lastUsed(model: string): number;
  /** Devices a resident with an `any` need was placed on (absent: none known). */
  placedOn(model: string): readonly string[] | undefined;
}

/** A placement decision. */
export type FitPlan =
  | {
      kind: "fit";
      /** Devices the target runs on. */
      devices: string[];
      /** Residents to stop first. */
      evict: string[];
      /** Bytes the target needs per device, and what was free before evicting. */
      needs: Record<string, Bytes>;
      free: Record<string, Bytes>;
    }
  /**
   * It fits no device even when empty (or names a device that does not exist). `devices`: where it
   * would go if started anyway (the candidate with the largest budget), so no start is ever unplaced.
   */
  | { kind: "never"; message: string; devices: string[] }
  /** It would fit, but persistent residents hold the room: nothing can be evicted for it. */
  | { kind: "blocked"; message: string; devices: string[] };

/** Bytes a device offers to models: total, minus what others used at start, minus the reserve. */
export function budgetOf(d: Device): Bytes {
  return Math.max(0, d.total - d.usedAtStart - d.reserve);
}

/** What `model` occupies on each device, by its need and where it was placed. */
export function usageOf(model: string, view: FitView, devices: readonly Device[]): Record<string, Bytes> {
  const need = view.need(model);
  if (need.any === undefined) return { ...need.perDevice };
  const on = view.placedOn(model) ?? [defaultDevice(devices)];
  const out: Record<string, Bytes> = {};
  for (const d of on) out[d] = need.any;
  return out;
}

/** Where an `any` model goes when nothing else says: the first GPU, else the CPU. */
function defaultDevice(devices: readonly Device[]): string {
  return (devices.find((d) => d.kind === "gpu") ?? devices[0])?.id ?? "cpu";
}

/** The candidate requirement sets of the target: one per eligible device for `any`, else its own map. */
function candidates(need: Need, devices: readonly Device[]): Record<string, Bytes>[] {
  if (need.any !== undefined || Object.keys(need.perDevice).length === 0) {
    const bytes = need.any ?? 0;
    const gpus = devices.filter((d) => d.kind === "gpu");
    return (gpus.length > 0 ? gpus : devices).map((d) => ({ [d.id]: bytes }));
  }
  return [need.perDevice];
}

/** What each resident occupies, and each device's budget left after them. */
function occupancy(residents: readonly string[], devices: readonly Device[], view: FitView): { usage: Map<string, Record<string, Bytes>>; free: Record<string, Bytes> } {
  const usage = new Map(residents.map((m) => [m, usageOf(m, view, devices)]));
  const free: Record<string, Bytes> = {};
  for (const d of devices) {
    let used = 0;
    for (const u of usage.values()) used += u[d.id] ?? 0;
    free[d.id] = budgetOf(d) - used;
  }
  return { usage, free };
}

/** Plan the placement of `target` beside `running` (the target itself, if running, needs nothing). */
export function planFit(target: string, running: readonly string[], devices: readonly Device[], view: FitView): FitPlan {
  const byId = new Map(devices.map((d) => [d.id, d]));
  const residents = running.filter((m) => m !== target);
  const { usage, free: freeNow } = occupancy(residents, devices, view);
  const need = view.need(target);
  const options = candidates(need, devices);
  const possible = options.filter((req) => Object.entries(req).every(([id, b]) => byId.has(id) && b <= budgetOf(byId.get(id)!)));
  if (possible.length === 0) return { kind: "never", message: neverMessage(target, options, byId), devices: fallbackDevices(options, devices) };

  // Eviction order: idle first, then lower priority, then least recently used, then by name.
  const order = residents
    .filter((m) => !view.persistent(m))
    .sort((a, b) => Number(view.inFlight(a) > 0) - Number(view.inFlight(b) > 0) || view.priority(a) - view.priority(b) || view.lastUsed(a) - view.lastUsed(b) || (a < b ? -1 : a > b ? 1 : 0));

  type Scored = { req: Record<string, Bytes>; evict: string[]; busy: number; newest: number; room: number };
  const scored: Scored[] = [];
  for (const req of possible) {
    const free = { ...freeNow };
    const short = (): boolean => Object.entries(req).some(([id, b]) => b > free[id]);
    const evict: string[] = [];
    for (const m of order) {
      if (!short()) break;
      const u = usage.get(m)!;
      // Only a resident on a device that is short helps.
      if (!Object.entries(req).some(([id, b]) => b > free[id] && (u[id] ?? 0) > 0)) continue;
      evict.push(m);
      for (const [id, b] of Object.entries(u)) free[id] = (free[id] ?? 0) + b;
    }
    if (short()) continue;
    // The greedy pass never revisits a choice: put back every evictee the target turns out not to
    // need, the one it would keep longest first (reverse eviction order), so no evictee can be spared.
    for (let i = evict.length - 1; i >= 0; i--) {
      const u = usage.get(evict[i])!;
      if (Object.entries(req).some(([id, b]) => b > free[id] - (u[id] ?? 0))) continue;
      for (const [id, b] of Object.entries(u)) free[id] = (free[id] ?? 0) - b;
      evict.splice(i, 1);
    }
    const room = Math.min(...Object.entries(req).map(([id, b]) => free[id] - b));
    scored.push({ req, evict, busy: evict.filter((m) => view.inFlight(m) > 0).length, newest: Math.max(0, ...evict.map((m) => view.lastUsed(m))), room });
  }
  if (scored.length === 0) {
    const req = possible[0];
    return { kind: "blocked", devices: Object.keys(req), message: `${target} needs ${describe(req)}; persistent models hold the room` };
  }
  // A busy eviction waits for its requests (or severs them at the drain deadline): idle ones elsewhere go first.
  scored.sort((a, b) => a.busy - b.busy || a.evict.length - b.evict.length || a.newest - b.newest || b.room - a.room);
  const best = scored[0];
  const free: Record<string, Bytes> = {};
  for (const id of Object.keys(best.req)) free[id] = freeNow[id];
  return { kind: "fit", devices: Object.keys(best.req), evict: best.evict, needs: best.req, free };
}

/** Where a model that fits nowhere would go: the existing candidate device with the largest budget, else the default device. */
function fallbackDevices(options: readonly Record<string, Bytes>[], devices: readonly Device[]): string[] {
  const byId = new Map(devices.map((d) => [d.id, d]));
  const existing = options.filter((req) => Object.keys(req).length > 0 && Object.keys(req).every((id) => byId.has(id)));
  const budget = (req: Record<string, Bytes>): Bytes => Math.min(...Object.keys(req).map((id) => budgetOf(byId.get(id)!)));
  const best = existing.reduce<Record<string, Bytes> | null>((a, req) => (a === null || budget(req) > budget(a) ? req : a), null);
  return best ? Object.keys(best) : [defaultDevice(devices)];
}

function describe(req: Record<string, Bytes>): string {
  return Object.entries(req)
    .map(([id, b]) => `${formatSize(b)} on ${id === "cpu" ? "cpu" : `GPU ${id}`}`)
    .join(" + ");
}

function neverMessage(target: string, options: Record<string, Bytes>[], byId: ReadonlyMap<string, Device>): string {
  const req = options[0] ?? {};
  const missing = Object.keys(req).filter((id) => !byId.has(id));
  if (missing.length > 0) return `model ${target} needs device ${missing.join(", ")}, which does not exist (devices: ${[...byId.keys()].join(", ") || "none"})`;
  const largest = Math.max(0, ...options.flatMap((o) => Object.keys(o).map((id) => budgetOf(byId.get(id)!))));
  const bytes = Math.max(...options.flatMap((o) => Object.values(o)));
  const what = options.length > 1 ? `${formatSize(bytes)} on one device` : describe(req);
  return `model ${target} needs ${what}, more than any device holds even when empty (largest budget ${formatSize(largest)})`;
}

/**
 * After a measurement showed more than planned: idle, non-persistent residents to unload (least
 * recently used first, never `keep`) until no device is over its budget; [] when none is over.
 */
export function relieve(running: readonly string[], devices: readonly Device[], view: FitView, keep: string): string[] {
  const { usage, free } = occupancy(running, devices, view);
  const over = (): string[] => devices.filter((d) => free[d.id] < 0).map((d) => d.id);
  if (over().length === 0) return [];
  const out: string[] = [];
  const order = running.filter((m) => m !== keep && !view.persistent(m) && view.inFlight(m) === 0).sort((a, b) => view.lastUsed(a) - view.lastUsed(b));
  for (const m of order) {
    const o = over();
    if (o.length === 0) break;
    const u = usage.get(m)!;
    if (!o.some((id) => (u[id] ?? 0) > 0)) continue;
    out.push(m);
    for (const [id, b] of Object.entries(u)) free[id] = (free[id] ?? 0) + b;
  }
  return out;
}
