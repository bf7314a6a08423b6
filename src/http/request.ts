/**
 * Reading a model request: the body (within the size limit), the requested model and the
 * `stream` flag, the versionless `/v/...` path mapping, and the configured rewrites.
 * The client's exact bytes are forwarded unless a rewrite actually changes something.
 */
import { HttpError } from "./errors.ts";
import { deletePath, parseJsonExact, setPath } from "./json-path.ts";
import { scanTopLevel } from "./json-top-level.ts";

/** How the body was understood. */
export type BodyKind = "json" | "multipart" | "urlencoded" | "none" | "other";

/** What a model route needs to know about one request. */
export interface ModelRequest {
  /** The model name as the client wrote it ("" when none was given). */
  model: string;
  /** `"stream": true` in the body, or `stream=true` in a form or the query. */
  stream: boolean;
  kind: BodyKind;
  /** The exact bytes the client sent (null for no body). */
  bytes: Uint8Array | null;
  contentType: string | null;
  /** The parsed form when kind is "multipart". */
  form: FormData | null;
}

/** Rewrites for one forwarded request; all optional. */
export interface Rewrite {
  /** Replace the `model` value (useModelName, or a peer's own model ID). */
  modelName?: string;
  stripParams?: readonly string[];
  setParams?: Readonly<Record<string, unknown>>;
  /** Applied after setParams (the setParamsByID entry of the requested name). */
  setParamsById?: Readonly<Record<string, unknown>>;
}

/** The body to forward after rewrites. */
export interface ForwardBody {
  bytes: Uint8Array | null;
  contentType: string | null;
}

const decoder = new TextDecoder();

/**
 * JSON bodies from this size on have their model read by a scan instead of a parse. Below it a
 * parse is cheaper than the scan's jumps (0.6 against 2-3 µs for a 150-byte chat request).
 */
const SCAN_FROM_BYTES = 4096;

/** Read the whole body, failing with 413 as soon as it exceeds `limitBytes` (content-length or chunked). */
export async function readBodyLimited(request: Request, limitBytes: number): Promise<Uint8Array | null> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limitBytes) throw tooLarge(limitBytes);
  if (!request.body) return null;
  // A declared length within the limit: read it whole (the server holds it to that length), with no
  // stream reader in between; a reader costs more CPU per request than the rest of the parse.
  if (declared !== null) return await request.bytes();
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limitBytes) {
      reader.cancel().catch(() => {});
      throw tooLarge(limitBytes);
    }
    parts.push(value);
  }
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

/** The 413 error for a body over the limit. */
export function tooLarge(limitBytes: number): HttpError {
  const mb = Math.round((limitBytes / (1024 * 1024)) * 100) / 100;
  return new HttpError(413, `request body exceeds the limit of ${mb} MB (requestBodyLimitMB)`);
}

function looksLikeJson(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b === 0x7b; // "{"
  }
  return false;
}

function fieldString(v: unknown, name: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new HttpError(400, `"${name}" must be a string`, { param: name });
  return v;
}

