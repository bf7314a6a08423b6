/**
 * Dotted-key access into JSON objects, the subset of sjson paths llama-swap filters use:
 * `a.b.c` addresses nested fields, `\.` escapes a literal dot, a numeric segment indexes an array.
 */

type Json = Record<string, unknown> | unknown[];

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
  return typeof v === "object" && v !== null;
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
  return a === b || (isContainer(a) && isContainer(b) && JSON.stringify(a) === JSON.stringify(b));
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
