/**
 * Activity: one record for every proxied model request, in llama-swap's activity-entry shape
 * (so its UI and tools read it) plus what only switchyard knows: how long the request queued and
 * waited for a load, time to first byte and first token, how it ended, and bytes each way.
 * Tokens come from what the backend reported, read as the bytes passed (usage.ts).
 *
 * The HTTP layer opens a record when a request arrives and feeds it as the request moves on; the
 * record is finished exactly once, kept in a bounded in-memory ring (`metricsMaxInMemory`), and
 * published so `/api/events` and a store can follow. Nothing here waits (web-standard).
 */
import { concatBytes, type CaptureRing } from "./captures.ts";
import { redactedHeaders, type InflightEntry, type InflightState, type InflightUpdate } from "./inflight.ts";
import { createUsageScanner, emptyUsage, type TokenUsage, type UsageScanner } from "./usage.ts";

/** How a request ended. */
export type ActivityOutcome =
  /** Answered by the backend (any status the backend chose). */
  | "ok"
  /** Refused by switchyard before any byte (unknown model, over the limit, failed start, ...). */
  | "refused"
  /** The client left before the end. */
  | "cancelled"
  /** Cut in-band at a drain deadline. */
  | "severed"
  /** The upstream failed: unreachable, or the connection died mid-answer. */
  | "upstream_error";

/** llama-swap's token block (unknown counts are 0; an unknown cache count is -1, as there). */
export interface ActivityTokens {
  cache_tokens: number;
  draft_tokens: number;
  draft_acc_tokens: number;
  input_tokens: number;
  output_tokens: number;
  prompt_per_second: number;
  tokens_per_second: number;
}

/** One finished request. Field names follow llama-swap's JSON where it has one. */
export interface ActivityRecord {
  id: number;
  /** ISO time the request arrived. */
  timestamp: string;
  /** Model ID, or `<peer>/<model>` for a peer. */
  model: string;
  /** The peer's ID, or "" for a local model. */
  peer: string;
  req_path: string;
  /** The client's address, or "". */
  client: string;
  resp_status_code: number;
  resp_content_type: string;
  tokens: ActivityTokens;
  /** Arrival to the end of the response. */
  duration_ms: number;
  has_capture: boolean;
  error_msg?: string;
  /** Arrival to grant, minus the load wait (null when refused before a grant). */
  queue_wait_ms: number | null;
  /** Time spent waiting while its model loaded for it (0 when it did not). */
  load_wait_ms: number | null;
  /** Arrival to the first upstream byte of the body. */
  ttfb_ms: number | null;
  /** Arrival to the first streamed chunk that carries generated text (null when not streamed). */
  ttft_ms: number | null;
  streamed: boolean;
  outcome: ActivityOutcome;
  bytes_in: number;
  bytes_out: number;
  /** Every figure the backend reported, null where it did not. */
  usage: TokenUsage;
  /** llama-swap's request metadata: `selector` when a selector chose the model; absent when empty. */
  metadata?: Record<string, string>;
}

/** What is known when a request arrives. */
export interface ActivityStart {
  model: string;
  peer: string;
  path: string;
  client: string;
  bytesIn: number;
  /** The client asked for a stream; absent when unknown (an `/upstream/` body passes unread): the answer tells. */
  streamed?: boolean;
  /** HTTP method (default "POST"). */
  method?: string;
  /** The client's headers (shown redacted in flight; captured redacted). */
  headers?: Headers;
  /** The exact bytes forwarded (captured when captures are on). */
  body?: Uint8Array | null;
  /** Cancels the request (`POST /api/inflight/{id}/cancel`); absent: it cannot be cancelled. */
  cancel?: () => void;
  /** Kept on the record (llama-swap's `metadata`: the selector that chose the model). */
  metadata?: Record<string, string>;
}

/** The record of one request in flight; every method is cheap, `end` is idempotent. */
export interface ActivityHandle {
  readonly id: number;
  /** A queue or loading update from the router (the first `loading` one starts the load wait). */
  waiting(loading: boolean, position?: number): void;
  /** The router granted the request. */
  granted(): void;
  /** The upstream answered with this status, content type and headers. */
  response(status: number, contentType: string, headers?: Headers): void;
  /** A chunk of the upstream body passed to the client. */
  chunk(bytes: Uint8Array): void;
  /** The request is over. */
  end(outcome: ActivityOutcome, opts?: { status?: number; error?: string }): void;
}

