/**
 * Key path → position in the original YAML text, through yaml's document ranges. Follows aliases and
 * merge keys (`<<: *anchor`), so a value that came from an anchor points at where it is written.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type Node as YamlNode } from "yaml";
import type { PathSeg } from "./errors.ts";

/** A 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

/** Looks up the position of the deepest node reachable along `path` (the key when the path ends on one). */
export type Locator = (path: readonly PathSeg[]) => Position | null;

/** Builds a line/column lookup for offsets into `text`. */
export function createLineIndex(text: string): (offset: number) => Position {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
  return (offset: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo] + 1 };
  };
}

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && (typeof key.value === "symbol" || key.value === "<<");
}

function keyString(key: unknown): string | null {
  if (isScalar(key)) return typeof key.value === "symbol" ? "<<" : String(key.value ?? "");
  return null;
}

/** The walk along a key path: the deepest node reached, its position, and whether the whole path was found. */
interface Walk {
  node: unknown;
  best: Position | null;
  complete: boolean;
}

function createWalker(doc: Document, toPosition: (offset: number) => Position): { walk(path: readonly PathSeg[]): Walk; deref(n: unknown): unknown } {
  const deref = (n: unknown): unknown => {
    let cur = n;
    for (let i = 0; isAlias(cur) && i < 64; i++) cur = cur.resolve(doc);
    return cur;
  };

  // Finds the pair for `key` in a mapping, searching explicit keys first, then merged mappings.
  const findPair = (map: unknown, key: string, depth: number): { key: unknown; value: unknown } | null => {
    const m = deref(map);
    if (!isMap(m) || depth > 32) return null;
    for (const pair of m.items) if (!isMergeKey(pair.key) && keyString(pair.key) === key) return pair;
    for (const pair of m.items) {
      if (!isMergeKey(pair.key)) continue;
      const src = deref(pair.value);
      const sources = isSeq(src) ? src.items : [src];
      for (const s of sources) {
        const found = findPair(s, key, depth + 1);
        if (found) return found;
      }
    }
    return null;
  };

  const posOf = (n: unknown): Position | null => {
    const range = (n as YamlNode | null)?.range;
    return range ? toPosition(range[0]) : null;
  };

  const walk = (path: readonly PathSeg[]): Walk => {
    let node: unknown = doc.contents;
    let best: Position | null = posOf(node);
    for (const seg of path) {
      const cur = deref(node);
      if (typeof seg === "number") {
        if (!isSeq(cur) || seg >= cur.items.length) return { node, best, complete: false };
        node = cur.items[seg];
        best = posOf(node) ?? best;
      } else {
        const pair = findPair(cur, seg, 0);
        if (!pair) return { node, best, complete: false };
        best = posOf(pair.key) ?? posOf(pair.value) ?? best;
        node = pair.value;
      }
    }
    return { node, best, complete: true };
  };
  return { walk, deref };
}

/** Creates a locator for a parsed document; `toPosition` maps offsets of the parsed text to original positions. */
export function createLocator(doc: Document, toPosition: (offset: number) => Position): Locator {
  const { walk } = createWalker(doc, toPosition);
  return (path) => walk(path).best;
}

/** A scalar as written: its text (quotes removed) and whether nothing at all was written (`key:`). */
export interface WrittenScalar {
  text: string;
  empty: boolean;
}

/** Looks up the scalar written at a key path (aliases and merge keys followed); null when it is not a scalar there. */
export function createScalarFinder(doc: Document): (path: readonly PathSeg[]) => WrittenScalar | null {
  const { walk, deref } = createWalker(doc, () => ({ line: 0, column: 0 }));
  return (path) => {
    const w = walk(path);
    if (!w.complete) return null;
    // `? key` with no value at all has no node.
    if (w.node === null || w.node === undefined) return { text: "", empty: true };
    const n = deref(w.node);
    if (!isScalar(n)) return null;
    const text = n.source ?? String(n.value ?? "");
    return { text, empty: n.value === null && text === "" };
  };
}

/** The key path of the innermost node written at `offset` (aliases are not followed). */
export function pathAtOffset(doc: Document, offset: number): PathSeg[] {
  const path: PathSeg[] = [];
  const inside = (n: unknown): boolean => {
    const r = (n as YamlNode | null)?.range;
    return !!r && offset >= r[0] && offset < r[2];
  };
  let node: unknown = doc.contents;
  for (let depth = 0; depth < 256; depth++) {
    if (isMap(node)) {
      const pair = node.items.find((p) => inside(p.value) || inside(p.key));
      const key = pair ? keyString(pair.key) : null;
      if (!pair || key === null) break;
      path.push(key);
      if (!inside(pair.value)) break;
      node = pair.value;
    } else if (isSeq(node)) {
      const i = node.items.findIndex((n) => inside(n));
      if (i < 0) break;
      path.push(i);
      node = node.items[i];
    } else break;
  }
  return path;
}
