/**
 * Replaying a seeded trace of streamed chat completions against real llama-server backends, shared
 * by scenario 6 (llama.ts) and scenario 9 (fit.ts): the alternating trace, switchyard's config for
 * llama-server models, the replay by keep-alive clients, rounds of systems taking turns (each
 * started fresh), the peak RSS of the model processes during a round, and the per-system figures.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { streamChat, type ChatOutcome } from "./chat-stream.ts";
import { sleep } from "./clock.ts";
import type { LineLog } from "./lines.ts";
import { machineBusyMs, sampleTreeRss, treeCpuMs } from "./procfs.ts";
import { summarize, type Summary } from "./stats.ts";
import { ms, num } from "./table.ts";
import { prng, type TraceRequest } from "./trace.ts";

/** A request's deadline in a replay: a stuck stream fails, it does not hang the bench. */
export const REQUEST_TIMEOUT_MS = 180_000;

/** Shape of the alternating trace. */
export interface AltTraceOptions {
  seed: number;
  /** The model ids; client c starts on models[c mod length]. */
  models: string[];
  clients: number;
  /** Requests in all, dealt to the clients in turn. */
  requests: number;
  /** Chance that a client's next request is for another model (picked uniformly among the others). */
  switchChance: number;
  thinkMs: [number, number];
  maxTokens: number;
}

/** Per client: the first request on models[client mod n], each next one switching model with `switchChance`. */
export function buildAltTrace(o: AltTraceOptions): TraceRequest[][] {
  const rnd = prng(o.seed);
  const between = (lo: number, hi: number) => Math.round(lo + rnd() * (hi - lo));
  const out: TraceRequest[][] = Array.from({ length: o.clients }, () => []);
  for (let i = 0; i < o.requests; i++) {
    const client = out[i % o.clients]!;
    const prev = client[client.length - 1];
    let model: string;
    if (!prev) model = o.models[(i % o.clients) % o.models.length]!;
    else if (rnd() < o.switchChance) {
      const others = o.models.filter((m) => m !== prev.model);
      // With two models there is one other: no draw, so a two-model trace keeps its old sequence.
      model = others.length === 1 ? others[0]! : others[Math.min(others.length - 1, Math.floor(rnd() * others.length))]!;
    } else model = prev.model;
    client.push({ model, maxTokens: o.maxTokens, thinkMs: between(o.thinkMs[0], o.thinkMs[1]) });
  }
  return out;
}

/** Requests per model in a trace. */
export function traceMix(trace: TraceRequest[][]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of trace.flat()) out[r.model] = (out[r.model] ?? 0) + 1;
  return out;
}

/** Quote a word for switchyard's POSIX-style cmd splitting. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_/.,:=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The `models:` entries of a switchyard config that start `bin -m <gguf> ... childArgs` per id. */
export function llamaModelsYaml(bin: string, ggufs: Record<string, string>, childArgs: string[]): string {
  return Object.entries(ggufs)
    .map(([id, path]) => {
      const cmd = [bin, "-m", path, "--host", "127.0.0.1", "--port", "${PORT}", ...childArgs].map((w) => (w === "${PORT}" ? w : shellWord(w))).join(" ");
      return `  ${id}:\n    cmd: ${JSON.stringify(cmd)}\n`;
    })
    .join("");
}

/** A switchyard config over llama-server models; `extra` is YAML put before `models:` (e.g. `routing:`). */
export function llamaSwitchyardConfig(bin: string, ggufs: Record<string, string>, childArgs: string[], startPort: number, extra = ""): string {
  return `startPort: ${startPort}
logToStdout: proxy
sendLoadingState: false
healthCheckTimeout: 120
${extra}models:
${llamaModelsYaml(bin, ggufs, childArgs)}`;
}

/** Read a file once so that the first round does not pay for a cold page cache. */
export function warmPageCache(path: string): void {
  const fd = openSync(path, "r");
  const buf = new Uint8Array(8 << 20);
  try {
    while (readSync(fd, buf) > 0) {}
  } finally {
    closeSync(fd);
  }
}

/** Replay the trace against `url`: each client sends its requests one after another. */
export async function replay(url: string, trace: TraceRequest[][]): Promise<{ outcomes: ChatOutcome[]; wallMs: number }> {
  const outcomes: ChatOutcome[] = [];
  const t0 = performance.now();
  await Promise.all(
    trace.map(async (requests) => {
      for (const r of requests) {
        await sleep(r.thinkMs);
        outcomes.push(await streamChat(url, r.model, r.maxTokens, REQUEST_TIMEOUT_MS));
      }
    }),
  );
  return { outcomes, wallMs: performance.now() - t0 };
}

