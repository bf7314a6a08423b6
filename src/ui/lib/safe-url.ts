/**
 * URLs an answer hands the page (an image's src, a Download link's href) are a backend's text: a
 * `javascript:` one would run in switchyard's page, where the API key sits. Only these pass.
 */

/** `url` resolved against `base` when it is http:, https:, blob: or a data:image/ URL; null for anything else. */
export function safeMediaUrl(url: string, base: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url, base);
  } catch {
    return null;
  }
  if (parsed.protocol === "http:" || parsed.protocol === "https:" || parsed.protocol === "blob:") return parsed.href;
  if (parsed.protocol === "data:" && /^image\//i.test(parsed.pathname)) return parsed.href;
  return null;
}

/** A content type a same-origin blob: URL may carry: audio or video as sent, anything else (an HTML page, a script) as bytes to save. */
export function mediaBlobType(type: string, kinds: readonly string[] = ["audio", "video"]): string {
  const main = type.split(";")[0]!.trim().toLowerCase();
  return kinds.some((k) => main.startsWith(`${k}/`)) ? type : "application/octet-stream";
}
