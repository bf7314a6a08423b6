/**
 * Issue 16 experiment (not part of `npm run bench`): proxy CPU per streamed token when tokens come
 * one at a time, as they do from a GPU, instead of at the simulator's full speed (where an answer
 * arrives in two or three big reads and per-token figures are mostly copying). 64 streams of
 * 200-token answers at 200 tokens/s each (12,800 tokens/s in all), 64 of warm-up, then 192, through
 * nginx (when installed), the floor (native body), the minimal proxy with a pull-wrapped body
 * (body-paths-proxy.ts pull, what track-body.ts is at its simplest), and switchyard with activity
 * on and off; two rounds in turns.
 * Usage: bun paced-streams.ts [--binary <dist/switchyard>] [--rounds 2]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimulate, type Backend } from "../backend.ts";
import { BINARY, ROOT, useBinary } from "../binary.ts";
import { findNginx, startNginx } from "../nginx.ts";
import { freePort } from "../ports.ts";
import { childrenOf, cpuMsOf } from "../procfs.ts";
import { spawnServer, startSwitchyard } from "../switchyard.ts";
import { loadModel, oneModelConfig } from "../scenarios/overhead.ts";
import type { Path } from "../scenarios/targets.ts";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
if (opt("--binary")) useBinary(opt("--binary")!);
const rounds = Number(opt("--rounds") ?? 2);
const FLAGS = ["--model", "bench", "--tps", "200", "--tokens", "200"];
const STREAMS = 192;
const CONCURRENCY = 64;

async function minimal(mode: "native" | "pull", backend: Backend): Promise<Path> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const script = mode === "native" ? "scripts/bench/floor-proxy.ts" : "scripts/bench/experiments/body-paths-proxy.ts";
  const argv = mode === "native" ? [process.execPath, join(ROOT, script), backend.url, String(port)] : [process.execPath, join(ROOT, script), "pull", backend.url, String(port)];
  // body-paths-proxy has no /health of its own: it proxies the backend's.
  const server = await spawnServer(argv, mkdtempSync(join(tmpdir(), "switchyard-bench-paced-")), `${url}/health`, 15_000);
  return { name: mode === "native" ? "floor (native body)" : "minimal proxy, pull body", url, pids: () => [server.proc.pid], stop: () => server.stop() };
}

async function switchyard(accounting: boolean): Promise<Path> {
  const sy = await startSwitchyard(oneModelConfig(FLAGS) + (accounting ? "" : "activity:\n  disabled: true\n"), BINARY);
  await loadModel(sy);
  return { name: accounting ? "switchyard" : "switchyard, accounting off", url: sy.url, pids: () => [sy.pid], stop: () => sy.stop() };
}

/** `n` streamed answers, `CONCURRENCY` at a time; throws unless each ends with [DONE]. */
async function streams(url: string, n: number): Promise<void> {
  const body = JSON.stringify({ model: "bench", stream: true, max_tokens: 200, messages: [{ role: "user", content: "hi" }] });
  let started = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (started++ < n) {
        const res = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
        const text = await res.text();
        if (!text.includes("[DONE]")) throw new Error(`incomplete stream from ${url}`);
      }
    }),
  );
}

const backend = await startSimulate(FLAGS);
const nginxBin = findNginx();
const paths: Path[] = [];
try {
  if (nginxBin) {
    const n = await startNginx(nginxBin, backend.port);
    paths.push({ name: "nginx", url: n.url, pids: () => [n.pid, ...childrenOf(n.pid)], stop: () => n.stop() });
  }
  paths.push(await minimal("native", backend), await minimal("pull", backend), await switchyard(true), await switchyard(false));
  for (const p of paths) await streams(p.url, CONCURRENCY);
  for (let r = 1; r <= rounds; r++) {
    for (const p of paths) {
      const cpu = (): number => p.pids().reduce((a, pid) => a + cpuMsOf(pid), 0);
      const before = cpu();
      await streams(p.url, STREAMS);
      const perToken = ((cpu() - before) * 1000) / (STREAMS * 200);
      console.log(JSON.stringify({ round: r, path: p.name, cpuUsPerToken: Math.round(perToken * 10) / 10 }));
    }
  }
} finally {
  for (const p of paths) await p.stop();
  await backend.stop();
}
