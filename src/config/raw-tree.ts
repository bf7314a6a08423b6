/**
 * The untyped config tree the macro pass works on: mappings are ordered `Map`s with string keys (so
 * declaration order survives even for keys like "1"), sequences are arrays, scalars stay typed.
 */
import type { PathSeg } from "./errors.ts";

/** A value of the untyped tree. */
export type RawValue = string | number | boolean | null | RawValue[] | RawMap;
/** A YAML mapping with its keys as strings, in document order. */
export type RawMap = Map<string, RawValue>;

/** True when `v` is a mapping of the tree. */
export function isRawMap(v: unknown): v is RawMap {
  return v instanceof Map;
}

/**
 * Converts yaml's `toJS({ mapAsMap: true })` output into a RawValue. Non-scalar keys and values of
 * unsupported kinds are reported and dropped; scalar keys are stringified (YAML `1:` is the key "1").
 */
export function toRawTree(
  js: unknown,
  report: (path: PathSeg[], message: string) => void,
  path: PathSeg[] = [],
  ancestors: Set<unknown> = new Set(),
): RawValue {
  if (js === null || js === undefined) return null;
  if (typeof js === "string" || typeof js === "boolean") return js;
  if (typeof js === "number") return js;
  if (typeof js === "bigint") return Number(js);
  if (Array.isArray(js) || js instanceof Map) {
    // yaml builds circular structures for an alias inside its own anchor (`a: &x [*x]`).
    if (ancestors.has(js)) {
      report(path, "an alias refers to a node that contains it");
      return null;
    }
    ancestors.add(js);
    try {
      if (Array.isArray(js)) return js.map((v, i) => toRawTree(v, report, [...path, i], ancestors));
      const out: RawMap = new Map();
      for (const [k, v] of js) {
        if (k !== null && typeof k === "object") {
          report(path, "mapping keys must be plain scalars, not collections");
          continue;
        }
        const key = k === null || k === undefined ? "" : String(k);
        if (key === "__proto__") {
          report([...path, key], "the key __proto__ is not allowed");
          continue;
        }
        if (out.has(key)) {
          report([...path, key], "duplicate key (after converting keys to strings)");
          continue;
        }
        out.set(key, toRawTree(v, report, [...path, key], ancestors));
      }
      return out;
    } finally {
      ancestors.delete(js);
    }
  }
  if (js instanceof Date) return js.toISOString();
  report(path, `unsupported YAML value of type ${Object.prototype.toString.call(js).slice(8, -1)}`);
  return null;
}

/** Converts the tree to plain JSON-like objects (own data properties only, safe for `__proto__` keys). */
export function toPlain(v: RawValue): unknown {
  if (Array.isArray(v)) return v.map(toPlain);
  if (isRawMap(v)) return Object.fromEntries([...v].map(([k, x]) => [k, toPlain(x)]));
  return v;
}

/** Reads a nested value by path, or undefined when any step is missing. */
export function getIn(root: RawValue, path: readonly PathSeg[]): RawValue | undefined {
  let cur: RawValue | undefined = root;
  for (const seg of path) {
    if (typeof seg === "number") cur = Array.isArray(cur) ? cur[seg] : undefined;
    else cur = isRawMap(cur) ? cur.get(seg) : undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}
