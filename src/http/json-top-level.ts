/**
 * Reading a JSON body's top-level `model` and `stream` without parsing the whole body. A coding
 * agent's request carries tens or hundreds of KB of messages and tools that the proxy forwards as
 * bytes and never reads; decoding and parsing them cost about 2.5 µs per KB (BENCHMARKS.md,
 * issue 16's sixth round). The scan walks the top level strictly (keys, colons, values, commas),
 * and jumps over nested values and strings with the native `indexOf`, so its cost grows with the
 * number of strings and brackets, not with the bytes. Web-standard only.
 */

/** What a model route reads of a JSON body. */
export interface TopLevelFields {
  /** The top-level `model` string; "" when absent or null. */
  model: string;
  /** Whether the top level has `"stream": true`. */
  stream: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

const MODEL = [0x6d, 0x6f, 0x64, 0x65, 0x6c];
const STREAM = [0x73, 0x74, 0x72, 0x65, 0x61, 0x6d];
/** A top-level literal: what JSON.parse accepts outside strings and containers. */
const LITERAL = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)$/;

const decoder = new TextDecoder();

const isSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function skipSpace(b: Uint8Array, i: number): number {
  while (i < b.length && isSpace(b[i])) i++;
  return i;
}

/** What a scan may still spend, in `indexOf` jumps beyond one per string and bracket. */
interface Budget {
  left: number;
}

/** The index of the quote that closes the string opening at `start`, or -1 (also when over budget). */
function stringEnd(b: Uint8Array, start: number, budget: Budget): number {
  let j = b.indexOf(QUOTE, start + 1);
  while (j >= 0) {
    let k = j - 1;
    while (b[k] === BACKSLASH) k--;
    // An even run of backslashes escapes itself, not the quote.
    if ((j - 1 - k) % 2 === 0) return j;
    // An escaped quote costs a jump more (source code in a prompt is full of them).
    if (--budget.left < 0) return -1;
    j = b.indexOf(QUOTE, j + 1);
  }
  return -1;
}

function isKey(b: Uint8Array, from: number, to: number, key: readonly number[]): boolean {
  if (to - from !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (b[from + i] !== key[i]) return false;
  return true;
}

/** Where to look next for one structural byte: its next index at or after `pos`, or -1. */
function next(b: Uint8Array, byte: number, known: number, pos: number): number {
  return known === -1 || known >= pos ? known : b.indexOf(byte, pos);
}

/** The smaller of two indexes, -1 meaning none. */
const earliest = (x: number, y: number): number => (x === -1 ? y : y === -1 || x < y ? x : y);

/**
 * The index of the bracket that closes the container opening at `start`, or -1 when it is not
 * closed, its brackets do not match, or the budget runs out (then a full parse is as cheap).
 * Strings inside are skipped whole; what lies between them is not checked.
 */
function containerEnd(b: Uint8Array, start: number, budget: Budget): number {
  const open: number[] = [b[start]!];
  let pos = start + 1;
  let q = -2;
  let lb = -2;
  let ls = -2;
  let rb = -2;
  let rs = -2;
  for (;;) {
    if (--budget.left < 0) return -1;
    // Each cursor is refreshed only when the walk has passed it; -1 stays -1 (none further on).
    q = next(b, QUOTE, q, pos);
    lb = next(b, LBRACE, lb, pos);
    ls = next(b, LBRACKET, ls, pos);
    rb = next(b, RBRACE, rb, pos);
    rs = next(b, RBRACKET, rs, pos);
    const at = earliest(earliest(earliest(q, lb), earliest(ls, rb)), rs);
    if (at === -1) return -1;
    const c = b[at];
    if (c === QUOTE) {
      const end = stringEnd(b, at, budget);
      if (end < 0) return -1;
      pos = end + 1;
    } else if (c === LBRACE || c === LBRACKET) {
      open.push(c);
      pos = at + 1;
    } else {
      const o = open.pop();
      if ((c === RBRACE) !== (o === LBRACE)) return -1;
      if (open.length === 0) return at;
      pos = at + 1;
    }
  }
}

/**
 * The top-level `model` and `stream` of a JSON object body, or null when the scan cannot vouch
 * for them: the body is not one well-formed object at the top level, `model` is neither a string
 * nor null, a key has an escape, or the body is dense with small values (a parse is then as
 * cheap). Null means "parse it", which also gives the client the parser's error message. A flaw
 * inside a nested value (`[1,,2]`) is not looked for: the body goes to the backend as the client
 * sent it, as llama-swap forwards it, and the backend reports it.
 */
export function scanTopLevel(b: Uint8Array): TopLevelFields | null {
  // Bounded so that a body dense with tiny values or escaped quotes costs at most about two more
  // parses' worth before it is parsed after all.
  const budget: Budget = { left: 1024 + (b.length >> 3) };
  let model = "";
  let stream = false;
  let i = skipSpace(b, 0);
  if (b[i] !== LBRACE) return null;
  i = skipSpace(b, i + 1);
  if (b[i] === RBRACE) return skipSpace(b, i + 1) === b.length ? { model, stream } : null;
  for (;;) {
    if (b[i] !== QUOTE) return null;
    const keyEnd = stringEnd(b, i, budget);
    if (keyEnd < 0) return null;
    const keyFrom = i + 1;
    if (b.subarray(keyFrom, keyEnd).includes(BACKSLASH)) return null;
    const isModel = isKey(b, keyFrom, keyEnd, MODEL);
    const isStream = isKey(b, keyFrom, keyEnd, STREAM);
    i = skipSpace(b, keyEnd + 1);
    if (b[i] !== COLON) return null;
    i = skipSpace(b, i + 1);
    const c = b[i];
    if (c === QUOTE) {
      const end = stringEnd(b, i, budget);
      if (end < 0) return null;
      if (isModel) {
        try {
          // The value alone, escapes and all, as JSON.parse reads it (it rejects bad escapes).
          model = JSON.parse(decoder.decode(b.subarray(i, end + 1))) as string;
        } catch {
          return null;
        }
      }
      if (isStream) stream = false;
      i = end + 1;
    } else if (c === LBRACE || c === LBRACKET) {
      if (isModel) return null;
      const end = containerEnd(b, i, budget);
      if (end < 0) return null;
      if (isStream) stream = false;
      i = end + 1;
    } else {
      let end = i;
      while (end < b.length && !isSpace(b[end]) && b[end] !== COMMA && b[end] !== RBRACE) end++;
      const literal = decoder.decode(b.subarray(i, end));
      if (!LITERAL.test(literal)) return null;
      if (isModel) {
        if (literal !== "null") return null;
        model = "";
      }
      if (isStream) stream = literal === "true";
      i = end;
    }
    i = skipSpace(b, i);
    if (b[i] === COMMA) {
      i = skipSpace(b, i + 1);
      continue;
    }
    if (b[i] !== RBRACE) return null;
    return skipSpace(b, i + 1) === b.length ? { model, stream } : null;
  }
}
