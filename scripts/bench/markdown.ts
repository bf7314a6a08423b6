/**
 * Print the tables of a results file as Markdown, for BENCHMARKS.md.
 * Usage: bun scripts/bench/markdown.ts [bench/results.json]
 */
import { readFileSync } from "node:fs";
import type { TargetCheck } from "./scenario.ts";
import { markdownTable, type Table } from "./table.ts";

interface Results {
  date: string;
  command: string;
  machine: { cpu: string; cores: number; memGiB: number; os: string; bun: string; loadAtStart: number[]; loadAtEnd: number[] };
  nginx: string;
  totalSec: number;
  targets: TargetCheck[];
  scenarios: Record<string, { tables: Table[] }>;
}

/** Markdown for a whole results file. */
export function resultsMarkdown(r: Results): string {
  const m = r.machine;
  const out = [
    `Command: \`${r.command}\` (${r.totalSec} s), ${r.date.slice(0, 16).replace("T", " ")} UTC.`,
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, ${m.os}, Bun ${m.bun}; load average ${m.loadAtStart.join(" ")} at the start, ${m.loadAtEnd.join(" ")} at the end; nginx ${r.nginx}.`,
    "",
  ];
  for (const s of Object.values(r.scenarios)) for (const t of s.tables) out.push(markdownTable(t), "");
  if (r.targets.length) {
    out.push(
      markdownTable({ title: "Targets", columns: ["target", "measured", "met"], rows: r.targets.map((t) => [t.target, t.measured, t.met ? "yes" : "**no**"]) }),
      "",
    );
  }
  return out.join("\n");
}

if (import.meta.main) {
  const file = process.argv[2] ?? "bench/results.json";
  console.log(resultsMarkdown(JSON.parse(readFileSync(file, "utf8")) as Results));
}
