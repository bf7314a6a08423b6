/**
 * Captures (llama-swap's `captureBuffer`): the request and response of recent model requests,
 * kept in a ring bounded in bytes and read back by activity id (`GET /api/captures/{id}`).
 * Off unless `captureBuffer` is above 0. Credentials never enter the ring: sensitive headers
 * are replaced by "[REDACTED]" and every configured API key is masked wherever it appears, in a
 * header value or a body. Bodies are kept as bytes and served base64-encoded, as llama-swap's
 * JSON does (Go encodes []byte that way), so its UI decodes them unchanged. Web-standard.
 */
import { redactedHeaders } from "./inflight.ts";

/** One stored exchange, in llama-swap's JSON shape (bodies base64 when read). */
export interface CaptureJson {
  id: number;
  req_path: string;
  req_headers: Record<string, string>;
  req_body: string;
  resp_headers: Record<string, string>;
  resp_body: string;
}

/** What the activity log hands over when a captured request ends. */
export interface CaptureInput {
  id: number;
  path: string;
  reqHeaders: Headers | null;
  reqBody: Uint8Array | null;
  respHeaders: Headers | null;
  respBody: Uint8Array | null;
}

/** Which parts a route keeps (llama-swap keeps no large binary bodies of audio and image routes). */
export interface CaptureParts {
  reqBody: boolean;
  respBody: boolean;
}

/** The ring of captures. */
export interface CaptureRing {
  /** Bytes the ring may hold. */
  readonly limitBytes: number;
  /** Which bodies a path keeps. */
  partsFor(path: string): CaptureParts;
  /** Store one exchange; false when it alone is larger than the ring (then nothing is kept). */
  add(c: CaptureInput): boolean;
  /** Whether the capture of this id is still held. */
  has(id: number): boolean;
  /** The capture of this id, or null when it was never taken or has been pushed out. */
  get(id: number): CaptureJson | null;
  /** Captures held and their bytes. */
  stats(): { count: number; bytes: number };
}

const REDACTED = "[REDACTED]";

/** Routes with large binary payloads: which bodies they keep (llama-swap's captureFieldsByPath). */
const PARTS_BY_PATH: Record<string, CaptureParts> = {
  "/v1/audio/speech": { reqBody: true, respBody: false },
  "/v1/audio/transcriptions": { reqBody: false, respBody: true },
  "/v1/images/generations": { reqBody: true, respBody: false },
  "/v1/images/edits": { reqBody: false, respBody: false },
  "/sdapi/v1/txt2img": { reqBody: true, respBody: false },
  "/sdapi/v1/img2img": { reqBody: false, respBody: false },
};
const ALL: CaptureParts = { reqBody: true, respBody: true };

interface Held {
  json: Omit<CaptureJson, "req_body" | "resp_body">;
  reqBody: Uint8Array;
  respBody: Uint8Array;
  bytes: number;
}

const EMPTY = new Uint8Array(0);

/** Options of the ring. */
export interface CaptureRingOptions {
  /** The ring's size in MB (llama-swap's `captureBuffer`); must be above 0. */
  megabytes: number;
  /** Secrets to mask wherever they appear (the `apiKeys`, peers' keys). */
  secrets?: readonly string[];
}

/** Create the capture ring. */
export function createCaptureRing(opts: CaptureRingOptions): CaptureRing {
  const limitBytes = Math.max(0, opts.megabytes) * 1024 * 1024;
  const secrets = (opts.secrets ?? []).filter((s) => s.length >= 4);
  const maskBytes = secrets.map((s) => new TextEncoder().encode(s));
  const held = new Map<number, Held>();
  let bytes = 0;

  const headerMap = (h: Headers | null): Record<string, string> => {
    const out = redactedHeaders(h);
    for (const [name, value] of Object.entries(out)) if (secrets.some((s) => value.includes(s))) out[name] = REDACTED;
    return out;
  };

  return {
    limitBytes,
    partsFor: (path) => PARTS_BY_PATH[path] ?? ALL,
    add(c) {
      const reqBody = maskSecrets(c.reqBody ?? EMPTY, maskBytes);
      const respBody = maskSecrets(c.respBody ?? EMPTY, maskBytes);
      const json = { id: c.id, req_path: c.path, req_headers: headerMap(c.reqHeaders), resp_headers: headerMap(c.respHeaders) };
      const size = reqBody.byteLength + respBody.byteLength + JSON.stringify(json).length;
      if (size > limitBytes) return false;
      const prior = held.get(c.id);
      if (prior) {
        held.delete(c.id);
        bytes -= prior.bytes;
      }
      held.set(c.id, { json, reqBody, respBody, bytes: size });
      bytes += size;
      // A Map iterates in insertion order: the first key is the oldest capture.
      for (const [id, h] of held) {
        if (bytes <= limitBytes) break;
        held.delete(id);
        bytes -= h.bytes;
      }
      return true;
    },
    has: (id) => held.has(id),
    get(id) {
      const h = held.get(id);
      if (!h) return null;
      return { ...h.json, req_body: base64(h.reqBody), resp_body: base64(h.respBody) };
    },
    stats: () => ({ count: held.size, bytes }),
  };
}

/** `bytes` with every occurrence of each secret overwritten by "*" (a copy when anything matched). */
export function maskSecrets(bytes: Uint8Array, secrets: readonly Uint8Array[]): Uint8Array {
  let out = bytes;
  for (const s of secrets) {
    const first = s[0];
    for (let i = out.indexOf(first); i !== -1 && i + s.byteLength <= out.byteLength; i = out.indexOf(first, i + 1)) {
      let match = true;
      for (let j = 1; j < s.byteLength; j++) {
        if (out[i + j] !== s[j]) {
          match = false;
          break;
        }
      }
      if (!match) continue;
      if (out === bytes) out = bytes.slice();
      out.fill(0x2a, i, i + s.byteLength);
      i += s.byteLength - 1;
    }
  }
  return out;
}

/** Standard base64 of bytes (btoa over binary strings, in slices so large bodies do not overflow the stack). */
export function base64(bytes: Uint8Array): string {
  let bin = "";
  const STEP = 0x8000;
  for (let i = 0; i < bytes.byteLength; i += STEP) bin += String.fromCharCode(...bytes.subarray(i, i + STEP));
  return btoa(bin);
}

/** Concatenate chunks into one array. */
export function concatBytes(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
