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
}

/** What is known when a request arrives. */
export interface ActivityStart {
  model: string;
  peer: string;
  path: string;
  client: string;
  bytesIn: number;
  streamed: boolean;
}

/** The record of one request in flight; every method is cheap, `end` is idempotent. */
export interface ActivityHandle {
  readonly id: number;
  /** A queue or loading update from the router (the first `loading` one starts the load wait). */
  waiting(loading: boolean): void;
  /** The router granted the request. */
  granted(): void;
  /** The upstream answered with these headers. */
  response(status: number, contentType: string): void;
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
}

/** A streamed event that carries generated text (OpenAI, llama-server, Anthropic deltas). */
const TOKEN_TEXT = /"(content|text|reasoning_content|partial_json)":"[^"]/;

/** llama-swap's token block from what the backend reported. */
export function tokensOf(u: TokenUsage): ActivityTokens {
  return {
    cache_tokens: u.cachedTokens ?? -1,
    draft_tokens: u.draftTokens ?? 0,
    draft_acc_tokens: u.draftAccepted ?? 0,
    input_tokens: u.promptTokens ?? 0,
    output_tokens: u.completionTokens ?? 0,
    prompt_per_second: u.promptPerSecond ?? 0,
    tokens_per_second: u.generationPerSecond ?? 0,
  };
}

/** Create the activity log. */
export function createActivityLog(opts: ActivityLogOptions = {}): ActivityLog {
  const max = Math.max(1, opts.maxInMemory ?? 1000);
  const now = opts.now ?? Date.now;
  const ring: ActivityRecord[] = [];
  let nextId = Math.max(1, opts.firstId ?? 1);
  let open = 0;

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
      let sse = false;
      let clockDone = false;
      let ended = false;
      open++;

      return {
        id,
        waiting(loading) {
          if (loading && loadingSince === null) loadingSince = now();
        },
        granted() {
          grantedAt ??= now();
        },
        response(s, ct) {
          status = s;
          contentType = ct;
          sse = ct.toLowerCase().includes("text/event-stream");
          scanner = createUsageScanner({ sse });
        },
        chunk(bytes) {
          if (bytes.byteLength === 0) return;
          bytesOut += bytes.byteLength;
          scanner?.push(bytes);
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
          const at = now();
          const usage = scanner?.result() ?? emptyUsage();
          const waited = grantedAt === null ? null : grantedAt - arrived;
          const loadWait = grantedAt === null ? null : loadingSince === null ? 0 : grantedAt - loadingSince;
          const record: ActivityRecord = {
            id,
            timestamp: new Date(arrived).toISOString(),
            model: start.model,
            peer: start.peer,
            req_path: start.path,
            client: start.client,
            resp_status_code: o.status ?? status,
            resp_content_type: contentType,
            tokens: tokensOf(usage),
            duration_ms: at - arrived,
            has_capture: false,
            ...(o.error ? { error_msg: o.error } : {}),
            queue_wait_ms: waited === null || loadWait === null ? null : waited - loadWait,
            load_wait_ms: loadWait,
            ttfb_ms: firstByteAt === null ? null : firstByteAt - arrived,
            ttft_ms: firstTokenAt === null ? null : firstTokenAt - arrived,
            streamed: start.streamed,
            outcome,
            bytes_in: start.bytesIn,
            bytes_out: bytesOut,
            usage,
          };
          ring.push(record);
          if (ring.length > max) ring.shift();
          opts.sink?.(record);
        },
      };
    },
    recent: () => ring,
    inFlight: () => open,
  };
}

/** Whether a chunk of an event stream carries generated text (checked only until the first one). */
function carriesToken(bytes: Uint8Array): boolean {
  // A long chunk is past the opening events; a short one is cheap to decode.
  if (bytes.byteLength > 4096) return true;
  return TOKEN_TEXT.test(new TextDecoder().decode(bytes));
}
