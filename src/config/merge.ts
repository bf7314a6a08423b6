/**
 * Several config files as one (llama-swap's `--config` plus `--config-dir`), merged in the given
 * order with llama-swap's rules: the children of identity-keyed maps (models, groups, profiles,
 * selectors, peers, matrix, and the router settings' groups and matrix) name one thing each, so a
 * child key written in two files is an error; other mappings merge key by key; sequences
 * concatenate; two different scalars are an error; a value left empty (`key:`) yields to the other
 * side. Works on the parsed trees (aliases and merge keys already expanded in each file) and
 * remembers where every merged value was written, so later errors still name the file and line.
 */
import { formatPath, type PathSeg } from "./errors.ts";
import type { WrittenScalar } from "./locate.ts";
import { isRawMap, type RawMap, type RawValue } from "./raw-tree.ts";

/** A place in the sources: the file (its index in the merge order) and the key path inside it. */
export interface Written {
  source: number;
  path: readonly PathSeg[];
}

/** Where the parts of a merged value were written: one place, or a map or sequence made of several. */
export type Origin =
  | { kind: "one"; at: Written }
  | { kind: "map"; at: Written; children: ReadonlyMap<string, Origin> }
  | { kind: "seq"; at: Written; items: readonly Origin[] };

/** One parsed file as the merge sees it. */
export interface MergeInput {
  tree: RawMap;
  /** The scalar written at `path` in this file, or null when there is none. */
  scalarAt(path: readonly PathSeg[]): WrittenScalar | null;
}

/** Why two files cannot be merged; `at` is in the later file, `earlier` where the first one wrote it. */
export interface MergeConflict {
  kind: "duplicate" | "not-a-mapping" | "different" | "kinds";
  /** The key path in the merged document. */
  path: readonly PathSeg[];
  at: Written;
  earlier: Written;
  /** What each side holds (a scalar's value, or "a mapping", "a sequence"). */
  here: string;
  there: string;
}

/** The merged tree, where its parts come from, and the conflicts found (empty: the merge is good). */
export interface MergeResult {
  tree: RawMap;
  origin: Origin;
  conflicts: MergeConflict[];
}

/** llama-swap's identity-keyed maps: a child key in two files is a duplicate definition. */
const IDENTITY_MAPS: readonly (readonly string[])[] = [
  ["models"],
  ["groups"],
  ["profiles"],
  ["selectors"],
  ["peers"],
  ["matrix"],
  ["routing", "router", "settings", "groups"],
  ["routing", "router", "settings", "matrix"],
];

const isIdentityMap = (path: readonly PathSeg[]): boolean =>
  IDENTITY_MAPS.some((p) => p.length === path.length && p.every((seg, i) => seg === path[i]));

const one = (source: number, path: readonly PathSeg[]): Origin => ({ kind: "one", at: { source, path } });

/** The origin of a child of a value (a key or an index below it). */
function childOrigin(o: Origin, seg: PathSeg): Origin {
  if (o.kind === "map" && typeof seg === "string") {
    const c = o.children.get(seg);
    if (c) return c;
  } else if (o.kind === "seq" && typeof seg === "number") {
    const c = o.items[seg];
    if (c) return c;
  }
  return one(o.at.source, [...o.at.path, seg]);
}

/** Where the value at `path` of a merged document was written (the deepest place known). */
export function writtenAt(origin: Origin, path: readonly PathSeg[]): Written {
  let o = origin;
  for (const seg of path) o = childOrigin(o, seg);
  return o.at;
}

const kindOf = (v: RawValue): string => (isRawMap(v) ? "a mapping" : Array.isArray(v) ? "a sequence" : JSON.stringify(v));

