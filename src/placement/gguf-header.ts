/**
 * The header of a GGUF file (llama.cpp's model format), read from the file's first bytes only:
 * magic, version (2 or 3), the metadata key/value pairs (every value type, arrays too), and the
 * tensor infos (name, dims, ggml type, offset) with each tensor's size in bytes. The layout follows
 * llama.cpp's ggml/src/gguf.cpp (gguf_init_from_reader); the block and type sizes follow
 * gguf-py/gguf/constants.py (GGML_QUANT_SIZES). Little-endian files only (as llama.cpp reads them
 * on the hosts we run on). Web-standard: it takes bytes or an async `read(offset, length)`, never a
 * path, so the edge decides how the file is read (cli/gguf-guess.ts).
 */

/** A metadata value: numbers (64-bit integers beyond 2^53 as bigint), bools, strings, arrays. */
export type GgufValue = number | bigint | boolean | string | GgufArray;

/** An array value; `values` is left out (null) for arrays longer than the parser keeps (a vocabulary). */
export interface GgufArray {
  kind: "array";
  /** The elements' GGUF value type name ("u32", "string", …). */
  of: GgufValueTypeName;
  length: number;
  values: GgufValue[] | null;
}

/** The GGUF metadata value type names, by their numbers in the format. */
export type GgufValueTypeName = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "bool" | "string" | "array" | "u64" | "i64" | "f64";

const VALUE_TYPES: readonly GgufValueTypeName[] = ["u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"];

/** One tensor's description in the header. */
export interface GgufTensorInfo {
  name: string;
  /** ggml order: ne0 (the row length) first. */
  dims: number[];
  /** The ggml type number. */
  type: number;
  /** Its name ("F32", "Q4_K", …). */
  typeName: string;
  /** Offset of its data from the start of the data section. */
  offset: number;
  /** Its data's size in bytes (elements / block size × type size). */
  bytes: number;
}

/** A per-layer figure: one number for all layers, or one per layer. */
export type PerLayer = number | number[];

/** What the header says, with the model facts an estimate needs pulled out of the metadata. */
export interface GgufHeader {
  version: 2 | 3;
  alignment: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  /** Where the data section starts (the header's size, padded to the alignment). */
  dataOffset: number;
  /** Sum of the tensors' bytes: the weights. */
  tensorBytes: number;
  /** `general.architecture` ("llama", "qwen2", …), or null. */
  architecture: string | null;
  /** The facts below are read from `<architecture>.<key>`; null when absent. */
  blockCount: number | null;
  contextLength: number | null;
  embeddingLength: number | null;
  feedForwardLength: PerLayer | null;
  headCount: PerLayer | null;
  headCountKv: PerLayer | null;
  keyLength: number | null;
  valueLength: number | null;
  vocabSize: number | null;
  /** `split.count` for a model split over several files (their tensors are in the other files), else 1. */
  splitCount: number;
}

/** A GGUF file that cannot be read; the message says why. */
export class GgufError extends Error {
  override name = "GgufError";
}

/** The bytes ended before the header did; `needed` is how many bytes from the start would have sufficed for the next step. */
export class GgufTruncatedError extends GgufError {
  override name = "GgufTruncatedError";
  constructor(message: string, readonly needed: number) {
    super(message);
  }
}

/** A ggml tensor type: elements per block and bytes per block. */
export interface GgmlTypeSize {
  name: string;
  blockSize: number;
  typeSize: number;
}

const QK_K = 256;

