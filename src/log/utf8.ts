/**
 * UTF-8 byte arithmetic on JS strings without encoding them, so the log ring can count bytes
 * on every write cheaply. Lone surrogates count as 3 bytes (what TextEncoder emits for them: U+FFFD).
 */

const NON_ASCII = /[^\x00-\x7f]/;

/** Number of bytes `text` takes in UTF-8. */
export function utf8Length(text: string): number {
  // Log lines are nearly always ASCII: the native regex scan is several times cheaper than the loop.
  if (!NON_ASCII.test(text)) return text.length;
  let bytes = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** The longest suffix of `text` that fits in `maxBytes` UTF-8 bytes, never splitting a character. */
export function utf8Tail(text: string, maxBytes: number): string {
  let bytes = 0;
  let i = text.length;
  while (i > 0) {
    const c = text.charCodeAt(i - 1);
    let width: number;
    let units = 1;
    if (c < 0x80) width = 1;
    else if (c < 0x800) width = 2;
    else if (c >= 0xdc00 && c <= 0xdfff && i >= 2) {
      const h = text.charCodeAt(i - 2);
      if (h >= 0xd800 && h <= 0xdbff) {
        width = 4;
        units = 2;
      } else width = 3;
    } else width = 3;
    if (bytes + width > maxBytes) break;
    bytes += width;
    i -= units;
  }
  return text.slice(i);
}