/** Where finished records go (a store, the event stream); must not block. */
export type ActivitySink = (record: ActivityRecord) => void;

/** The activity of this process. */
export interface ActivityLog {
  /** Open the record of a request that just arrived. */
  begin(start: ActivityStart): ActivityHandle;
  /** The records kept in memory, oldest first. */
  recent(): readonly ActivityRecord[];
  /** Requests open now. */
  inFlight(): number;
  /** The open requests, oldest first, in llama-swap's in-flight shape. */
  inflight(): InflightEntry[];
  /** Cancel an open request; false when it is not open or cannot be cancelled. */
  cancel(id: number): boolean;
}

/** Options of the activity log. */
export interface ActivityLogOptions {
  /** Records kept in memory (llama-swap's `metricsMaxInMemory`; default 1000). */
  maxInMemory?: number;
  /** Called once per finished record. */
  sink?: ActivitySink;
  /** Clock, epoch ms (default Date.now). */
  now?: () => number;
  /** The first id (a store continues its own numbering). */
  firstId?: number;
  /** Where captures go (`captureBuffer` > 0); absent: nothing is captured. */
  captures?: CaptureRing | null;
  /** Told of every in-flight change (must not block); byte counts at most every `inflightTickMs`. */
  onInflight?: (update: InflightUpdate) => void;
  /** Whether anyone follows in-flight changes now (default: always); when not, none are built. */
  wantsInflight?: () => boolean;
  /** How often changed byte counts of open requests are published (default 250 ms, llama-swap's). */
  inflightTickMs?: number;
  /**
   * Inflates a compressed answer (`content-encoding` gzip, deflate, br, zstd) for its token counts
   * and its capture; null when it cannot. The edge has the codecs; absent: compressed answers count
   * nothing (the proxy still passes their bytes through untouched).
   */
  decompress?: (encoding: string, bytes: Uint8Array) => Uint8Array | null;
}

/** A compressed answer is held for its counts up to this many bytes; beyond, it counts nothing. */
const MAX_COMPRESSED = 8 << 20;

/** The error of a request an operator cancelled. */
export const OPERATOR_CANCELLED = "cancelled by an operator (POST /api/inflight/{id}/cancel)";

/** What the in-flight view reads of an open request. */
interface Live {
  id: number;
  start: ActivityStart;
  arrived: number;
  state: InflightState;
  position: number;
  respHeaders: Headers | null;
  /** Built once, on the first entry: what never changes while the request is open. */
  fixed: Pick<InflightEntry, "timestamp" | "req_headers"> | null;
  respMap: Record<string, string> | null;
  bytesOut(): number;
  published: number;
  cancel(): boolean;
}

/**
 * A streamed event that carries generated text: OpenAI and llama-server deltas (`content`,
 * `reasoning_content`, `reasoning`), Anthropic (`text`, `thinking`, `partial_json`), the Responses
 * API (`response.output_text.delta`'s `delta`), with or without spaces after the colon (Python's
 * json.dumps writes one).
 */
const TOKEN_TEXT = /"(content|text|reasoning_content|reasoning|thinking|delta|partial_json)"\s*:\s*"[^"]/;

/** llama-swap's token block from what the backend reported: unknown counts 0, an unknown cache count, speed or draft count -1 (llama-swap's buildMetrics; its UI shows "unknown"). */
export function tokensOf(u: TokenUsage): ActivityTokens {
  return {
    cache_tokens: u.cachedTokens ?? -1,
    draft_tokens: u.draftTokens ?? -1,
    draft_acc_tokens: u.draftAccepted ?? -1,
    input_tokens: u.promptTokens ?? 0,
    output_tokens: u.completionTokens ?? 0,
    prompt_per_second: u.promptPerSecond ?? -1,
    tokens_per_second: u.generationPerSecond ?? -1,
  };
}

/** Response headers as a capture keeps an inflated body: no content-encoding, no content-length. */
function withoutEncoding(headers: Headers | null): Headers | null {
  if (headers === null) return null;
  const h = new Headers(headers);
  h.delete("content-encoding");
  h.delete("content-length");
  return h;
}

