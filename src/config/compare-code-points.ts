/** Go's string order, which llama-swap's model-ID sorts (and so `${PORT}` assignment) follow. */

/** Compares strings by code point (the order Go's sort.Strings gives for UTF-8). */
export function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
