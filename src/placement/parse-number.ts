/** A number from one field of a tool's output (nvidia-smi, rocm-smi, /proc). Web-standard. */

/** A number from a tool's field; null for "", N/A, [N/A], [Not Supported] and anything else not numeric. */
export function parseNumber(text: string | undefined): number | null {
  const t = (text ?? "").trim();
  if (t === "" || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}
