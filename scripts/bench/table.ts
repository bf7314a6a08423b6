/** Plain-text tables for stdout and Markdown tables for BENCHMARKS.md. */

/** A titled table of already formatted cells. */
export interface Table {
  title: string;
  columns: string[];
  rows: string[][];
  /** Lines printed under the table (method notes, skipped parts). */
  notes?: string[];
}

/** Render a table as aligned text (numbers right-aligned, first column left-aligned). */
export function formatTable(t: Table): string {
  const widths = t.columns.map((c, i) => Math.max(c.length, ...t.rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  const out = [t.title, line(t.columns), widths.map((w) => "-".repeat(w)).join("  "), ...t.rows.map(line)];
  for (const n of t.notes ?? []) out.push(`  ${n}`);
  return out.join("\n");
}

/** Render a table as GitHub Markdown. */
export function markdownTable(t: Table): string {
  const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const out = [`**${t.title}**`, "", row(t.columns), row(t.columns.map((_, i) => (i === 0 ? "---" : "---:"))), ...t.rows.map(row)];
  if (t.notes?.length) out.push("", ...t.notes.map((n) => `- ${n}`));
  return out.join("\n");
}

/** Format milliseconds: 3 decimals below 1 ms, 2 below 100, none above. */
export function ms(x: number): string {
  if (!Number.isFinite(x)) return "-";
  const a = Math.abs(x);
  return a < 1 ? x.toFixed(3) : a < 100 ? x.toFixed(2) : x.toFixed(0);
}

/** Format a count or rate with thousands separators. */
export function num(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return "-";
  return x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Format a ratio as a percentage. */
export function pct(x: number): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : "-";
}

/** Format a signed added latency ("+0.12"). */
export function added(x: number): string {
  if (!Number.isFinite(x)) return "-";
  return (x >= 0 ? "+" : "") + ms(x);
}