/** Create the activity log. */
export function createActivityLog(opts: ActivityLogOptions = {}): ActivityLog {
  const max = Math.max(1, opts.maxInMemory ?? 1000);
  const now = opts.now ?? Date.now;
  const ring: ActivityRecord[] = [];
  let nextId = Math.max(1, opts.firstId ?? 1);
  let open = 0;
  const live = new Map<number, Live>();
  const captures = opts.captures ?? null;
  const onInflight = opts.onInflight;
  const tickMs = opts.inflightTickMs ?? 250;
  let ticker: ReturnType<typeof setInterval> | null = null;

  const entryOf = (l: Live, at: number): InflightEntry => {
    l.fixed ??= { timestamp: new Date(l.arrived).toISOString(), req_headers: redactedHeaders(l.start.headers) };
    if (l.respHeaders !== null) l.respMap ??= redactedHeaders(l.respHeaders);
    return {
      id: String(l.id),
      timestamp: l.fixed.timestamp,
      model: l.start.model,
      req_path: l.start.path,
      method: l.start.method ?? "POST",
      req_headers: l.fixed.req_headers,
      remote_ip: l.start.client,
      resp_headers: l.respMap ?? {},
      resp_bytes: l.bytesOut(),
      elapsed_ms: Math.max(0, at - l.arrived),
      state: l.state,
      queue_position: l.position,
      peer: l.start.peer,
      streamed: l.start.streamed ?? false,
    };
  };
  const wants = opts.wantsInflight ?? (() => true);
  const upsert = (l: Live): void => {
    // Building an entry costs two header maps and a date: only for a listener.
    if (!onInflight || !wants()) return;
    // Byte counts move without events: a ticker publishes them while a listener is there.
    if (ticker === null) ticker = setInterval(tick, tickMs);
    l.published = l.bytesOut();
    onInflight({ operation: "upsert", request: entryOf(l, now()) });
  };
  /** Publish the byte counts that moved since the last tick (no clock read per chunk). */
  const tick = (): void => {
    if (live.size === 0 || !wants()) {
      clearInterval(ticker!);
      ticker = null;
      return;
    }
    for (const l of live.values()) if (l.bytesOut() !== l.published) upsert(l);
  };

  return {
    begin(start) {
      const id = nextId++;
      const arrived = now();
      let loadingSince: number | null = null;
      let grantedAt: number | null = null;
      let firstByteAt: number | null = null;
      let firstTokenAt: number | null = null;
      let status = 0;
      let contentType = "";
      let bytesOut = 0;
      let scanner: UsageScanner | null = null;
      let compressed: { encoding: string; chunks: Uint8Array[]; bytes: number } | null = null;
      let sse = false;
      let clockDone = false;
      let ended = false;
      let operatorCancelled = false;
      const parts = captures?.partsFor(start.path) ?? null;
      let captureChunks: Uint8Array[] | null = parts?.respBody ? [] : null;
      let respHeaders: Headers | null = null;
      open++;
      const l: Live = {
        id,
        start,
        arrived,
        state: "queued",
        position: 0,
        respHeaders: null,
        fixed: null,
        respMap: null,
        bytesOut: () => bytesOut,
        published: 0,
        cancel() {
          if (ended || !start.cancel) return false;
          operatorCancelled = true;
          start.cancel();
          return true;
        },
      };
      live.set(id, l);
      upsert(l);

      return {
        id,
        waiting(loading, position = 0) {
          if (loading && loadingSince === null) loadingSince = now();
          const state: InflightState = loading ? "loading" : "queued";
          if (ended || (l.state === state && l.position === position)) return;
          l.state = state;
          l.position = loading ? 0 : position;
          upsert(l);
        },
        granted() {
          grantedAt ??= now();
          if (ended || l.state === "serving") return;
          l.state = "serving";
          l.position = 0;
          upsert(l);
        },
        response(s, ct, headers) {
          status = s;
          contentType = ct;
          sse = ct.toLowerCase().includes("text/event-stream");
          scanner = createUsageScanner({ sse });
          // A compressed answer: its bytes are held, then inflated for the scanner (and the capture) at the end.
          const encoding = headers?.get("content-encoding")?.trim().toLowerCase() ?? "";
          if (encoding !== "" && encoding !== "identity" && opts.decompress) {
            compressed = { encoding, chunks: [], bytes: 0 };
          }
          respHeaders = headers ?? null;
          if (headers && !ended) {
            l.respHeaders = headers;
            upsert(l);
          }
        },
        chunk(bytes) {
          if (bytes.byteLength === 0) return;
          bytesOut += bytes.byteLength;
          if (compressed !== null) {
            compressed.bytes += bytes.byteLength;
            if (compressed.bytes <= MAX_COMPRESSED) compressed.chunks.push(bytes);
            else compressed.chunks = [];
          } else scanner?.push(bytes);
          if (captureChunks !== null) {
            // A response larger than the whole ring cannot be kept: stop holding its chunks.
            if (bytesOut > captures!.limitBytes) captureChunks = null;
            else captureChunks.push(bytes);
          }
          // The clock is read only until the first token: after it, a chunk costs a count and a scan.
          if (clockDone) return;
          const t = now();
          firstByteAt ??= t;
          if (!sse) clockDone = true;
          else if (carriesToken(bytes)) {
            firstTokenAt = t;
            clockDone = true;
          }
        },
        end(outcome, o = {}) {
          if (ended) return;
          ended = true;
          open--;
          live.delete(id);
          if (onInflight && wants()) onInflight({ operation: "remove", id: String(id) });
          // An operator's cancel reaches the request as a sever or an abort; it is recorded as what it was.
          if (operatorCancelled && outcome !== "ok") {
            outcome = "cancelled";
            o = { ...o, error: OPERATOR_CANCELLED };
          }
          const at = now();
          let inflated: Uint8Array | null = null;
          if (compressed !== null && compressed.chunks.length > 0 && compressed.bytes <= MAX_COMPRESSED) {
            inflated = opts.decompress!(compressed.encoding, concatBytes(compressed.chunks, compressed.bytes));
            if (inflated !== null) scanner?.push(inflated);
          }
          const usage = scanner?.result() ?? emptyUsage();
          // Only exchanges the upstream answered are captured (a refusal is in the record already).
          const hasCapture =
            captures !== null &&
            status !== 0 &&
            !(parts!.respBody && captureChunks === null) &&
            captures.add({
              id,
              path: start.path,
              reqHeaders: start.headers ?? null,
              reqBody: parts!.reqBody ? (start.body ?? null) : null,
              // As llama-swap stores it: the inflated body, without its content-encoding.
              respHeaders: inflated !== null ? withoutEncoding(respHeaders) : respHeaders,
              respBody: inflated !== null && captureChunks ? inflated : captureChunks ? concatBytes(captureChunks, bytesOut) : null,
            });
          captureChunks = null;
          const waited = grantedAt === null ? null : grantedAt - arrived;
          const loadWait = grantedAt === null ? null : loadingSince === null ? 0 : grantedAt - loadingSince;
          const record: ActivityRecord = {
            id,
            timestamp: isoTime(arrived),
            model: start.model,
            peer: start.peer,
            req_path: start.path,
            client: start.client,
            resp_status_code: o.status ?? status,
            resp_content_type: contentType,
            tokens: tokensOf(usage),
            duration_ms: at - arrived,
            has_capture: hasCapture,
            ...(o.error ? { error_msg: o.error } : {}),
            queue_wait_ms: waited === null || loadWait === null ? null : waited - loadWait,
            load_wait_ms: loadWait,
            ttfb_ms: firstByteAt === null ? null : firstByteAt - arrived,
            ttft_ms: firstTokenAt === null ? null : firstTokenAt - arrived,
            streamed: start.streamed ?? sse,
            outcome,
            bytes_in: start.bytesIn,
            bytes_out: bytesOut,
            usage,
            ...(start.metadata ? { metadata: start.metadata } : {}),
          };
          ring.push(record);
          if (ring.length > max) ring.shift();
          opts.sink?.(record);
        },
      };
    },
    recent: () => ring,
    inFlight: () => open,
    inflight() {
      const at = now();
      return [...live.values()].map((l) => entryOf(l, at));
    },
    cancel: (id) => live.get(id)?.cancel() ?? false,
  };
}

let isoMs = NaN;
let isoText = "";
/** `new Date(ms).toISOString()`, reused while requests arrive in the same millisecond (several do under load). */
function isoTime(ms: number): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

/** Whether a chunk of an event stream carries generated text (checked only until the first one). */
function carriesToken(bytes: Uint8Array): boolean {
  // A long chunk is past the opening events; a short one is cheap to decode.
  if (bytes.byteLength > 4096) return true;
  return TOKEN_TEXT.test(new TextDecoder().decode(bytes));
}
