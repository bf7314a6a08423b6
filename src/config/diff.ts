/**
 * What a config reload changes, model by model (web-standard, pure): which models are new, gone,
 * restarted (a setting their process depends on changed: it must stop and start again) or
 * changed in metadata only (applied in place, no restart), and which top-level settings changed.
 */
import type { Config, ModelConfig } from "./types.ts";

/** Model settings the running process depends on: a change restarts the model. */
export const PROCESS_KEYS = ["cmd", "cmdStop", "proxy", "port", "env", "checkEndpoint", "healthCheckTimeout"] as const satisfies readonly (keyof ModelConfig)[];

/** The difference between two resolved configs. */
export interface ConfigDiff {
  added: string[];
  removed: string[];
  /** Process settings changed, with the keys that did. */
  restarted: { id: string; keys: string[] }[];
  /** Only metadata changed (ttl, aliases, name, filters, …), with the keys that did. */
  metadata: { id: string; keys: string[] }[];
  /** Top-level keys whose resolved value changed (routing, apiKeys, peers, …). */
  global: string[];
}

/** Structural equality of two JSON-like values (key order ignored). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => sameValue(x, (b as unknown[])[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** The keys of two model configs whose values differ. */
export function changedKeys(a: ModelConfig, b: ModelConfig): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => !sameValue((a as unknown as Record<string, unknown>)[k], (b as unknown as Record<string, unknown>)[k])).sort();
}

/** Compare `prev` with `next`. */
export function diffConfigs(prev: Config, next: Config): ConfigDiff {
  const out: ConfigDiff = { added: [], removed: [], restarted: [], metadata: [], global: [] };
  const process = new Set<string>(PROCESS_KEYS);
  for (const id of Object.keys(next.models).sort()) {
    const before = prev.models[id];
    if (!before) {
      out.added.push(id);
      continue;
    }
    const keys = changedKeys(before, next.models[id]!);
    if (keys.length === 0) continue;
    if (keys.some((k) => process.has(k))) out.restarted.push({ id, keys });
    else out.metadata.push({ id, keys });
  }
  for (const id of Object.keys(prev.models).sort()) if (!Object.hasOwn(next.models, id)) out.removed.push(id);
  const top = new Set([...Object.keys(prev), ...Object.keys(next)]);
  for (const k of [...top].sort()) {
    if (k === "models" || k === "warnings") continue;
    if (!sameValue((prev as unknown as Record<string, unknown>)[k], (next as unknown as Record<string, unknown>)[k])) out.global.push(k);
  }
  return out;
}

/** One line saying what a diff does, for the log. */
export function describeDiff(d: ConfigDiff): string {
  const parts: string[] = [];
  if (d.added.length) parts.push(`added ${d.added.join(", ")}`);
  if (d.removed.length) parts.push(`removed ${d.removed.join(", ")}`);
  if (d.restarted.length) parts.push(`restarting ${d.restarted.map((r) => `${r.id} (${r.keys.join(", ")})`).join(", ")}`);
  if (d.metadata.length) parts.push(`updated in place ${d.metadata.map((r) => `${r.id} (${r.keys.join(", ")})`).join(", ")}`);
  if (d.global.length) parts.push(`settings ${d.global.join(", ")}`);
  return parts.length ? parts.join("; ") : "no changes";
}
