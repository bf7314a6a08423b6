/**
 * How close the GGUF first guess (src/cli/gguf-guess.ts) is to what llama-server really holds:
 * for each test model (test/fixtures/gguf.ts) and command line, start the cached llama-server
 * (scripts/llama-server.ts) on the CPU, wait until /health answers, read its VmRSS
 * (/proc/<pid>/status), send one short completion and read it again, stop it, and print the guess
 * beside both. A script, not a test: RSS counts the mmapped weights only while their pages are
 * resident, so a machine under memory pressure reads lower, and no tolerance would be robust.
 *
 *   node_modules/.bin/bun scripts/gguf-guess.ts
 */
import { readFileSync } from "node:fs";
import { guessGgufNeed } from "../src/cli/gguf-guess.ts";
import { tinyModel } from "../test/fixtures/gguf.ts";
import { BUILD_HINT, findLlamaServer } from "./llama-server.ts";
import { freePort } from "./bench/ports.ts";
import { formatTable } from "./bench/table.ts";

const MiB = 1024 * 1024;

const CASES: { size: "tiny" | "bench"; args: string[] }[] = [
  { size: "tiny", args: [] },
  { size: "tiny", args: ["-c", "2048", "-np", "4"] },
  { size: "bench", args: [] },
  { size: "bench", args: ["-c", "2048", "-np", "4"] },
  { size: "bench", args: ["-c", "512", "-np", "1"] },
  { size: "bench", args: ["-c", "4096", "-fa", "off"] },
  { size: "bench", args: ["-c", "2048", "-ctk", "q8_0", "-ctv", "q8_0"] },
];

function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

async function measure(bin: string, argv: string[]): Promise<{ ready: number; afterRequest: number }> {
  const port = freePort();
  const child = Bun.spawn([...argv, "--host", "127.0.0.1", "--port", String(port)], { stdout: "ignore", stderr: "ignore" });
  try {
    const url = `http://127.0.0.1:${port}`;
    const healthy = async () => {
      if (child.exitCode !== null) throw new Error(`${bin} exited with ${child.exitCode}`);
      return fetch(`${url}/health`).then((r) => r.ok, () => false);
    };
    await until(healthy, 60_000, "llama-server /health");
    const ready = rssBytes(child.pid);
    const r = await fetch(`${url}/completion`, { method: "POST", body: JSON.stringify({ prompt: "Hello there", n_predict: 4 }) });
    await r.text();
    return { ready, afterRequest: rssBytes(child.pid) };
  } finally {
    child.kill("SIGTERM");
    await child.exited;
  }
}

const bin = findLlamaServer();
if (!bin) {
  console.error(`no llama-server here; build it with ${BUILD_HINT}`);
  process.exit(1);
}
const fmt = (b: number) => (b / MiB).toFixed(1);
const pct = (guess: number, real: number) => `${guess >= real ? "+" : ""}${(((guess - real) / real) * 100).toFixed(1)}%`;
const rows: string[][] = [];
for (const c of CASES) {
  const argv = [bin, "-m", tinyModel({ size: c.size }), "-t", "1", "--no-warmup", ...c.args];
  const g = await guessGgufNeed(argv);
  if (g.estimate === null) throw new Error(g.reason);
  const e = g.estimate;
  const m = await measure(bin, argv);
  rows.push([
    `${c.size} ${c.args.join(" ") || "(defaults)"}`,
    String(e.ctx), fmt(e.weights), fmt(e.kvCache), fmt(e.compute), fmt(e.total),
    fmt(m.ready), pct(e.total, m.ready), fmt(m.afterRequest), pct(e.total, m.afterRequest),
  ]);
}
console.log(formatTable({
  title: "GGUF first guess vs llama-server RSS (CPU, MiB)",
  columns: ["model and flags", "ctx", "weights", "KV", "compute", "guess", "RSS ready", "guess±", "RSS after 1 req", "guess±"],
  rows,
  notes: [`llama-server: ${bin.replace(process.env.HOME ?? "\u0000", "~")}, -t 1 --no-warmup; RSS = VmRSS (mmapped weights count once touched)`],
}));
