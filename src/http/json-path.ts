/**
 * Dotted-key access into JSON objects, the subset of sjson paths llama-swap filters use:
 * `a.b.c` addresses nested fields, `\.` escapes a literal dot, a numeric segment indexes an array.
 */

type Json = Record<string, unknown> | unknown[];

/** `JSON.rawJSON` / `JSON.isRawJSON` and the reviver's source text (ES2025; Bun, Deno and V8 have them). */
interface RawJsonApi {
  rawJSON?: (text: string) => object;
  isRawJSON?: (value: unknown) => boolean;
}
const RAW = JSON as unknown as RawJsonApi;

/**
 * Parse a JSON document for editing, keeping the source text of every number a JS number would
 * not reproduce (integers past 2^53 such as 64-bit seeds, `1.50`, `1e400`), so that re-serialising
 * an edited body changes only what the edit touched. Plain `JSON.parse` where the runtime lacks
 * `JSON.rawJSON`.
 */
export function parseJsonExact(text: string): unknown {
  const raw = RAW.rawJSON;
  if (!raw) return JSON.parse(text);
  return JSON.parse(text, (_key: string, value: unknown, context?: { source?: string }) =>
    typeof value === "number" && context?.source !== undefined && JSON.stringify(value) !== context.source
      ? raw(context.source)
      : value,
  );
}

/** Split a dotted key into segments, honouring `\.` escapes. */
export function splitPath(key: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < key.length; i++) {
    const c = key[i];
    if (c === "\\" && key[i + 1] === ".") {
      cur += ".";
      i++;
    } else if (c === ".") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function isContainer(v: unknown): v is Json {
  // A raw JSON number from parseJsonExact is a frozen object, but a leaf.
  return typeof v === "object" && v !== null && !RAW.isRawJSON?.(v);
}

function child(container: Json, seg: string): unknown {
  if (Array.isArray(container)) return /^\d+$/.test(seg) ? container[Number(seg)] : undefined;
  return Object.hasOwn(container, seg) ? container[seg] : undefined;
}

function assign(container: Json, seg: string, value: unknown): void {
  if (Array.isArray(container)) {
    if (/^\d+$/.test(seg)) container[Number(seg)] = value;
  } else container[seg] = value;
}

function same(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === "object" && typeof b === "object" && JSON.stringify(a) === JSON.stringify(b));
}

/** Set `key` to `value`, creating intermediate objects; returns whether the document changed. */
export function setPath(doc: Record<string, unknown>, key: string, value: unknown): boolean {
  const segs = splitPath(key);
  let cur: Json = doc;
  for (const seg of segs.slice(0, -1)) {
    let next = child(cur, seg);
    if (!isContainer(next)) {
      if (Array.isArray(cur) && !/^\d+$/.test(seg)) return false;
      next = {};
      assign(cur, seg, next);
    }
    cur = next as Json;
  }
  const last = segs[segs.length - 1];
  if (Array.isArray(cur) && !/^\d+$/.test(last)) return false;
  if (same(child(cur, last), value) && (Array.isArray(cur) || Object.hasOwn(cur, last))) return false;
  assign(cur, last, structuredClone(value));
  return true;
}

/** Remove `key` if present; returns whether the document changed. */
export function deletePath(doc: Record<string, unknown>, key: string): boolean {
  const segs = splitPath(key);
  let cur: unknown = doc;
  for (const seg of segs.slice(0, -1)) {
    if (!isContainer(cur)) return false;
    cur = child(cur, seg);
  }
  if (!isContainer(cur)) return false;
  const last = segs[segs.length - 1];
  if (Array.isArray(cur)) {
    if (!/^\d+$/.test(last) || Number(last) >= cur.length) return false;
    cur.splice(Number(last), 1);
    return true;
  }
  if (!Object.hasOwn(cur, last)) return false;
  delete cur[last];
  return true;
}
