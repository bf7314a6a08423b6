/**
 * What the normalisation steps share: the input type, the reporting context and small helpers.
 */
import type { Static } from "@sinclair/typebox";
import type { PathSeg } from "./errors.ts";
import { compareCodePoints } from "./compare-code-points.ts";
import type { ConfigSchema } from "./schema.ts";

/** The schema-valid, macro-expanded file. */
export type ConfigInput = Static<typeof ConfigSchema>;
/** One model of the input. */
export type ModelInput = NonNullable<ConfigInput["models"]>[string];
/** One group of the input. */
export type GroupInput = NonNullable<ConfigInput["groups"]>[string];
/** The matrix block of the input. */
export type MatrixInput = NonNullable<ConfigInput["matrix"]>;

/** What normalisation needs from the loader. */
export interface NormalizeContext {
  report(path: PathSeg[], message: string): void;
  warn(path: PathSeg[], message: string): void;
  /** Ports handed out by the macro pass. */
  ports: ReadonlyMap<string, number>;
  /** Keys of the mapping at `path` in document order (plain objects reorder integer-like keys). */
  orderedKeys(path: PathSeg[]): string[] | null;
}

/** Name of the synthetic group that holds every ungrouped model. */
export const DEFAULT_GROUP_ID = "(default)";

/** Checks an upstream URL; returns it without trailing slashes, or null when it is not usable. */
export function normalizeUrl(raw: string): string | null {
  const text = raw.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") return null;
  return text.replace(/\/+$/, "");
}

/** llama-swap's stripParams: comma list → trimmed, deduped, sorted, never `model`. */
export function sanitizeStripParams(text: string): string[] {
  const names = new Set<string>();
  for (const part of text.split(",")) {
    const name = part.trim();
    if (name !== "" && name !== "model") names.add(name);
  }
  return [...names].sort(compareCodePoints);
}

/** Keys of `obj` in document order. */
export function ordered(ctx: NormalizeContext, path: PathSeg[], obj: object): string[] {
  const keys = ctx.orderedKeys(path);
  return keys ? keys.filter((k) => Object.hasOwn(obj, k)) : Object.keys(obj);
}

/** A copy of request params without `model` (which filters may not set), warning when it was there. */
export function withoutModelKey(params: Record<string, unknown>, path: PathSeg[], ctx: NormalizeContext): Record<string, unknown> {
  const out = { ...params };
  if (Object.hasOwn(out, "model")) {
    delete out.model;
    ctx.warn([...path, "model"], "the model field cannot be set by filters; ignored");
  }
  return out;
}
