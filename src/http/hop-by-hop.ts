/**
 * Hop-by-hop header hygiene for the proxy (RFC 9110 §7.6.1).
 * `transfer-encoding` must go too: Elysia re-streams a returned chunked Response through a
 * non-streaming TextDecoder, which corrupts UTF-8 split across chunks (docs/runtime-notes.md#elysia-chunked).
 */

/** Headers that describe one connection, never the message. */
export const HOP_BY_HOP: readonly string[] = [
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

/** Whether the body these headers describe is compressed (a `content-encoding` other than identity). */
export function isCompressed(headers: Headers): boolean {
  const ce = headers.get("content-encoding")?.trim().toLowerCase() ?? "";
  return ce !== "" && ce !== "identity";
}

/** A copy of `headers` without hop-by-hop headers, including those the `Connection` header lists. */
export function stripHopByHop(headers: Headers): Headers {
  const out = new Headers(headers);
  for (const name of headers.get("connection")?.split(",") ?? []) {
    const n = name.trim().toLowerCase();
    if (n) out.delete(n);
  }
  for (const name of HOP_BY_HOP) out.delete(name);
  return out;
}
