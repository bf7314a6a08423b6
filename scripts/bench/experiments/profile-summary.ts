/**
 * Issue 16 experiment (not part of `npm run bench`): summarise a `bun --cpu-prof` profile. Prints
 * the functions with the most samples of their own (self), the functions of `src/` with the most
 * samples under them (inclusive), and, with `--under <name file:line prefix>`, what the samples
 * under one function are spent on. Usage:
 *   bun profile-summary.ts <file.cpuprofile> [--top 40] [--under "onRequest src/router/scheduler-core.ts"]
 * Only the JavaScript thread is profiled: the HTTP client, GC and JIT threads are not in it
 * (BENCHMARKS.md, issue 16's fifth round, gives them per thread).
 */

/** The parts of a V8-style `.cpuprofile` that Bun writes and this script reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  startTime: number;
  endTime: number;
}

const args = process.argv.slice(2);
const file = args[0];
if (!file) throw new Error("usage: bun profile-summary.ts <file.cpuprofile> [--top N] [--under <prefix>]");
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const top = Number(opt("--top") ?? 40);
const under = opt("--under");

const profile = (await Bun.file(file).json()) as CpuProfile;
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const perNode = new Map<number, number>();
for (const s of profile.samples) perNode.set(s, (perNode.get(s) ?? 0) + 1);
const total = profile.samples.length;

/** "name path:line", the path from `src/` or `node_modules/` on (native frames have none). */
const keyOf = (id: number): string => {
  const f = nodes.get(id)!.callFrame;
  return `${f.functionName || "(anonymous)"} ${f.url.replace(/.*\/(src|node_modules)\//, "$1/")}:${f.lineNumber + 1}`;
};
/** The frames from a sampled node up to the root. */
function* stack(id: number): Generator<number> {
  for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) yield x;
}
const add = (m: Map<string, number>, k: string, c: number): void => void m.set(k, (m.get(k) ?? 0) + c);
const pct = (c: number): string => ((100 * c) / total).toFixed(1).padStart(5);
const print = (title: string, m: Map<string, number>, keep: (k: string) => boolean = () => true): void => {
  console.log(`--- ${title}`);
  for (const [k, c] of [...m].filter(([k]) => keep(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(c)} %  ${k}`);
};

console.log(`${total} samples over ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s`);
if (under !== undefined) {
  const self = new Map<string, number>();
  let n = 0;
  for (const [id, c] of perNode) {
    if (![...stack(id)].some((x) => keyOf(x).startsWith(under))) continue;
    n += c;
    add(self, keyOf(id), c);
  }
  console.log(`${pct(n)} %  under ${under}`);
  print("self, under it", self);
} else {
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, c] of perNode) {
    add(self, keyOf(id), c);
    // A recursive function counts once per sample.
    for (const k of new Set([...stack(id)].map(keyOf))) add(inclusive, k, c);
  }
  print("self", self);
  print("inclusive, src/ only", inclusive, (k) => k.includes(" src/"));
}
export {};
