/**
 * The simulated backend's media routes, so the UI playground works against `switchyard simulate`:
 * image generation (a small solid-colour PNG), speech (a short sine-tone WAV), transcription
 * (multipart in, a sentence naming the file out) and llama-server's rerank shape. Pure builders plus
 * the routes; the encoders are hand-written (zlib for the PNG's IDAT, a CRC-32 table).
 */
import { deflateSync } from "node:zlib";
import type { SimulateOptions } from "./simulate-args.ts";
import { errorBody, estimatePromptTokens } from "./simulate-responses.ts";

type Json = Record<string, unknown>;
/** A route that gets the parsed JSON body (the ROUTES table's shape). */
type JsonRoute = (o: SimulateOptions, req: Request, body: Json) => Response;
/** A route that reads the raw request itself (multipart bodies). */
type RawRoute = (o: SimulateOptions, req: Request) => Promise<Response>;

const modelOf = (o: SimulateOptions, model: unknown): string => o.model || (typeof model === "string" ? model : "simulated");

/** FNV-1a of a text: picks the colour and the pitch deterministically. */
function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO-HDLC, as PNG chunks use). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A `width`×`height` 8-bit RGB PNG filled with one colour. */
export function solidPng(width: number, height: number, rgb: readonly [number, number, number]): Uint8Array<ArrayBuffer> {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type RGB, deflate, adaptive filter, no interlace
  const row = 1 + width * 3;
  const raw = new Uint8Array(row * height);
  for (let y = 0; y < height; y++) {
    raw[y * row] = 0; // filter: none
    for (let x = 0; x < width; x++) raw.set(rgb, y * row + 1 + x * 3);
  }
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk("IHDR", ihdr), pngChunk("IDAT", new Uint8Array(deflateSync(raw))), pngChunk("IEND", new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A mono 16-bit PCM WAV of a sine tone. */
export function sineWav(seconds: number, hz: number, sampleRate = 16000): Uint8Array<ArrayBuffer> {
  const samples = Math.max(1, Math.round(seconds * sampleRate));
  const out = new Uint8Array(44 + samples * 2);
  const v = new DataView(out.buffer);
  const ascii = (off: number, s: string) => {
    for (let i = 0; i < s.length; i++) out[off + i] = s.charCodeAt(i);
  };
  ascii(0, "RIFF");
  v.setUint32(4, 36 + samples * 2, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, 16, true); // fmt chunk size
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 2, true); // byte rate
  v.setUint16(32, 2, true); // block align
  v.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  v.setUint32(40, samples * 2, true);
  const fade = Math.min(samples / 2, sampleRate * 0.02);
  for (let i = 0; i < samples; i++) {
    // A short fade in and out, so the tone does not click.
    const env = Math.min(1, i / fade, (samples - 1 - i) / fade);
    v.setInt16(44 + i * 2, Math.round(Math.sin((2 * Math.PI * hz * i) / sampleRate) * 0.3 * 32767 * env), true);
  }
  return out;
}

/** `"512x256"` → [512, 256], capped to 256 px a side so answers stay small; default 64×64. */
function imageSize(size: unknown): [number, number] {
  const m = typeof size === "string" ? /^(\d+)x(\d+)$/.exec(size) : null;
  if (!m) return [64, 64];
  const cap = (n: number) => Math.max(1, Math.min(256, n));
  return [cap(Number(m[1])), cap(Number(m[2]))];
}

/** Words of a text, lower-cased. */
const words = (s: string): string[] => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/** A relevance score in (0, 1): the share of query words the document contains, plus a tiny tie-breaker. */
export function relevance(query: string, doc: string): number {
  const q = new Set(words(query));
  const d = new Set(words(doc));
  let hit = 0;
  for (const w of q) if (d.has(w)) hit++;
  const share = q.size ? hit / q.size : 0;
  return Math.round((0.01 + share * 0.98 + (hash(doc) % 1000) / 100_000) * 1e6) / 1e6;
}

const docText = (d: unknown): string => (typeof d === "string" ? d : d && typeof d === "object" && typeof (d as Json).text === "string" ? String((d as Json).text) : JSON.stringify(d));

const images: JsonRoute = (o, _req, body) => {
  const prompt = typeof body.prompt === "string" ? body.prompt : "";
  const n = typeof body.n === "number" && body.n >= 1 ? Math.min(4, Math.floor(body.n)) : 1;
  const [w, h] = imageSize(body.size);
  const data = Array.from({ length: n }, (_, i) => {
    const c = hash(`${prompt}#${i}`);
    const b64 = Buffer.from(solidPng(w, h, [c & 0xff, (c >>> 8) & 0xff, (c >>> 16) & 0xff])).toString("base64");
    return body.response_format === "url" ? { url: `data:image/png;base64,${b64}`, revised_prompt: prompt } : { b64_json: b64, revised_prompt: prompt };
  });
  return Response.json({ created: Math.floor(Date.now() / 1000), model: modelOf(o, body.model), data });
};

const speech: JsonRoute = (_o, _req, body) => {
  const input = typeof body.input === "string" ? body.input : "";
  if (!input) return Response.json(errorBody("input is required"), { status: 400 });
  // 40 ms a character, between 0.3 s and 2 s; the pitch follows the voice and the text.
  const seconds = Math.min(2, Math.max(0.3, input.length * 0.04));
  const hz = 220 + (hash(`${String(body.voice ?? "")}|${input}`) % 440);
  return new Response(sineWav(seconds, hz), { headers: { "content-type": "audio/wav" } });
};

const rerank: JsonRoute = (o, _req, body) => {
  const query = typeof body.query === "string" ? body.query : "";
  if (!query || !Array.isArray(body.documents)) return Response.json(errorBody("query (a string) and documents (an array) are required"), { status: 400 });
  const docs = body.documents.map(docText);
  const scored = docs.map((d, index) => ({ index, relevance_score: relevance(query, d) })).sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index);
  const top = typeof body.top_n === "number" && body.top_n >= 0 ? scored.slice(0, Math.floor(body.top_n)) : scored;
  const withDocs = body.return_documents === true ? top.map((r) => ({ ...r, document: { text: docs[r.index] } })) : top;
  const tokens = estimatePromptTokens({ input: [query, ...docs] });
  return Response.json({ model: modelOf(o, body.model), object: "list", usage: { prompt_tokens: tokens, total_tokens: tokens }, results: withDocs });
};

/** Routes that take a JSON body: merged into simulate.ts's ROUTES table. */
export const MEDIA_ROUTES: Record<string, JsonRoute> = {
  "/v1/images/generations": images,
  "/v1/audio/speech": speech,
  // llama-server serves rerank under all four paths.
  "/v1/rerank": rerank,
  "/v1/reranking": rerank,
  "/rerank": rerank,
  "/reranking": rerank,
};

const transcribe: RawRoute = async (o, req) => {
  let form: FormData;
  try {
    form = await req.formData();
  } catch {
    return Response.json(errorBody("expected a multipart/form-data body"), { status: 400 });
  }
  const file = form.get("file");
  if (!file || typeof file === "string") return Response.json(errorBody("the multipart field `file` is required"), { status: 400 });
  const text = `Simulated transcription of ${file.name || "the upload"} (${file.size} bytes).`;
  const format = form.get("response_format");
  if (format === "text") return new Response(text, { headers: { "content-type": "text/plain; charset=utf-8" } });
  return Response.json({ text, model: modelOf(o, form.get("model")) });
};

/** Routes that read the body themselves (handled before the JSON parse). */
export const RAW_ROUTES: Record<string, RawRoute> = {
  "/v1/audio/transcriptions": transcribe,
};
