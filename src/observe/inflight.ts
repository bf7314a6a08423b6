/**
 * In-flight requests in llama-swap's shape (`/api/inflight`, the `inflight` messages of
 * `/api/events`): a snapshot, then an upsert when a request arrives or moves on and a remove
 * when it ends. Beyond llama-swap, each entry says where the request stands in switchyard:
 * queued (with its position), loading, or serving. Web-standard, data only.
 */

/** Where an in-flight request stands. */
export type InflightState = "queued" | "loading" | "serving";

/** One in-flight request (llama-swap's InflightRequestEntry plus our fields). */
export interface InflightEntry {
  /** The request's activity id, as a string (llama-swap's ids are strings). */
  id: string;
  /** ISO time the request arrived. */
  timestamp: string;
  model: string;
  req_path: string;
  method: string;
  /** The client's headers, first value of each, credentials "[REDACTED]". */
  req_headers: Record<string, string>;
  remote_ip: string;
  /** The upstream's response headers once they came ({} before). */
  resp_headers: Record<string, string>;
  resp_bytes: number;
  elapsed_ms: number;
  /** Ours: queued, loading or serving. */
  state: InflightState;
  /** Ours: place in the model's queue (1 = next), 0 while loading or serving. */
  queue_position: number;
  /** Ours: the peer's ID, or "" for a local model. */
  peer: string;
  /** Ours: whether the client asked for a stream. */
  streamed: boolean;
}

/** One change, as llama-swap's InFlightRequestsEvent. */
export type InflightUpdate =
  | { operation: "snapshot"; requests: InflightEntry[] }
  | { operation: "upsert"; request: InflightEntry }
  | { operation: "remove"; id: string };

/** Header names whose values are never shown (compared lowercased). */
const SENSITIVE = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "x-goog-api-key"]);

/** First value of each header, credentials replaced by "[REDACTED]" (llama-swap's headerMap + redactHeaders). */
export function redactedHeaders(h: Headers | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  h?.forEach((value, name) => {
    out[name] = SENSITIVE.has(name.toLowerCase()) ? "[REDACTED]" : value;
  });
  return out;
}
