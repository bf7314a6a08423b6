/**
 * Token accounting of one proxied response, read from what the backend reports while the body
 * bytes pass by (web-standard only). It understands OpenAI `usage` (whole bodies, the final
 * `stream_options.include_usage` chunk, Responses API `response.usage`), llama-server `timings`
 * (with speculative-decoding draft counts), Anthropic `message_start`/`message_delta` usage and
 * vLLM's per-request `metrics` object, with the precedence llama-swap uses (later values win;
 * timings override usage counts; see `result()`).
 *
 * Built for the per-chunk path: an SSE chunk costs a native search for each `{` in it (a token
 * chunk has two or three) and a look back for the keys `"usage"`, `"timings"` and `"metrics"`
 * before it (only object values count, so OpenAI's `"usage":null` on every token chunk is
 * skipped); only a line carrying one of them is decoded
 * and JSON-parsed, and a line carrying only timings/metrics (llama-server's `timings_per_token`)
 * is merely kept, the last one being parsed once at the end. At most one partial line is held
 * (bounded by `maxEventBytes`); a whole JSON body is held up to `maxBodyBytes` and parsed once,
 * from its first top-level count key on when that parses (the answer's text before it is skipped);
 * a bigger one (a batch of embeddings) keeps its last 64 KiB, where those keys are, and reads them there.
 * Matching is per `data:` line, as llama-swap does; a JSON payload split over several `data:`
 * lines of one event is not read, and lines end at LF (CRLF is fine, a lone CR is not).
 */
import { concatBytes } from "./captures.ts";

/** The token accounting of one response; `null` everywhere the backend did not say. */
export interface TokenUsage {
  /** Prompt tokens (llama-server: `timings.prompt_n`, the tokens evaluated, not counting cache hits). */
  promptTokens: number | null;
  /** Generated tokens. */
  completionTokens: number | null;
  /** Prompt tokens served from the cache. */
  cachedTokens: number | null;
  /** Speculative decoding: tokens drafted. */
  draftTokens: number | null;
  /** Speculative decoding: drafted tokens accepted. */
  draftAccepted: number | null;
  /** Prompt processing rate, tokens per second. */
  promptPerSecond: number | null;
  /** Generation rate, tokens per second. */
  generationPerSecond: number | null;
  /** Prompt processing time (vLLM: time to first token). */
  promptMs: number | null;
  /** Generation time. */
  generationMs: number | null;
}

/** The accounting of a response that reported nothing. */
export function emptyUsage(): TokenUsage {
  return { promptTokens: null, completionTokens: null, cachedTokens: null, draftTokens: null, draftAccepted: null, promptPerSecond: null, generationPerSecond: null, promptMs: null, generationMs: null };
}

/** Options of `createUsageScanner`. */
export interface UsageScannerOptions {
  /** The body is `text/event-stream` (scanned line by line); otherwise one JSON document. */
  sse: boolean;
  /** SSE: a single line longer than this is dropped (default 1 MiB). */
  maxEventBytes?: number;
  /** JSON: a body longer than this is not kept, and yields all nulls (default 4 MiB). */
  maxBodyBytes?: number;
  /** SSE: the stream's first bytes, read as they pass (default 4 KiB; Anthropic's `message_start`). */
  headBytes?: number;
  /** SSE: after the head, at least the last this many bytes are kept (by reference) and read at the end (default 4 KiB; a longer last line is kept whole). */
  tailBytes?: number;
}

/** What a scanner has done so far (for tests and diagnostics). */
export interface UsageScannerStats {
  /** JSON.parse calls made. */
  parses: number;
  /** Body bytes held now (partial line, kept timings/metrics line, or JSON body). */
  bufferedBytes: number;
}

/** Scans one response body; `push` every chunk in order, then `result()` once. */
export interface UsageScanner {
  /**
   * Feed the next body chunk; it may split anywhere. A whole body's chunks and an event stream's
   * last ones are kept by reference until `result()`: the caller must not reuse their buffers (the
   * proxy hands each one to the client as it is).
   */
  push(chunk: Uint8Array): void;
  /** Finish and return the accounting; idempotent, and pushes after it are ignored. */
  result(): TokenUsage;
  /** Counters (cheap). */
  stats(): UsageScannerStats;
}

