/**
 * What each model needs, from the strongest source known: measured (after a load) over declared
 * (`memory:`) over guessed (GGUF header) over unknown; a measurement above the figure in use
 * replaces it (and is reported), a lower one replaces a guess but never a declared figure. Also
 * where each resident was placed, and the raised figure after an out-of-memory failure. Only the
 * router's run loop writes it (measurements arrive as loop events).
 */
import type { ModelMemory } from "../config/types.ts";
import type { Bytes, Measurement, Need } from "./types.ts";

/** What changed when a measurement was recorded. */
export interface LedgerChange {
  model: string;
  before: Need;
  after: Need;
  /** The measurement exceeded the figure in use. */
  raised: boolean;
}

/** The ledger. */
export interface MemoryLedger {
  need(model: string): Need;
  /** Set the declared figure (config `memory:`) or null. */
  declare(model: string, memory: ModelMemory | null): void;
  /** Set the guessed figure: bytes on any one device, bytes per named device (RAM: `{ cpu }`), or null. */
  guess(model: string, figure: Bytes | Readonly<Record<string, Bytes>> | null): void;
  /** Record a measurement; returns what changed, or null when the figure in use stays. */
  measure(m: Measurement): LedgerChange | null;
  /** After an out-of-memory failure: raise the figure by `factor` (at least once per failure). */
  raise(model: string, factor: number): Need;
  /** Forget what was measured (the model's command changed). */
  forget(model: string): void;
  /** Where a resident with a one-device figure runs. */
  place(model: string, devices: readonly string[]): void;
  placedOn(model: string): readonly string[] | undefined;
  /** Every model's measured need (for the state file). */
  measured(): ReadonlyMap<string, Need>;
}

const UNKNOWN: Need = { perDevice: {}, source: "unknown" };

const total = (n: Need): Bytes => (n.any ?? 0) + Object.values(n.perDevice).reduce((a, b) => a + b, 0);

/** Create an empty ledger. */
export function createMemoryLedger(): MemoryLedger {
  const declared = new Map<string, Need>();
  const guessed = new Map<string, Need>();
  const measuredNeeds = new Map<string, Need>();
  const raised = new Map<string, Need>();
  const placements = new Map<string, string[]>();

  const need = (model: string): Need => {
    const r = raised.get(model);
    const m = measuredNeeds.get(model);
    const d = declared.get(model);
    const base = m && (!d || total(m) >= total(d)) ? m : (d ?? m ?? guessed.get(model) ?? UNKNOWN);
    return r && total(r) > total(base) ? r : base;
  };

  return {
    need,
    declare(model, memory) {
      if (memory === null) declared.delete(model);
      else declared.set(model, memory.kind === "any" ? { perDevice: {}, any: memory.bytes, source: "declared" } : { perDevice: { ...memory.perDevice }, source: "declared" });
    },
    guess(model, figure) {
      if (figure === null) guessed.delete(model);
      else if (typeof figure === "number") guessed.set(model, { perDevice: {}, any: figure, source: "guessed" });
      else guessed.set(model, { perDevice: { ...figure }, source: "guessed" });
    },
    measure(m) {
      const before = need(m.model);
      // One GPU's figure for a model that may run on any GPU is a size, not a place: kept as `any`,
      // or the GPU it ran on once would be the only one it could run on from then on.
      const used = Object.entries(m.perDevice).filter(([, b]) => b > 0);
      const d = declared.get(m.model);
      const anyGpu = used.length === 1 && used[0][0] !== "cpu" && (d === undefined || d.any !== undefined);
      const next: Need = anyGpu ? { perDevice: {}, any: used[0][1], source: "measured" } : { perDevice: { ...m.perDevice }, source: "measured" };
      measuredNeeds.set(m.model, next);
      raised.delete(m.model);
      const after = need(m.model);
      if (after === before) return null;
      return { model: m.model, before, after, raised: total(after) > total(before) };
    },
    raise(model, factor) {
      const n = need(model);
      const scale = (b: Bytes): Bytes => Math.ceil(b * factor);
      const up: Need = { perDevice: Object.fromEntries(Object.entries(n.perDevice).map(([k, v]) => [k, scale(v)])), ...(n.any !== undefined ? { any: scale(n.any) } : {}), source: n.source };
      raised.set(model, up);
      return up;
    },
    forget(model) {
      measuredNeeds.delete(model);
      raised.delete(model);
    },
    place(model, devices) {
      placements.set(model, [...devices]);
    },
    placedOn: (model) => placements.get(model),
    measured: () => measuredNeeds,
  };
}