/** A started system under test. */
export interface RunningSystem {
  url: string;
  /** The proxy's or router's pid: its descendants are the model processes. */
  pid: number;
  /** Its output, line by line. */
  log: LineLog;
  /** Model loads so far. */
  loads(): number;
  stop(): Promise<void>;
}

/** A system under test, started fresh for each round. */
export interface BenchSystem {
  name: string;
  start(): Promise<RunningSystem>;
}

/** One round of one system. */
export interface RoundResult {
  system: string;
  round: number;
  wallMs: number;
  loads: number;
  outcomes: ChatOutcome[];
  /** Peak of the summed VmRSS of the system's descendants (the model processes), sampled every 100 ms. */
  peakModelRssMiB: number;
  /**
   * CPU seconds that neither the bench nor the system under test used during the replay (the
   * machine's busy time from /proc/stat less both): other work on a shared machine, which slows a
   * round down several times over on 2 cores.
   */
  otherCpuS: number;
  /** The system's output during the round. */
  log: LineLog;
}

/** CPU (ms) of this process and of the system under test's tree, and of the whole machine. */
function cpuSnapshot(pid: number): { ours: number; machine: number } {
  const self = process.cpuUsage();
  return { ours: (self.user + self.system) / 1000 + treeCpuMs(pid), machine: machineBusyMs() };
}

/** `rounds` rounds, the systems taking turns in each, each started fresh and stopped after the trace. */
export async function runRounds(label: string, systems: BenchSystem[], trace: TraceRequest[][], rounds: number, progress: (m: string) => void): Promise<RoundResult[]> {
  const results: RoundResult[] = [];
  const requests = trace.reduce((a, c) => a + c.length, 0);
  for (let k = 1; k <= rounds; k++) {
    for (const s of systems) {
      progress(`${label}: round ${k}/${rounds}, ${s.name}: ${requests} requests`);
      const sut = await s.start();
      try {
        const rss = sampleTreeRss(sut.pid, 100);
        const cpu0 = cpuSnapshot(sut.pid);
        const { outcomes, wallMs } = await replay(sut.url, trace);
        const cpu1 = cpuSnapshot(sut.pid);
        const peakModelRssMiB = rss.stop();
        const otherCpuS = Math.max(0, cpu1.machine - cpu0.machine - (cpu1.ours - cpu0.ours)) / 1000;
        const r: RoundResult = { system: s.name, round: k, wallMs, loads: sut.loads(), outcomes, peakModelRssMiB, otherCpuS, log: sut.log };
        results.push(r);
        progress(
          `${label}: ${s.name} ${(wallMs / 1000).toFixed(1)} s, ${failedOf(outcomes)} failed, ${r.loads} loads, peak model RSS ${peakModelRssMiB.toFixed(0)} MiB, other work ${otherCpuS.toFixed(1)} CPU s`,
        );
      } finally {
        await sut.stop();
      }
    }
  }
  return results;
}

/** The successful outcomes. */
export const okOf = (os: ChatOutcome[]): ChatOutcome[] => os.filter((o) => o.failure === undefined);
/** Latency (request sent → end of body) over the successful outcomes. */
export const latencyOf = (os: ChatOutcome[]): Summary => summarize(okOf(os).map((o) => o.latencyMs));
/** Time to first token over the successful outcomes that had one. */
export const ttftOf = (os: ChatOutcome[]): Summary => summarize(okOf(os).map((o) => o.ttftMs).filter(Number.isFinite));
/** How many failed. */
export const failedOf = (os: ChatOutcome[]): number => os.length - okOf(os).length;

/** The cells requests, failed, swaps, wall s, latency p50/p95, TTFT p50/p95. */
export function outcomeCells(os: ChatOutcome[], loads: number, wallMs: number): string[] {
  const l = latencyOf(os);
  const t = ttftOf(os);
  return [num(os.length), num(failedOf(os)), num(loads), (wallMs / 1000).toFixed(2), ms(l.p50), ms(l.p95), ms(t.p50), ms(t.p95)];
}

/** The column names matching outcomeCells, after the label's. */
export const OUTCOME_COLUMNS = ["requests", "failed", "swaps", "wall s", "latency p50 ms", "latency p95 ms", "TTFT p50 ms", "TTFT p95 ms"];

/** "<system> failure, 3x: <message>" lines for the distinct failures of a system (5 at most). */
export function failureNotes(system: string, os: ChatOutcome[]): string[] {
  const counts = new Map<string, number>();
  for (const o of os) if (o.failure !== undefined) counts.set(o.failure, (counts.get(o.failure) ?? 0) + 1);
  return [...counts].slice(0, 5).map(([msg, n]) => `${system} failure, ${n}x: ${msg}`);
}
