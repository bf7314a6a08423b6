/** Inflating a compressed answer for its counts: every encoding a backend or peer may send, a cut stream as far as it goes, garbage as null. */
import { expect, test } from "bun:test";
import zlib from "node:zlib";
import { decompressBody } from "../../src/cli/decompress.ts";

const text = '{"choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":42,"completion_tokens":17}}';
const bytes = new TextEncoder().encode(text);
const back = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

test("gzip, deflate (zlib-wrapped and raw), br and zstd inflate to the text", () => {
  expect(back(decompressBody("gzip", zlib.gzipSync(bytes)))).toBe(text);
  expect(back(decompressBody("x-gzip", zlib.gzipSync(bytes)))).toBe(text);
  expect(back(decompressBody("deflate", zlib.deflateSync(bytes)))).toBe(text);
  expect(back(decompressBody("deflate", zlib.deflateRawSync(bytes)))).toBe(text);
  expect(back(decompressBody("br", zlib.brotliCompressSync(bytes)))).toBe(text);
  expect(back(decompressBody("zstd", (zlib as unknown as { zstdCompressSync: (b: Uint8Array) => Uint8Array }).zstdCompressSync(bytes)))).toBe(text);
});

test("a cut gzip stream inflates as far as it goes; garbage and unknown encodings are null", () => {
  const long = new TextEncoder().encode("data: x\n\n".repeat(2000) + text);
  const gz = zlib.gzipSync(long);
  const cut = back(decompressBody("gzip", gz.subarray(0, gz.length - 10)));
  expect(cut !== null && long.length - cut.length < 100).toBe(true);
  expect(decompressBody("gzip", new TextEncoder().encode("not gzip"))).toBeNull();
  expect(decompressBody("compress", bytes)).toBeNull();
});
