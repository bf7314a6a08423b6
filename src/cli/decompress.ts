/**
 * Inflating a compressed answer for the activity log's token counts and captures (the proxy itself
 * passes compressed bytes through untouched): gzip, deflate, br and zstd through node:zlib, which
 * Bun implements natively. A cut stream inflates as far as it goes (sync flush); anything it
 * cannot read is null. An edge: the observe core takes it as `decompress`.
 */
import zlib from "node:zlib";

/** Inflate `bytes` sent with `content-encoding: encoding`; null for an unknown encoding or bad data. */
export function decompressBody(encoding: string, bytes: Uint8Array): Uint8Array | null {
  const partial = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
  try {
    switch (encoding) {
      case "gzip":
      case "x-gzip":
        return zlib.gunzipSync(bytes, partial);
      case "deflate":
        // RFC 9110's deflate is zlib-wrapped; some servers send it raw.
        try {
          return zlib.inflateSync(bytes, partial);
        } catch {
          return zlib.inflateRawSync(bytes, partial);
        }
      case "br":
        return zlib.brotliDecompressSync(bytes);
      case "zstd": {
        const z = zlib as unknown as { zstdDecompressSync?: (b: Uint8Array) => Uint8Array };
        return z.zstdDecompressSync ? z.zstdDecompressSync(bytes) : null;
      }
      default:
        return null;
    }
  } catch {
    return null;
  }
}