/** ggml's tensor types by number, with their block and type sizes (gguf-py's GGML_QUANT_SIZES). Removed numbers (4, 5, 31–33, 36–38) are absent. */
export const GGML_TYPES: ReadonlyMap<number, GgmlTypeSize> = new Map(
  (
    [
      [0, "F32", 1, 4],
      [1, "F16", 1, 2],
      [2, "Q4_0", 32, 2 + 16],
      [3, "Q4_1", 32, 2 + 2 + 16],
      [6, "Q5_0", 32, 2 + 4 + 16],
      [7, "Q5_1", 32, 2 + 2 + 4 + 16],
      [8, "Q8_0", 32, 2 + 32],
      [9, "Q8_1", 32, 4 + 4 + 32],
      [10, "Q2_K", 256, 2 + 2 + QK_K / 16 + QK_K / 4],
      [11, "Q3_K", 256, 2 + QK_K / 4 + QK_K / 8 + 12],
      [12, "Q4_K", 256, 2 + 2 + QK_K / 2 + 12],
      [13, "Q5_K", 256, 2 + 2 + QK_K / 2 + QK_K / 8 + 12],
      [14, "Q6_K", 256, 2 + QK_K / 2 + QK_K / 4 + QK_K / 16],
      [15, "Q8_K", 256, 4 + QK_K + QK_K / 8],
      [16, "IQ2_XXS", 256, 2 + QK_K / 4],
      [17, "IQ2_XS", 256, 2 + QK_K / 4 + QK_K / 32],
      [18, "IQ3_XXS", 256, 2 + QK_K / 4 + QK_K / 8],
      [19, "IQ1_S", 256, 2 + QK_K / 8 + QK_K / 16],
      [20, "IQ4_NL", 32, 2 + 16],
      [21, "IQ3_S", 256, 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4],
      [22, "IQ2_S", 256, 2 + QK_K / 4 + QK_K / 16],
      [23, "IQ4_XS", 256, 2 + 2 + QK_K / 2 + QK_K / 64],
      [24, "I8", 1, 1],
      [25, "I16", 1, 2],
      [26, "I32", 1, 4],
      [27, "I64", 1, 8],
      [28, "F64", 1, 8],
      [29, "IQ1_M", 256, QK_K / 8 + QK_K / 16 + QK_K / 32],
      [30, "BF16", 1, 2],
      [34, "TQ1_0", 256, 2 + 4 * 13],
      [35, "TQ2_0", 256, 2 + 64],
      [39, "MXFP4", 32, 1 + 16],
      [40, "NVFP4", 64, 4 + 32],
      [41, "Q1_0", 128, 2 + 16],
    ] as const
  ).map(([id, name, blockSize, typeSize]) => [id, { name, blockSize, typeSize }]),
);

/** Bytes of a tensor of these dims in a ggml type (by number); throws GgufError naming an unknown type or a row that is not whole blocks. */
export function ggmlTypeBytes(type: number, dims: readonly number[], tensor = "tensor"): number {
  const t = GGML_TYPES.get(type);
  if (!t) throw new GgufError(`${tensor} has unknown ggml type ${type}: no block size known for it`);
  const ne0 = dims[0] ?? 1;
  if (ne0 % t.blockSize !== 0) {
    throw new GgufError(`${tensor} (${t.name}) has ${ne0} elements per row, not a multiple of its block size ${t.blockSize}`);
  }
  const elements = dims.reduce((a, b) => a * b, 1);
  return (elements / t.blockSize) * t.typeSize;
}

const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const DEFAULT_ALIGNMENT = 32;
const MAX_DIMS = 4;

/** Options of the parser. */
export interface GgufParseOptions {
  /** Arrays longer than this keep only their type and length (a vocabulary has 100k+ strings). Default 4096. */
  keepArraysUpTo?: number;
}

/** A little-endian cursor over the bytes we have; running off their end throws GgufTruncatedError. */
class Cursor {
  pos = 0;
  private readonly view: DataView;
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(n: number, what: string): void {
    if (this.pos + n > this.bytes.byteLength) {
      throw new GgufTruncatedError(`GGUF header truncated: ${what} at byte ${this.pos} runs past the ${this.bytes.byteLength} bytes read`, this.pos + n);
    }
  }
  u8(what = "u8"): number { this.need(1, what); return this.view.getUint8(this.pos++); }
  i8(what = "i8"): number { this.need(1, what); return this.view.getInt8(this.pos++); }
  u16(what = "u16"): number { this.need(2, what); const v = this.view.getUint16(this.pos, true); this.pos += 2; return v; }
  i16(what = "i16"): number { this.need(2, what); const v = this.view.getInt16(this.pos, true); this.pos += 2; return v; }
  u32(what = "u32"): number { this.need(4, what); const v = this.view.getUint32(this.pos, true); this.pos += 4; return v; }
  i32(what = "i32"): number { this.need(4, what); const v = this.view.getInt32(this.pos, true); this.pos += 4; return v; }
  f32(what = "f32"): number { this.need(4, what); const v = this.view.getFloat32(this.pos, true); this.pos += 4; return v; }
  f64(what = "f64"): number { this.need(8, what); const v = this.view.getFloat64(this.pos, true); this.pos += 8; return v; }
  u64big(what = "u64"): bigint { this.need(8, what); const v = this.view.getBigUint64(this.pos, true); this.pos += 8; return v; }
  i64big(what = "i64"): bigint { this.need(8, what); const v = this.view.getBigInt64(this.pos, true); this.pos += 8; return v; }
  /** A u64 that must fit a JS number (counts, lengths, dims, offsets). */
  count(what: string): number {
    const v = this.u64big(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufError(`GGUF ${what} ${v} is too large`);
    return Number(v);
  }
  str(what: string): string {
    const n = this.count(`${what} length`);
    this.need(n, what);
    const s = this.decoder.decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  skip(n: number, what: string): void { this.need(n, what); this.pos += n; }
}

const small = (v: bigint): number | bigint => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);

const SCALAR_BYTES: Partial<Record<GgufValueTypeName, number>> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, bool: 1, u64: 8, i64: 8, f64: 8 };

