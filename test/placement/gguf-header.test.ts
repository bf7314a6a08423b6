/**
 * The GGUF header parser: the tiny models the real llama-server tests load (test/fixtures/gguf.ts),
 * hand-built headers with every value type, arrays and several tensor types, the growing read, and
 * the errors (truncated, bad magic, unsupported version, unknown tensor type, partial blocks).
 */
import { describe, expect, test } from "bun:test";
import { openSync, readSync, closeSync, statSync } from "node:fs";
import { PRESETS, tinyModel } from "../fixtures/gguf.ts";
import { buildGguf, type BuildSpec } from "../fixtures/gguf-builder.ts";
import { GGML_TYPES, GgufError, GgufTruncatedError, ggmlTypeBytes, parseGgufHeader, readGgufHeader, type GgufRead } from "../../src/placement/gguf-header.ts";

/** The first `n` bytes of a file. */
function head(path: string, n: number): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const buf = new Uint8Array(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** A GgufRead over bytes in memory that counts what it was asked for. */
function memoryRead(bytes: Uint8Array): { read: GgufRead; asked: number[] } {
  const asked: number[] = [];
  return { asked, read: async (offset, length) => { asked.push(length); return bytes.subarray(offset, offset + length); } };
}

describe("the tiny test models", () => {
  test("tiny: llama, its shape, 21 F32 tensors summing to the file's data section", () => {
    const path = tinyModel({ size: "tiny" });
    const h = parseGgufHeader(head(path, 1 << 20));
    const p = PRESETS.tiny;
    expect(h.version).toBe(3);
    expect(h.architecture).toBe("llama");
    expect([h.blockCount, h.contextLength, h.embeddingLength, h.headCount, h.headCountKv, h.feedForwardLength]).toEqual([p.nLayer, p.nCtx, p.nEmbd, p.nHead, p.nHead, p.nFf]);
    expect(h.keyLength).toBeNull();
    expect(h.tensors.length).toBe(3 + 9 * p.nLayer);
    expect(h.tensors.every((t) => t.typeName === "F32")).toBe(true);
    expect(h.tensors.find((t) => t.name === "blk.0.ffn_down.weight")?.dims).toEqual([p.nFf, p.nEmbd]);
    // Every tensor size here is a multiple of the alignment, so the data section is exactly their sum.
    expect(h.dataOffset + h.tensorBytes).toBe(statSync(path).size);
    // The vocabulary (414 strings) is kept: under the default limit.
    const tokens = h.metadata.get("tokenizer.ggml.tokens");
    expect(typeof tokens === "object" && tokens !== null && typeof tokens !== "bigint" && tokens.length).toBe(h.vocabSize ?? -1);
    expect(h.metadata.get("tokenizer.ggml.add_bos_token")).toBe(true);
  });

  test("bench (≈ 400 MB) from its first MiB only", async () => {
    const path = tinyModel({ size: "bench" });
    const h = await readGgufHeader(async (o, n) => head(path, o + n).subarray(o));
    expect(h.blockCount).toBe(PRESETS.bench.nLayer);
    expect(h.dataOffset + h.tensorBytes).toBe(statSync(path).size);
  });
});

const kvAll: BuildSpec["kv"] = [
  ["general.architecture", { t: "string", v: "qwen2" }],
  ["general.alignment", { t: "u32", v: 64 }],
  ["a.u8", { t: "u8", v: 200 }],
  ["a.i8", { t: "i8", v: -5 }],
  ["a.u16", { t: "u16", v: 60000 }],
  ["a.i16", { t: "i16", v: -30000 }],
  ["a.i32", { t: "i32", v: -7 }],
  ["a.f32", { t: "f32", v: 0.5 }],
  ["a.f64", { t: "f64", v: 1e-300 }],
  ["a.u64", { t: "u64", v: 1n << 60n }],
  ["a.i64", { t: "i64", v: -42 }],
  ["a.bool", { t: "bool", v: false }],
  ["a.strings", { t: "array", of: "string", v: ["x", "", "ünï"] }],
  ["a.bools", { t: "array", of: "bool", v: [true, false] }],
  ["a.u64s", { t: "array", of: "u64", v: [1, 2] }],
  ["qwen2.block_count", { t: "u32", v: 3 }],
  ["qwen2.context_length", { t: "u32", v: 32768 }],
  ["qwen2.embedding_length", { t: "u32", v: 256 }],
  ["qwen2.feed_forward_length", { t: "array", of: "i32", v: [512, 768, 1024] }],
  ["qwen2.attention.head_count", { t: "u32", v: 8 }],
  ["qwen2.attention.head_count_kv", { t: "array", of: "u32", v: [2, 2, 1] }],
  ["qwen2.attention.key_length", { t: "u32", v: 64 }],
  ["qwen2.attention.value_length", { t: "u32", v: 48 }],
  ["qwen2.vocab_size", { t: "u32", v: 1000 }],
];

/** Tensors of several types: F32, F16, BF16, Q4_0, Q8_0, Q4_K, Q6_K, IQ2_XXS, IQ4_XS. */
const mixed = [
  { name: "token_embd.weight", dims: [256, 1000], type: 12, bytes: (256 * 1000 / 256) * 144 },
  { name: "output_norm.weight", dims: [256], type: 0, bytes: 256 * 4 },
  { name: "blk.0.attn_q.weight", dims: [256, 256], type: 1, bytes: 256 * 256 * 2 },
  { name: "blk.0.attn_k.weight", dims: [256, 128], type: 30, bytes: 256 * 128 * 2 },
  { name: "blk.0.attn_v.weight", dims: [256, 96], type: 2, bytes: (256 * 96 / 32) * 18 },
  { name: "blk.0.ffn_up.weight", dims: [256, 512], type: 8, bytes: (256 * 512 / 32) * 34 },
  { name: "blk.1.ffn_up.weight", dims: [256, 768], type: 14, bytes: (256 * 768 / 256) * 210 },
  { name: "blk.2.ffn_up.weight", dims: [256, 1024], type: 16, bytes: (256 * 1024 / 256) * 66 },
  { name: "blk.2.ffn_down.weight", dims: [1024, 256], type: 23, bytes: (1024 * 256 / 256) * 136 },
];

describe("hand-built headers", () => {
  test("every value type, arrays, per-layer arrays and nine tensor types", () => {
    const h = parseGgufHeader(buildGguf({ kv: kvAll, tensors: mixed, alignment: 64 }));
    const m = h.metadata;
    expect([m.get("a.u8"), m.get("a.i8"), m.get("a.u16"), m.get("a.i16"), m.get("a.i32"), m.get("a.f32"), m.get("a.f64"), m.get("a.i64"), m.get("a.bool")])
      .toEqual([200, -5, 60000, -30000, -7, 0.5, 1e-300, -42, false]);
    expect(m.get("a.u64")).toBe(1n << 60n); // beyond 2^53: a bigint
    expect(m.get("a.strings")).toEqual({ kind: "array", of: "string", length: 3, values: ["x", "", "ünï"] });
    expect(m.get("a.bools")).toEqual({ kind: "array", of: "bool", length: 2, values: [true, false] });
    expect(m.get("a.u64s")).toEqual({ kind: "array", of: "u64", length: 2, values: [1, 2] });
    expect(h.alignment).toBe(64);
    expect(h.dataOffset % 64).toBe(0);
    expect(h.architecture).toBe("qwen2");
    expect(h.feedForwardLength).toEqual([512, 768, 1024]);
    expect(h.headCountKv).toEqual([2, 2, 1]);
    expect([h.keyLength, h.valueLength, h.vocabSize, h.contextLength]).toEqual([64, 48, 1000, 32768]);
    expect(h.tensors.map((t) => t.typeName)).toEqual(["Q4_K", "F32", "F16", "BF16", "Q4_0", "Q8_0", "Q6_K", "IQ2_XXS", "IQ4_XS"]);
    for (const [i, t] of h.tensors.entries()) expect(t.bytes).toBe(mixed[i].bytes);
    expect(h.tensorBytes).toBe(mixed.reduce((a, t) => a + t.bytes, 0));
    expect(h.tensors[2].offset).toBe(Math.ceil(mixed[0].bytes / 64) * 64 + 256 * 4);
  });

  test("version 2 reads like 3; long arrays keep only their length", () => {
    const kv: BuildSpec["kv"] = [["big", { t: "array", of: "string", v: Array.from({ length: 50 }, (_, i) => `t${i}`) }], ["nums", { t: "array", of: "f32", v: Array(50).fill(1) }]];
    const h = parseGgufHeader(buildGguf({ version: 2, kv, tensors: [] }), { keepArraysUpTo: 10 });
    expect(h.version).toBe(2);
    expect(h.metadata.get("big")).toEqual({ kind: "array", of: "string", length: 50, values: null });
    expect(h.metadata.get("nums")).toEqual({ kind: "array", of: "f32", length: 50, values: null });
    expect(h.architecture).toBeNull();
    expect(h.blockCount).toBeNull();
    expect(h.splitCount).toBe(1);
  });

  test("the type table: F32 … Q8_K, IQ types, BF16 and the newer ones", () => {
    expect(GGML_TYPES.get(0)).toEqual({ name: "F32", blockSize: 1, typeSize: 4 });
    expect(GGML_TYPES.get(10)).toEqual({ name: "Q2_K", blockSize: 256, typeSize: 84 });
    expect(GGML_TYPES.get(11)?.typeSize).toBe(110);
    expect(GGML_TYPES.get(12)?.typeSize).toBe(144);
    expect(GGML_TYPES.get(13)?.typeSize).toBe(176);
    expect(GGML_TYPES.get(14)?.typeSize).toBe(210);
    expect(GGML_TYPES.get(15)?.typeSize).toBe(292);
    expect(GGML_TYPES.get(29)).toEqual({ name: "IQ1_M", blockSize: 256, typeSize: 56 });
    expect(GGML_TYPES.get(39)).toEqual({ name: "MXFP4", blockSize: 32, typeSize: 17 });
    expect(ggmlTypeBytes(2, [4096, 4096])).toBe(4096 * 4096 / 32 * 18);
    for (const removed of [4, 5, 31, 32, 33, 36, 37, 38]) expect(GGML_TYPES.has(removed)).toBe(false);
  });
});

describe("errors", () => {
  const good = buildGguf({ kv: kvAll, tensors: mixed });

  test("a truncated header: GgufTruncatedError with how much would do, at every cut", () => {
    // The last 32 bytes may be only the padding before the data, which the parser does not read.
    for (const cut of [0, 3, 7, 20, 100, 700, good.length - 33]) {
      const cutOff = good.subarray(0, cut);
      let err: unknown;
      try { parseGgufHeader(cutOff); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(GgufTruncatedError);
      expect((err as GgufTruncatedError).needed).toBeGreaterThan(cutOff.length);
      expect((err as Error).message).toContain("truncated");
    }
  });

  test("a truncated file through readGgufHeader is an error, not an endless grow", async () => {
    const { read } = memoryRead(good.subarray(0, 200));
    await expect(readGgufHeader(read, { initialBytes: 64 })).rejects.toBeInstanceOf(GgufTruncatedError);
  });

  test("the read grows until the header fits, and reads no more than needed", async () => {
    const big = buildGguf({ kv: [...kvAll, ["pad", { t: "string", v: "x".repeat(300_000) }]], tensors: mixed, withData: true });
    const { read, asked } = memoryRead(big);
    const h = await readGgufHeader(read, { initialBytes: 1024 });
    expect(h.tensors.length).toBe(mixed.length);
    expect(asked[0]).toBe(1024);
    expect(asked.length).toBeGreaterThan(1);
    expect(Math.max(...asked)).toBeLessThan(big.length + 2 * 1024 * 1024);
  });

  test("bad magic names what it found", () => {
    expect(() => parseGgufHeader(buildGguf({ magic: "GGML", kv: [], tensors: [] }))).toThrow("not a GGUF file: magic 'GGML'");
    expect(() => parseGgufHeader(new TextEncoder().encode("<html><body>404</body></html>"))).toThrow(GgufError);
  });

  test("versions other than 2 and 3", () => {
    expect(() => parseGgufHeader(buildGguf({ version: 1, kv: [], tensors: [] }))).toThrow("GGUF version 1 is not supported");
    expect(() => parseGgufHeader(buildGguf({ version: 4, kv: [], tensors: [] }))).toThrow("GGUF version 4");
    expect(() => parseGgufHeader(buildGguf({ version: 0x03000000, kv: [], tensors: [] }))).toThrow("big-endian");
  });

  test("an unknown tensor type is an error naming the tensor and the type", () => {
    const bytes = buildGguf({ kv: [], tensors: [{ name: "blk.0.weird", dims: [32, 2], type: 99, bytes: 64 }] });
    expect(() => parseGgufHeader(bytes)).toThrow("tensor 'blk.0.weird' has unknown ggml type 99");
    const removed = buildGguf({ kv: [], tensors: [{ name: "old", dims: [32], type: 4, bytes: 32 }] });
    expect(() => parseGgufHeader(removed)).toThrow("unknown ggml type 4");
  });

  test("a row that is not whole blocks, too many dims, a bad alignment, a duplicate key", () => {
    expect(() => parseGgufHeader(buildGguf({ kv: [], tensors: [{ name: "t", dims: [100, 2], type: 12, bytes: 0 }] }))).toThrow("not a multiple of its block size 256");
    expect(() => parseGgufHeader(buildGguf({ kv: [], tensors: [{ name: "t", dims: [1, 1, 1, 1, 1], type: 0, bytes: 4 }] }))).toThrow("5 dimensions");
    expect(() => parseGgufHeader(buildGguf({ kv: [["general.alignment", { t: "u32", v: 48 }]], tensors: [] }))).toThrow("not a power of 2");
    expect(() => parseGgufHeader(buildGguf({ kv: [["k", { t: "u8", v: 1 }], ["k", { t: "u8", v: 2 }]], tensors: [] }))).toThrow("'k' appears twice");
  });
});
