/** A duration written as Go's time.Duration.String writes it ("850µs", "12.345678ms", "1m2.5s"), for llama-swap's access log. */

/** `ns` nanoseconds (rounded to a whole number) as Go's Duration.String renders them. */
export function formatGoDuration(ns: number): string {
  let n = Math.round(Math.abs(ns));
  const sign = ns < 0 && n > 0 ? "-" : "";
  if (n === 0) return "0s";
  if (n < 1_000) return `${sign}${n}ns`;
  if (n < 1_000_000) return `${sign}${fraction(n, 3)}µs`;
  if (n < 1_000_000_000) return `${sign}${fraction(n, 6)}ms`;
  const secondsPart = n % 60_000_000_000;
  n = Math.floor(n / 60_000_000_000);
  const s = `${fraction(secondsPart, 9)}s`;
  if (n === 0) return sign + s;
  const minutes = n % 60;
  const hours = Math.floor(n / 60);
  return hours > 0 ? `${sign}${hours}h${minutes}m${s}` : `${sign}${minutes}m${s}`;
}

/** `v / 10^digits` with the fraction's trailing zeros (and a bare point) dropped. */
function fraction(v: number, digits: number): string {
  const scale = 10 ** digits;
  const whole = Math.floor(v / scale);
  const frac = String(v % scale).padStart(digits, "0").replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : String(whole);
}