const DEFAULT_MAX_EVENT = 1 << 20;
const DEFAULT_HEAD = 4 << 10;
const DEFAULT_TAIL = 4 << 10;
const DEFAULT_MAX_BODY = 4 << 20;
const KEEP_CARRY_CAPACITY = 64 << 10;
/** The tail kept of a whole JSON body over maxBodyBytes. */
const JSON_TAIL = 64 << 10;

const LF = 10;
const CR = 13;
const SP = 32;
const TAB = 9;
const QUOTE = 34;
const COLON = 58;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;
const BACKSLASH = 92;

const K_USAGE = 1;
const K_TIMINGS = 2;
const K_METRICS = 4;

const KEY_USAGE = bytesOf('"usage"');
const KEY_TIMINGS = bytesOf('"timings"');
const KEY_METRICS = bytesOf('"metrics"');
const DATA = bytesOf("data:");
const DONE = bytesOf("[DONE]");

const decoder = new TextDecoder();

type JsonObject = Record<string, unknown>;

function bytesOf(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** `buf[at..]` starts with `key` (all within `end`). */
function startsWith(buf: Uint8Array, at: number, end: number, key: Uint8Array): boolean {
  const n = key.length;
  if (at + n > end) return false;
  for (let i = 1; i < n; i++) if (buf[at + i] !== key[i]) return false;
  return buf[at] === key[0];
}

/** JSON whitespace (line ends too: a pretty-printed whole body; an event stream's line has none). */
function isSpace(b: number | undefined): boolean {
  return b === SP || b === TAB || b === LF || b === CR;
}

/**
 * Where the key whose object value opens at `buf[brace]` (a `{`) begins, its opening quote,
 * looking back no further than `from`: `"usage" : {`, `"timings":{` or `"metrics":{` with an
 * unescaped opening quote (an even run of backslashes before it); -1 if none. Only object values
 * count: that is all the accounting reads, and `"usage":null` on every OpenAI token chunk is skipped.
 */
function keyStart(buf: Uint8Array, brace: number, from: number): number {
  let j = brace - 1;
  while (j >= from && isSpace(buf[j])) j--;
  if (j < from || buf[j] !== COLON) return -1;
  j--;
  while (j >= from && isSpace(buf[j])) j--;
  if (j < from || buf[j] !== QUOTE) return -1;
  // The key's last letters pick the one it can be: usag(e), timin(gs), metri(cs).
  const e = buf[j - 1];
  const key = e === 101 ? KEY_USAGE : e !== 115 ? null : buf[j - 2] === 103 ? KEY_TIMINGS : buf[j - 2] === 99 ? KEY_METRICS : null;
  if (key === null) return -1;
  const start = j - key.length + 1;
  if (start < from) return -1;
  for (let k = key.length - 2; k >= 0; k--) if (buf[start + k] !== key[k]) return -1;
  let slashes = 0;
  while (start - 1 - slashes >= from && buf[start - 1 - slashes] === BACKSLASH) slashes++;
  return slashes % 2 === 0 ? start : -1;
}

/** The first `max` bytes of `chunks`, copied (the chunks are the client's, held by reference). */
function headOf(chunks: readonly Uint8Array[], max: number): Uint8Array {
  let n = 0;
  for (const c of chunks) if ((n += c.length) >= max) break;
  const out = new Uint8Array(Math.min(n, max));
  let at = 0;
  for (const c of chunks) {
    if (at >= out.length) break;
    const part = c.subarray(0, out.length - at);
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * The top-level `usage`, `timings` and `metrics` objects that lie whole inside `head`, the start
 * of a JSON object cut anywhere; null when there is none. A walk that knows strings and depth, on
 * a bounded head only (a body too big to hold: once per such body).
 */
function topLevelCountObjects(head: Uint8Array, decoder: TextDecoder): JsonObject | null {
  let i = 0;
  while (i < head.length && isSpace(head[i])) i++;
  if (head[i] !== LBRACE) return null;
  let depth = 0;
  let inString = false;
  let open = -1; // where a top-level count object began
  let out: JsonObject | null = null;
  for (; i < head.length; i++) {
    const c = head[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === LBRACE || c === LBRACKET) {
      if (depth === 1 && c === LBRACE && keyStart(head, i, 0) >= 0) open = i;
      depth++;
    } else if (c === RBRACE || c === RBRACKET) {
      depth--;
      if (depth === 1 && open >= 0) {
        const start = keyStart(head, open, 0);
        try {
          const v = asObject(JSON.parse("{" + decoder.decode(head.subarray(start, i + 1)) + "}"));
          if (v !== null) out = { ...(out ?? {}), ...v };
        } catch {
          // not JSON after all: leave it
        }
        open = -1;
      }
      if (depth === 0) break;
    }
  }
  return out;
}

/** The key kind whose object value opens at `buf[brace]` (see keyStart), 0 if none. */
function keyBefore(buf: Uint8Array, brace: number, from: number): number {
  const start = keyStart(buf, brace, from);
  if (start < 0) return 0;
  const c = buf[start + 1];
  return c === 117 /* u */ ? K_USAGE : c === 116 /* t */ ? K_TIMINGS : K_METRICS;
}

/**
 * Where the next key's object value opens in `buf[from..to)`, or -1: the hot loop. It jumps from
 * `{` to `{` with the native `indexOf` (a token chunk has two or three), instead of visiting every
 * byte in JS, which cost about a third of the proxy's CPU per streamed token (issue 16).
 */
function nextKey(buf: Uint8Array, from: number, to: number, lineFrom: number): number {
  for (let i = buf.indexOf(LBRACE, from); i >= 0 && i < to; i = buf.indexOf(LBRACE, i + 1)) {
    if (keyBefore(buf, i, lineFrom) !== 0) return i;
  }
  return -1;
}

/** The kinds of key whose object values open in `buf[from..to)` (keys looked for back to `lineFrom`). */
function keysIn(buf: Uint8Array, from: number, to: number, lineFrom: number = from): number {
  let mask = 0;
  for (let i = buf.indexOf(LBRACE, from); i >= 0 && i < to; i = buf.indexOf(LBRACE, i + 1)) mask |= keyBefore(buf, i, lineFrom);
  return mask;
}

/** The first byte of `buf` that is not JSON whitespace, or -1. */
function firstNonSpace(buf: Uint8Array): number {
  for (let i = 0; i < buf.length; i++) if (!isSpace(buf[i])) return buf[i]!;
  return -1;
}

function asObject(v: unknown): JsonObject | null {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as JsonObject) : null;
}

function asNumber(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function firstNumber(o: JsonObject, a: string, b: string): number | null {
  return asNumber(o[a]) ?? asNumber(o[b]);
}

function nested(o: JsonObject, a: string, b: string): unknown {
  const inner = asObject(o[a]);
  return inner === null ? undefined : inner[b];
}

/** Divide `count` by `ms` as a per-second rate; null unless both make sense. */
function rate(count: number | null, ms: number | null): number | null {
  if (count === null || ms === null || !(ms > 0)) return null;
  const r = (count * 1000) / ms;
  return Number.isFinite(r) ? r : null;
}

/** Create a scanner for one response body. */
export function createUsageScanner(opts: UsageScannerOptions): UsageScanner {
  const maxEvent = Math.max(1, opts.maxEventBytes ?? DEFAULT_MAX_EVENT);
  const maxBody = Math.max(1, opts.maxBodyBytes ?? DEFAULT_MAX_BODY);
  const headBytes = Math.max(0, opts.headBytes ?? DEFAULT_HEAD);
  const tailBytes = Math.max(1, opts.tailBytes ?? DEFAULT_TAIL);

  let parses = 0;
  // Accumulated usage counts (later positive values win; a zero only fills a gap).
  let uPrompt: number | null = null;
  let uCompletion: number | null = null;
  let uCached: number | null = null;
  // Last top-level timings / metrics objects seen.
  let timings: JsonObject | null = null;
  let metrics: JsonObject | null = null;
  // Last line carrying timings / metrics but no usage, parsed only at the end.
  let keptTimings: Uint8Array | null = null;
  let keptMetrics: Uint8Array | null = null;

  // SSE: the partial line at the end of the last chunk.
  let carry = new Uint8Array(0);
  let carryLen = 0;
  let skipping = false; // inside a line that outgrew maxEvent: drop up to the next LF

  // SSE after the head: the last chunks, in two generations that each begin at a line start.
  // Backends report usage in the stream's first events (Anthropic's message_start) and its last
  // ones (OpenAI's usage chunk, llama-server's timings, Anthropic's message_delta, vLLM's metrics,
  // the Responses API's response.completed); the chunks in between are let go unread. Reading every
  // chunk as it passed cost a third of the proxy's CPU per streamed token (issue 16).
  let seen = 0;
  let tailing = false;
  let older: Uint8Array[] = [];
  let olderBytes = 0;
  let newer: Uint8Array[] = [];
  let newerBytes = 0;
  let tailCut = false; // a line over maxEventBytes was let go: the kept bytes begin inside it

  // JSON: the body so far.
  let body: Uint8Array[] = [];
  let bodyLen = 0;
  let bodyOverflow = false;
  let bodyTail: Uint8Array[] = [];
  let bodyTailLen = 0;
  // The first JSON_TAIL bytes of a body too big to hold: llama-server's embeddings put `usage` before `data`.
  let bodyHead: Uint8Array | null = null;

  let finished = false;

  function parse(bytes: Uint8Array): JsonObject | null {
    parses++;
    try {
      const v: unknown = JSON.parse(decoder.decode(bytes));
      if (Array.isArray(v)) return asObject(v[v.length - 1]); // llama-server /infill: last element
      return asObject(v);
    } catch {
      return null;
    }
  }

  /**
   * A whole JSON body's top level, or null when it carries no count key (then it is not parsed).
   * An object is parsed from its first usage, timings or metrics key on: `{` and the bytes from
   * that key to the end parse as an object only when the key is at the top level (a nested one
   * leaves closers over) and really a key (keyStart). An answer's text comes before its counts, so
   * this skips parsing most of a long answer (issue 16). When three candidates fail (nesting), or
   * for an array (llama-server's /infill), the whole body is parsed.
   * Knowingly not read this way: a top-level `message` or `response` object before those keys
   * (no backend puts counts there in a whole body; a stream's events are parsed whole).
   */
  function parseBody(all: Uint8Array): JsonObject | null {
    if (firstNonSpace(all) !== LBRACE) return keysIn(all, 0, all.length) !== 0 ? parse(all) : null;
    const found = fromCountKey(all, 1);
    return found.ev ?? (found.tries > 0 ? parse(all) : null);
  }

  /**
   * `{` and the bytes from the first of three count keys in `all[from..]` on, parsed: an object
   * when the key is at the top level (see parseBody); `tries` says how many keys were tried.
   */
  function fromCountKey(all: Uint8Array, from: number): { ev: JsonObject | null; tries: number } {
    let tries = 0;
    for (let i = all.indexOf(LBRACE, from); i >= 0 && tries < 3; i = all.indexOf(LBRACE, i + 1)) {
      const start = keyStart(all, i, 0);
      if (start < 0) continue;
      tries++;
      parses++;
      try {
        return { ev: asObject(JSON.parse("{" + decoder.decode(all.subarray(start)))), tries };
      } catch {
        // nested (or not a key): try the next one
      }
    }
    return { ev: null, tries };
  }

  function applyUsage(u: unknown): void {
    const o = asObject(u);
    if (o === null) return;
    const input = firstNumber(o, "prompt_tokens", "input_tokens");
    const output = firstNumber(o, "completion_tokens", "output_tokens");
    const cached =
      asNumber(o.cache_read_input_tokens) ??
      asNumber(nested(o, "input_tokens_details", "cached_tokens")) ??
      asNumber(nested(o, "prompt_tokens_details", "cached_tokens"));
    if (input !== null && (input > 0 || uPrompt === null)) uPrompt = input;
    if (output !== null && (output > 0 || uCompletion === null)) uCompletion = output;
    if (cached !== null) uCached = cached;
  }

  /** Take what one parsed event (or whole body) says. */
  function applyEvent(ev: JsonObject): void {
    applyUsage(ev.usage);
    applyUsage(nested(ev, "response", "usage"));
    applyUsage(nested(ev, "message", "usage"));
    const t = asObject(ev.timings);
    if (t !== null) {
      timings = t;
      keptTimings = null;
    }
    const m = asObject(ev.metrics);
    if (m !== null) {
      metrics = m;
      keptMetrics = null;
    }
  }

  /** One complete SSE line `buf[from..to)` (no LF) whose key kinds are `mask`. */
  function line(buf: Uint8Array, from: number, to: number, mask: number): void {
    while (from < to && (buf[from] === SP || buf[from] === TAB)) from++;
    if (!startsWith(buf, from, to, DATA)) return;
    from += DATA.length;
    while (from < to && (buf[from] === SP || buf[from] === TAB)) from++;
    while (to > from && (buf[to - 1] === CR || buf[to - 1] === SP || buf[to - 1] === TAB)) to--;
    if (to === from || (to - from === DONE.length && startsWith(buf, from, to, DONE))) return;
    if (mask & K_USAGE) {
      const ev = parse(buf.subarray(from, to));
      if (ev !== null) applyEvent(ev);
      return;
    }
    const kept = buf.slice(from, to);
    if (mask & K_TIMINGS) keptTimings = kept;
    if (mask & K_METRICS) keptMetrics = kept;
  }

  /** Complete lines in `buf[from..to)`, `buf[to]` being an LF: visit those carrying a key. */
  function scanLines(buf: Uint8Array, from: number, to: number): void {
    for (let i = nextKey(buf, from, to, from); i >= 0; i = nextKey(buf, i + 1, to, from)) {
      const start = Math.max(from, buf.lastIndexOf(LF, i - 1) + 1);
      const k = keyBefore(buf, i, start);
      let end = buf.indexOf(LF, i);
      if (end < 0 || end > to) end = to;
      line(buf, start, end, k | keysIn(buf, i + 1, end, start));
      i = end;
    }
  }

  function appendCarry(buf: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (carryLen + n > maxEvent) {
      carryLen = 0;
      if (carry.length > KEEP_CARRY_CAPACITY) carry = new Uint8Array(0);
      skipping = true;
      return;
    }
    if (carryLen + n > carry.length) {
      const grown = new Uint8Array(Math.min(maxEvent, Math.max(256, (carryLen + n) * 2)));
      grown.set(carry.subarray(0, carryLen));
      carry = grown;
    }
    carry.set(buf.subarray(from, to), carryLen);
    carryLen += n;
  }

  function carryDone(): void {
    if (carryLen > 0) {
      const mask = keysIn(carry, 0, carryLen);
      if (mask !== 0) line(carry, 0, carryLen, mask);
    }
    carryLen = 0;
    if (carry.length > KEEP_CARRY_CAPACITY) carry = new Uint8Array(0);
  }

  function pushSse(chunk: Uint8Array): void {
    const n = chunk.length;
    let i = 0;
    if (skipping || carryLen > 0) {
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        if (!skipping) appendCarry(chunk, 0, n);
        return;
      }
      if (!skipping) appendCarry(chunk, 0, nl);
      if (skipping) {
        skipping = false;
        carryLen = 0;
      } else carryDone();
      i = nl + 1;
    }
    if (i >= n) return;
    const last = chunk.lastIndexOf(LF);
    if (last >= i) {
      scanLines(chunk, i, last);
      i = last + 1;
    }
    if (i < n) appendCarry(chunk, i, n);
  }

  /**
   * After the head: keep the chunk in the newer generation. Once that holds tailBytes, it becomes
   * the older one at the last LF of this chunk (the older one before it is let go), so what is
   * kept always begins at a line start and holds at least the last tailBytes; a line is never cut,
   * however long it grows, up to maxEventBytes (then it is let go, as a line read as it passes).
   * The common push costs an array push; the LF search runs only once the newer generation is full.
   */
  function pushTail(chunk: Uint8Array): void {
    newer.push(chunk);
    newerBytes += chunk.length;
    if (newerBytes < tailBytes) return;
    const lf = chunk.lastIndexOf(LF);
    if (lf < 0) {
      if (newerBytes > maxEvent + tailBytes) {
        older = [];
        olderBytes = 0;
        newer = [];
        newerBytes = 0;
        tailCut = true;
      }
      return;
    }
    const rest = chunk.length - lf - 1;
    const cut = lf + 1 > tailBytes ? chunk.lastIndexOf(LF, lf - tailBytes) : -1;
    // This chunk alone holds the tail when a line starts inside it at least tailBytes before its
    // end, or when it starts at a line start itself (nothing of an earlier chunk is pending). A
    // line begun in an earlier chunk and going on through this one keeps its beginning.
    if (lf + 1 >= tailBytes && (cut >= 0 || newer.length === 1)) {
      // (A backend that outruns its reader sends big chunks.) Keep its last tailBytes or so, from
      // a line start, as a copy: a view would hold the whole chunk's memory until the stream ends
      // (256 streams of such chunks: tens of MB).
      older = [cut + 1 > tailBytes ? chunk.slice(cut + 1, lf + 1) : chunk.subarray(cut + 1, lf + 1)];
      olderBytes = lf - cut;
    } else {
      if (rest > 0) newer[newer.length - 1] = chunk.subarray(0, lf + 1);
      older = newer;
      olderBytes = newerBytes - rest;
    }
    newer = rest > 0 ? [rest * 2 < chunk.length ? chunk.slice(lf + 1) : chunk.subarray(lf + 1)] : [];
    newerBytes = rest;
  }

  /** Read what the tail kept, as if it had been pushed now. */
  function readTail(): void {
    tailing = false;
    const all = new Uint8Array(olderBytes + newerBytes);
    let at = 0;
    for (const c of older) {
      all.set(c, at);
      at += c.length;
    }
    for (const c of newer) {
      all.set(c, at);
      at += c.length;
    }
    older = [];
    newer = [];
    olderBytes = 0;
    newerBytes = 0;
    let from = 0;
    if (tailCut) {
      from = all.indexOf(LF) + 1;
      if (from === 0) return;
    }
    if (from < all.length) pushSse(from === 0 ? all : all.subarray(from));
  }

  function pushJson(chunk: Uint8Array): void {
    if (bodyOverflow) return keepBodyTail(chunk);
    if (bodyLen + chunk.length > maxBody) {
      bodyOverflow = true;
      bodyHead = headOf([...body, chunk], JSON_TAIL);
      for (const c of body) keepBodyTail(c);
      keepBodyTail(chunk);
      body = [];
      bodyLen = 0;
      return;
    }
    // By reference, as the stream's tail: the proxy hands each chunk to the client and never reuses it.
    body.push(chunk);
    bodyLen += chunk.length;
  }

  /** The last chunks of a body too big to hold (a batch of embeddings), at least JSON_TAIL bytes: its counts come last. */
  function keepBodyTail(chunk: Uint8Array): void {
    // By reference, as the whole body is held: the proxy never reuses a chunk.
    bodyTail.push(chunk);
    bodyTailLen += chunk.length;
    while (bodyTail.length > 1 && bodyTailLen - bodyTail[0]!.length >= JSON_TAIL) bodyTailLen -= bodyTail.shift()!.length;
  }

  /**
   * The counts of a body too big to hold, from its tail: OpenAI and vLLM write `usage`, `timings`
   * and `metrics` at the top level after the data, and fromCountKey finds them there as in a whole
   * body (a nested key leaves closers over and does not parse). llama-server's embeddings write
   * `usage` before `data`: when the tail has none, the head's top-level count objects are read.
   */
  function readBodyTail(): void {
    const tail = concatBytes(bodyTail, bodyTailLen);
    bodyTail = [];
    bodyTailLen = 0;
    const { ev } = fromCountKey(tail, 0);
    if (ev !== null) applyEvent(ev);
    const head = bodyHead;
    bodyHead = null;
    if (ev === null && head !== null) {
      parses++;
      const found = topLevelCountObjects(head, decoder);
      if (found !== null) applyEvent(found);
    }
  }

  function finish(): void {
    if (finished) return;
    finished = true;
    if (opts.sse) {
      if (tailing) readTail();
      if (!skipping) carryDone();
      carryLen = 0;
      carry = new Uint8Array(0);
      const kt = keptTimings;
      const km = keptMetrics;
      if (kt !== null) {
        const ev = parse(kt);
        const t = ev === null ? null : asObject(ev.timings);
        if (t !== null) timings = t;
        const m = ev === null ? null : asObject(ev.metrics);
        if (m !== null && kt === km) metrics = m;
      }
      if (km !== null && km !== kt) {
        const ev = parse(km);
        const m = ev === null ? null : asObject(ev.metrics);
        if (m !== null) metrics = m;
      }
      keptTimings = null;
      keptMetrics = null;
    } else if (bodyOverflow) {
      readBodyTail();
    } else if (bodyLen > 0) {
      const all = concatBytes(body, bodyLen);
      body = [];
      bodyLen = 0;
      const ev = parseBody(all);
      if (ev !== null) applyEvent(ev);
    }
  }

  function build(): TokenUsage {
    let promptTokens = uPrompt;
    let completionTokens = uCompletion;
    let cachedTokens = uCached;
    let draftTokens: number | null = null;
    let draftAccepted: number | null = null;
    let promptPerSecond: number | null = null;
    let generationPerSecond: number | null = null;
    let promptMs: number | null = null;
    let generationMs: number | null = null;

    const t = timings;
    if (t !== null) {
      promptTokens = asNumber(t.prompt_n) ?? promptTokens;
      completionTokens = asNumber(t.predicted_n) ?? completionTokens;
      cachedTokens = asNumber(t.cache_n) ?? cachedTokens;
      promptPerSecond = asNumber(t.prompt_per_second);
      generationPerSecond = asNumber(t.predicted_per_second);
      promptMs = asNumber(t.prompt_ms);
      generationMs = asNumber(t.predicted_ms);
      const drafted = asNumber(t.draft_n);
      const accepted = asNumber(t.draft_n_accepted);
      if (drafted !== null && accepted !== null) {
        draftTokens = drafted;
        draftAccepted = accepted;
      }
    }

    const m = metrics;
    if (m !== null) {
      const spec = asObject(m.speculative_decoding);
      if (spec !== null) {
        const drafted = asNumber(spec.num_draft_tokens);
        const accepted = asNumber(spec.num_accepted_draft_tokens);
        if (drafted !== null && accepted !== null) {
          draftTokens = drafted;
          draftAccepted = accepted;
        }
      }
      const ttft = asNumber(m.time_to_first_token_ms);
      if (ttft !== null && ttft > 0) {
        promptMs ??= ttft;
        if (promptTokens !== null) {
          promptPerSecond = rate(Math.max(0, promptTokens - Math.max(0, cachedTokens ?? 0)), ttft);
        }
      }
      const itl = asNumber(m.mean_itl_ms);
      if (itl !== null && itl > 0) generationPerSecond = 1000 / itl;
      generationMs ??= asNumber(m.generation_time_ms);
    }

    promptPerSecond ??= rate(promptTokens, promptMs);
    generationPerSecond ??= rate(completionTokens, generationMs);

    return {
      promptTokens,
      completionTokens,
      cachedTokens,
      draftTokens,
      draftAccepted,
      promptPerSecond,
      generationPerSecond,
      promptMs,
      generationMs,
    };
  }

  return {
    push(chunk: Uint8Array): void {
      if (finished || chunk.length === 0) return;
      if (!opts.sse) pushJson(chunk);
      else if (tailing) pushTail(chunk);
      else {
        // The head is read as it passes, up to the first line end past headBytes; from there on
        // chunks are only kept (see pushTail), the rest of this one included.
        const lf = seen + chunk.length > headBytes ? chunk.indexOf(LF, Math.max(0, headBytes - seen)) : -1;
        const split = lf >= 0 && lf < chunk.length - 1;
        pushSse(split ? chunk.subarray(0, lf + 1) : chunk);
        seen += chunk.length;
        // A split piece ends with an LF past headBytes, so nothing is carried and the tail starts.
        if (seen >= headBytes && carryLen === 0 && !skipping) {
          tailing = true;
          if (split) pushTail(chunk.subarray(lf + 1));
        }
      }
    },
    result(): TokenUsage {
      finish();
      return build();
    },
    stats(): UsageScannerStats {
      const kept =
        (keptTimings?.length ?? 0) + (keptMetrics !== keptTimings ? (keptMetrics?.length ?? 0) : 0);
      return { parses, bufferedBytes: carryLen + kept + bodyLen + bodyTailLen + (bodyHead?.length ?? 0) + olderBytes + newerBytes };
    },
  };
}