function valueType(n: number, key: string): GgufValueTypeName {
  const t = VALUE_TYPES[n];
  if (t === undefined) throw new GgufError(`GGUF key '${key}' has invalid value type ${n}`);
  return t;
}

function scalar(c: Cursor, t: GgufValueTypeName, key: string): GgufValue {
  switch (t) {
    case "u8": return c.u8(key);
    case "i8": return c.i8(key);
    case "u16": return c.u16(key);
    case "i16": return c.i16(key);
    case "u32": return c.u32(key);
    case "i32": return c.i32(key);
    case "f32": return c.f32(key);
    case "bool": return c.u8(key) !== 0;
    case "string": return c.str(key);
    case "u64": return small(c.u64big(key));
    case "i64": return small(c.i64big(key));
    case "f64": return c.f64(key);
    case "array": throw new GgufError(`GGUF key '${key}' is an array of arrays, which GGUF does not allow`);
  }
}

function value(c: Cursor, key: string, keepUpTo: number): GgufValue {
  const t = valueType(c.u32(`type of '${key}'`), key);
  if (t !== "array") return scalar(c, t, key);
  const of = valueType(c.u32(`element type of '${key}'`), key);
  if (of === "array") throw new GgufError(`GGUF key '${key}' is an array of arrays, which GGUF does not allow`);
  const length = c.count(`length of '${key}'`);
  const fixed = SCALAR_BYTES[of];
  if (length > keepUpTo) {
    // Walk past without keeping: fixed-size elements in one step, strings one by one.
    if (fixed !== undefined) c.skip(length * fixed, `'${key}' (${length} × ${of})`);
    else for (let i = 0; i < length; i++) c.skip(c.count(`'${key}'[${i}] length`), `'${key}'[${i}]`);
    return { kind: "array", of, length, values: null };
  }
  const values: GgufValue[] = [];
  for (let i = 0; i < length; i++) values.push(scalar(c, of, key));
  return { kind: "array", of, length, values };
}