/** Merges parsed files in order (the first is the base); see the module comment for the rules. */
export function mergeTrees(inputs: readonly MergeInput[]): MergeResult {
  const conflicts: MergeConflict[] = [];

  const scalar = (v: RawValue, o: Origin): WrittenScalar => {
    const facts = o.kind === "one" ? inputs[o.at.source]?.scalarAt(o.at.path) : null;
    return facts ?? { text: v === null ? "" : String(v), empty: v === null };
  };
  const isEmpty = (v: RawValue, o: Origin): boolean => v === null && scalar(v, o).empty;

  const conflict = (kind: MergeConflict["kind"], path: readonly PathSeg[], d: RawValue, dO: Origin, s: RawValue, sO: Origin): void => {
    conflicts.push({ kind, path, at: sO.at, earlier: dO.at, here: kindOf(s), there: kindOf(d) });
  };

  type Merged = { value: RawValue; origin: Origin };

  const mergeMaps = (d: RawMap, dO: Origin, s: RawMap, sO: Origin, path: readonly PathSeg[], identity: boolean): Merged => {
    const out: RawMap = new Map(d);
    const children = new Map<string, Origin>();
    for (const key of d.keys()) children.set(key, childOrigin(dO, key));
    for (const [key, sv] of s) {
      const so = childOrigin(sO, key);
      const dv = out.get(key);
      if (dv === undefined) {
        out.set(key, sv);
        children.set(key, so);
        continue;
      }
      const p = [...path, key];
      const dOrigin = children.get(key)!;
      if (identity) {
        conflicts.push({ kind: "duplicate", path: p, at: so.at, earlier: dOrigin.at, here: kindOf(sv), there: kindOf(dv) });
        continue;
      }
      const m = isIdentityMap(p) ? mergeIdentity(dv, dOrigin, sv, so, p) : mergeValue(dv, dOrigin, sv, so, p);
      out.set(key, m.value);
      children.set(key, m.origin);
    }
    return { value: out, origin: { kind: "map", at: dO.at, children } };
  };

  // An identity-keyed map must be a mapping on both sides (even an empty value is refused, as in llama-swap).
  const mergeIdentity = (d: RawValue, dO: Origin, s: RawValue, sO: Origin, path: readonly PathSeg[]): Merged => {
    if (!isRawMap(d) || !isRawMap(s)) {
      conflict("not-a-mapping", path, d, dO, s, sO);
      return { value: d, origin: dO };
    }
    return mergeMaps(d, dO, s, sO, path, true);
  };

  const mergeValue = (d: RawValue, dO: Origin, s: RawValue, sO: Origin, path: readonly PathSeg[]): Merged => {
    if (isRawMap(d) && isRawMap(s)) return mergeMaps(d, dO, s, sO, path, false);
    if (Array.isArray(d) && Array.isArray(s)) {
      const items = [...d.map((_, i) => childOrigin(dO, i)), ...s.map((_, i) => childOrigin(sO, i))];
      return { value: [...d, ...s], origin: { kind: "seq", at: dO.at, items } };
    }
    if (isEmpty(d, dO)) return { value: s, origin: sO };
    if (isEmpty(s, sO)) return { value: d, origin: dO };
    const collection = (v: RawValue): boolean => isRawMap(v) || Array.isArray(v);
    if (collection(d) || collection(s)) {
      conflict("kinds", path, d, dO, s, sO);
      return { value: d, origin: dO };
    }
    // Two scalars agree when written alike and of the same type (llama-swap compares value text and tag).
    const a = scalar(d, dO);
    const b = scalar(s, sO);
    if (a.text !== b.text || typeof d !== typeof s) conflict("different", path, d, dO, s, sO);
    return { value: d, origin: dO };
  };

  let tree: RawMap | null = null;
  let origin: Origin = one(0, []);
  inputs.forEach((input, i) => {
    if (tree === null) {
      tree = input.tree;
      origin = one(i, []);
      return;
    }
    const m = mergeMaps(tree, origin, input.tree, one(i, []), [], false);
    tree = m.value as RawMap;
    origin = m.origin;
  });
  return { tree: tree ?? new Map(), origin, conflicts };
}

/** The message of a conflict; `where` renders the earlier place (`a.yaml:3`). */
export function describeConflict(c: MergeConflict, where: (w: Written) => string): string {
  const at = JSON.stringify(formatPath(c.path));
  switch (c.kind) {
    case "duplicate": {
      const key = c.path[c.path.length - 1];
      const map = c.path[c.path.length - 2];
      return `duplicate ${String(map)} ${JSON.stringify(key)} (already defined in ${where(c.earlier)})`;
    }
    case "not-a-mapping":
      return `conflict at ${at}: expected a mapping in both files (${c.here} here, ${c.there} in ${where(c.earlier)})`;
    case "kinds":
      return `conflict at ${at}: incompatible YAML node kinds (${c.here} here, ${c.there} in ${where(c.earlier)})`;
    case "different":
      return `conflict at ${at}: ${c.here} here, but ${where(c.earlier)} sets ${c.there}`;
  }
}
