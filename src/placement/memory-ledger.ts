/**
 * What each model needs, from the strongest source known: measured (after a load) over declared
 * (`memory:`) over guessed (GGUF header) over unknown; a measurement above the figure in use
 * replaces it (and is reported), a lower one replaces a guess but never a declared figure. Also
 * where each resident was placed, the raised figure after an out-of-memory failure (used for one
 * start, the retry; dropped at the start after it unless a measurement replaced it first), and a
 * figure held for a process that still runs after a config reload changed its command (released
 * when the model next starts). Only the router's run loop writes it (measurements arrive as loop
 * events).
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

/** The most an out-of-memory raise may reach: on one device of the fit's choosing, and per named device. */
export interface RaiseCap {
  any: Bytes;
  perDevice: Readonly<Record<string, Bytes>>;
}

/** The ledger. */
export interface MemoryLedger {
  /** What the model occupies now (while it runs) or needs: a held figure, else the raised one, else the strongest source. */
  need(model: string): Need;
  /** What the model's next start needs: no held figure, and no raise that a start has already used. */
  startNeed(model: string): Need;
  /**
   * The model's start was committed: a held figure is released, a raise already used by a start is
   * dropped (returned, for the log), a fresh raise is marked used.
   */
  starting(model: string): Need | null;
  /** Keep reporting the model's current figure from need() until its next start (its old process still runs). */
  hold(model: string): void;
  /** Set the declared figure (config `memory:`) or null. */
  declare(model: string, memory: ModelMemory | null): void;
  /** Set the guessed figure: bytes on any one device, bytes per named device (RAM: `{ cpu }`), or null. */
  guess(model: string, figure: Bytes | Readonly<Record<string, Bytes>> | null): void;
  /** Record a measurement; returns what changed, or null when the figure in use stays. */
  measure(m: Measurement): LedgerChange | null;
  /**
   * After an out-of-memory failure: raise the figure by `factor`, each part no higher than `cap`;
   * returns the raised figure, or null when the cap leaves nothing higher (nothing is raised then).
   */
  raise(model: string, factor: number, cap?: RaiseCap): Need | null;
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
  const raised = new Map<string, { need: Need; used: boolean }>();
  const held = new Map<string, Need>();
  const placements = new Map<string, string[]>();

  const base = (model: string): Need => {
    const m = measuredNeeds.get(model);
    const d = declared.get(model);
    return m && (!d || total(m) >= total(d)) ? m : (d ?? m ?? guessed.get(model) ?? UNKNOWN);
  };
  const withRaise = (model: string, usedToo: boolean): Need => {
    const b = base(model);
    const r = raised.get(model);
    return r && (usedToo || !r.used) && total(r.need) > total(b) ? r.need : b;
  };
  const need = (model: string): Need => held.get(model) ?? withRaise(model, true);

  return {
    need,
    startNeed: (model) => withRaise(model, false),
    starting(model) {
      held.delete(model);
      const r = raised.get(model);
      if (!r) return null;
      if (!r.used) {
        r.used = true;
        return null;
      }
      raised.delete(model);
      return r.need;
    },
    hold(model) {
      held.set(model, need(model));
    },
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
    raise(model, factor, cap) {
      const n = withRaise(model, true);
      // Never above what a device can offer: a figure no device holds would refuse the model for good.
      const scale = (b: Bytes, limit: Bytes | undefined): Bytes => Math.max(b, Math.min(Math.ceil(b * factor), limit ?? Infinity));
      const up: Need = {
        perDevice: Object.fromEntries(Object.entries(n.perDevice).map(([k, v]) => [k, scale(v, cap?.perDevice[k])])),
        ...(n.any !== undefined ? { any: scale(n.any, cap?.any) } : {}),
        source: n.source,
      };
      if (total(up) <= total(n)) return null;
      raised.set(model, { need: up, used: false });
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