/** Parse a GGUF header from the file's first bytes; throws GgufTruncatedError when they end too soon, GgufError when the file is not GGUF as llama.cpp reads it. */
export function parseGgufHeader(data: Uint8Array | ArrayBuffer, options: GgufParseOptions = {}): GgufHeader {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const keepUpTo = options.keepArraysUpTo ?? 4096;
  const c = new Cursor(bytes);
  const magic = c.u32("magic");
  if (magic !== GGUF_MAGIC) {
    const shown = Array.from(bytes.subarray(0, 4), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "?")).join("");
    throw new GgufError(`not a GGUF file: magic '${shown}', expected 'GGUF'`);
  }
  const version = c.u32("version");
  if (version !== 2 && version !== 3) {
    const why = version === 1 ? "GGUF v1 is no longer read by llama.cpp" : (version & 0xffff) === 0 ? "a big-endian file?" : "only versions 2 and 3 are read";
    throw new GgufError(`GGUF version ${version} is not supported (${why})`);
  }
  const nTensors = c.count("tensor count");
  const nKv = c.count("metadata count");

  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    const key = c.str(`key ${i}`);
    if (key === "") throw new GgufError(`GGUF key ${i} is empty`);
    if (metadata.has(key)) throw new GgufError(`GGUF key '${key}' appears twice`);
    metadata.set(key, value(c, key, keepUpTo));
  }

  const alignValue = metadata.get("general.alignment");
  if (alignValue !== undefined && typeof alignValue !== "number") throw new GgufError("GGUF general.alignment is not a u32");
  const alignment = alignValue ?? DEFAULT_ALIGNMENT;
  if (alignment <= 0 || (alignment & (alignment - 1)) !== 0) throw new GgufError(`GGUF alignment ${alignment} is not a power of 2`);

  const tensors: GgufTensorInfo[] = [];
  let tensorBytes = 0;
  for (let i = 0; i < nTensors; i++) {
    const name = c.str(`tensor ${i} name`);
    const nDims = c.u32(`dims of tensor '${name}'`);
    if (nDims > MAX_DIMS) throw new GgufError(`tensor '${name}' has ${nDims} dimensions, more than ${MAX_DIMS}`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(c.count(`dim ${d} of tensor '${name}'`));
    const type = c.u32(`type of tensor '${name}'`);
    const offset = c.count(`offset of tensor '${name}'`);
    const bytesOf = ggmlTypeBytes(type, dims, `tensor '${name}'`);
    tensors.push({ name, dims, type, typeName: GGML_TYPES.get(type)?.name ?? String(type), offset, bytes: bytesOf });
    tensorBytes += bytesOf;
  }
  const dataOffset = nTensors > 0 ? Math.ceil(c.pos / alignment) * alignment : c.pos;

  const arch = metadata.get("general.architecture");
  const architecture = typeof arch === "string" ? arch : null;
  const num = (key: string): number | null => {
    const v = architecture === null ? undefined : metadata.get(`${architecture}.${key}`);
    return typeof v === "number" ? v : null;
  };
  const perLayer = (key: string): PerLayer | null => {
    const v = architecture === null ? undefined : metadata.get(`${architecture}.${key}`);
    if (typeof v === "number") return v;
    if (typeof v === "object" && v !== null && typeof v !== "bigint" && v.values !== null && v.values.every((x) => typeof x === "number")) {
      return v.values as number[];
    }
    return null;
  };
  const split = metadata.get("split.count");

  return {
    version,
    alignment,
    metadata,
    tensors,
    dataOffset,
    tensorBytes,
    architecture,
    blockCount: num("block_count"),
    contextLength: num("context_length"),
    embeddingLength: num("embedding_length"),
    feedForwardLength: perLayer("feed_forward_length"),
    headCount: perLayer("attention.head_count"),
    headCountKv: perLayer("attention.head_count_kv"),
    keyLength: num("attention.key_length"),
    valueLength: num("attention.value_length"),
    vocabSize: num("vocab_size") ?? vocabLength(metadata),
    splitCount: typeof split === "number" && split > 1 ? split : 1,
  };
}

function vocabLength(metadata: Map<string, GgufValue>): number | null {
  const tokens = metadata.get("tokenizer.ggml.tokens");
  return typeof tokens === "object" && tokens !== null && typeof tokens !== "bigint" ? tokens.length : null;
}

/** Reads `length` bytes at `offset`; fewer (or none) at the end of the file. */
export type GgufRead = (offset: number, length: number) => Promise<Uint8Array>;

/** Options of readGgufHeader. */
export interface GgufReadOptions extends GgufParseOptions {
  /** The first read's size (default 1 MiB); it grows until the header fits. */
  initialBytes?: number;
  /** Give up past this many header bytes (default 256 MiB). */
  maxBytes?: number;
}

/** Parse a GGUF header through `read`, reading only the file's head and growing the read while the header is longer. */
export async function readGgufHeader(read: GgufRead, options: GgufReadOptions = {}): Promise<GgufHeader> {
  const max = options.maxBytes ?? 256 * 1024 * 1024;
  let size = Math.min(options.initialBytes ?? 1024 * 1024, max);
  for (;;) {
    const bytes = await read(0, size);
    try {
      return parseGgufHeader(bytes, options);
    } catch (err) {
      // Fewer bytes than asked means the file itself ended: a truncated file, not a short read.
      if (!(err instanceof GgufTruncatedError) || bytes.byteLength < size) throw err;
      if (size >= max) throw new GgufError(`GGUF header is larger than ${max} bytes`);
      size = Math.min(max, Math.max(size * 2, err.needed + 1024 * 1024));
    }
  }
}