/** Read the body (if any) and find the model and stream flag. Throws HttpError 400/413. */
export async function parseModelRequest(request: Request, url: URL, limitBytes: number): Promise<ModelRequest> {
  // Most requests have no query: no URLSearchParams for them.
  const query = url.search === "" ? null : url.searchParams;
  const queryModel = query?.get("model") ?? "";
  const queryStream = query?.get("stream") === "true";
  const contentType = request.headers.get("content-type");
  const base: ModelRequest = {
    model: queryModel,
    stream: queryStream,
    kind: "none",
    bytes: null,
    contentType,
    form: null,
  };
  if (request.method === "GET" || request.method === "HEAD") return base;

  const bytes = await readBodyLimited(request, limitBytes);
  if (!bytes || bytes.byteLength === 0) return { ...base, bytes };
  const ct = (contentType ?? "").toLowerCase();

  if (ct.includes("multipart/form-data")) {
    let form: FormData;
    try {
      form = await new Response(bytes as BodyInit, { headers: { "content-type": contentType ?? "" } }).formData();
    } catch (err) {
      throw new HttpError(400, `invalid multipart body: ${(err as Error).message}`);
    }
    const m = form.get("model");
    return {
      ...base,
      kind: "multipart",
      bytes,
      form,
      model: typeof m === "string" ? m : queryModel,
      stream: form.get("stream") === "true" || queryStream,
    };
  }

  // JSON by content type, or by shape: `curl -d '{...}'` labels JSON as url-encoded.
  if (ct.includes("json") || looksLikeJson(bytes)) {
    // A big body's model and stream are read without parsing it (json-top-level.ts). A small one,
    // or one the scan cannot vouch for, is parsed, which also words the client's error.
    const scanned = bytes.byteLength >= SCAN_FROM_BYTES ? scanTopLevel(bytes) : null;
    if (scanned) return { ...base, kind: "json", bytes, model: scanned.model || queryModel, stream: scanned.stream };
    let parsed: unknown;
    try {
      parsed = JSON.parse(decoder.decode(bytes));
    } catch (err) {
      throw new HttpError(400, `invalid JSON body: ${(err as Error).message}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new HttpError(400, "the JSON body must be an object");
    }
    const json = parsed as Record<string, unknown>;
    return {
      ...base,
      kind: "json",
      bytes,
      model: fieldString(json.model, "model") || queryModel,
      stream: json.stream === true,
    };
  }

  if (ct.includes("application/x-www-form-urlencoded")) {
    const params = new URLSearchParams(decoder.decode(bytes));
    return {
      ...base,
      kind: "urlencoded",
      bytes,
      model: params.get("model") ?? queryModel,
      stream: params.get("stream") === "true" || queryStream,
    };
  }
  return { ...base, kind: "other", bytes };
}

/**
 * The path sent upstream: the versionless `/v/chat/completions` goes as `/chat/completions`
 * (llama-swap issue #728), `/audioapi/v1/tasks/run` as `/v1/tasks/run` (audio.cpp); every other
 * path as is.
 */
export function forwardPath(pathname: string): string {
  if (pathname.startsWith("/v/")) return pathname.slice(2);
  if (pathname.startsWith("/audioapi/")) return pathname.slice("/audioapi".length);
  return pathname;
}

/** Apply the rewrites; returns the original bytes when nothing changed. */
export async function rewriteBody(req: ModelRequest, rw: Rewrite): Promise<ForwardBody> {
  const original: ForwardBody = { bytes: req.bytes, contentType: req.contentType };
  if (req.kind === "json") {
    const hasWork =
      rw.modelName !== undefined ||
      (rw.stripParams?.length ?? 0) > 0 ||
      Object.keys(rw.setParams ?? {}).length > 0 ||
      Object.keys(rw.setParamsById ?? {}).length > 0;
    if (!hasWork || !req.bytes) return original;
    // A parse that keeps numbers' source text (a plain parse would round them): a 64-bit seed
    // must reach the server digit for digit, as llama-swap's in-place sjson edits leave it.
    let doc: Record<string, unknown>;
    try {
      doc = parseJsonExact(decoder.decode(req.bytes)) as Record<string, unknown>;
    } catch (err) {
      // Only a big body's top level was checked (a flaw deeper in it would have gone to the backend as it was).
      throw new HttpError(400, `invalid JSON body: ${(err as Error).message}`);
    }
    let changed = false;
    if (rw.modelName !== undefined && doc.model !== rw.modelName) {
      doc.model = rw.modelName;
      changed = true;
    }
    for (const key of rw.stripParams ?? []) if (key !== "model" && deletePath(doc, key)) changed = true;
    for (const params of [rw.setParams, rw.setParamsById]) {
      for (const [key, value] of Object.entries(params ?? {})) {
        if (key !== "model" && setPath(doc, key, value)) changed = true;
      }
    }
    if (!changed) return original;
    return { bytes: new TextEncoder().encode(JSON.stringify(doc)), contentType: req.contentType ?? "application/json" };
  }
  // A form without its own model field (the model came in the query) keeps its exact bytes: rewriteSearch rewrites the query.
  if (req.kind === "multipart" && req.form && rw.modelName !== undefined && formModel(req) !== null && formModel(req) !== rw.modelName) {
    const form = new FormData();
    for (const [k, v] of req.form.entries()) form.append(k, k === "model" ? rw.modelName : v);
    // Re-encoding picks a new boundary; the content type must carry it. Read the header before
    // the body: Bun derives it lazily and reports null once the body has been consumed.
    const encoded = new Response(form);
    const contentType = encoded.headers.get("content-type");
    return { bytes: new Uint8Array(await encoded.arrayBuffer()), contentType };
  }
  if (req.kind === "urlencoded" && req.bytes && rw.modelName !== undefined) {
    // llama-swap rewrites a form body's model for peers too; a model given only in the query is
    // rewritten there (rewriteSearch).
    const params = new URLSearchParams(decoder.decode(req.bytes));
    const current = params.get("model");
    if (current === null || current === rw.modelName) return original;
    params.set("model", rw.modelName);
    return { bytes: new TextEncoder().encode(params.toString()), contentType: req.contentType };
  }
  return original;
}

/** The query string to forward: `model` replaced when the model came from the query and is rewritten. */
export function rewriteSearch(url: URL, req: ModelRequest, rw: Rewrite): string {
  if (rw.modelName === undefined || req.kind === "json" || formModel(req) !== null) return url.search;
  if (url.searchParams.get("model") === null || url.searchParams.get("model") === rw.modelName) return url.search;
  const params = new URLSearchParams(url.search);
  params.set("model", rw.modelName);
  return `?${params.toString()}`;
}

/** A multipart body's own `model` field (null: none, or not text). */
function formModel(req: ModelRequest): string | null {
  const m = req.kind === "multipart" ? req.form?.get("model") : null;
  return typeof m === "string" ? m : null;
}
