/**
 * Scenario 11, issue 16's targets in one run: non-streamed requests at concurrency 64 and
 * full-speed 2,000-token streams at 64 and 256, through every path taking turns: direct, nginx,
 * the floor (a minimal Bun proxy with the native body: scripts/bench/floor-proxy.ts), switchyard
 * with activity recording on (the default) and off, and, with `--before <path>`, an earlier build
 * the same two ways. Proxy CPU per request and per 1,000 tokens, throughput against direct, and
 * the proxy's RSS during the 256 streams (VmHWM, reset just before them, and VmRSS sampled), with
 * each of issue 16's targets checked against switchyard with activity on.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimulate } from "../backend.ts";
import { ROOT } from "../binary.ts";
import { chatBody, closedLoop } from "../load.ts";
import { startNginx } from "../nginx.ts";
import { freePort } from "../ports.ts";
import { childrenOf, cpuMsOf, memoryOf, resetPeakRss, samplePeak, sumRss } from "../procfs.ts";
import type { BenchContext, ScenarioResult, TargetCheck } from "../scenario.ts";
import { ratio, round } from "../stats.ts";
import { spawnServer, startSwitchyard } from "../switchyard.ts";
import { num, pct, type Table } from "../table.ts";
import { loadModel, oneModelConfig } from "./overhead.ts";
import { complete, streamLoop } from "./stream.ts";

const MODEL = "bench";
const TOKENS = 2000;
// Answers as long as a stream asks for (max_tokens TOKENS); a non-streamed request asks for 16.
const SIM_FLAGS = ["--model", MODEL, "--tps", "0", "--tokens", String(TOKENS)];

/** One measured path. */
export interface Path {
  name: string;
  url: string;
  /** The processes whose CPU and memory count as the proxy's (none for direct). */
  pids(): number[];
  stop(): Promise<void>;
}

/** Per path, summed over rounds. */
interface Tally {
  reqOk: number;
  reqWallMs: number;
  reqCpuMs: number;
  /** The first warm-up's requests and CPU: a fresh process, its JIT still compiling. */
  coldOk: number;
  coldCpuMs: number;
  streams: Record<number, { complete: number; incomplete: number; wallMs: number; cpuMs: number }>;
  rssStartMiB: number;
  /** VmRSS sampled every 20 ms during the 256 streams: the largest sum seen. */
  rssPeakMiB: number;
  /** VmHWM after the 256 streams (reset to VmRSS just before them when the kernel allows). */
  hwmPeakMiB: number;
  /** Whether every VmHWM reset worked (otherwise VmHWM is the peak since the process started). */
  hwmReset: boolean;
}

const cpuOf = (p: Path): number => p.pids().reduce((a, pid) => a + cpuMsOf(pid), 0);
const rssOf = (p: Path): number => sumRss(p.pids());
const hwmOf = (p: Path): number => p.pids().reduce((a, pid) => a + (memoryOf(pid)?.hwmMiB ?? 0), 0);

/** Start the floor proxy in front of `upstream`. */
async function startFloor(upstream: string): Promise<Path> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), "switchyard-bench-floor-"));
  const server = await spawnServer([process.execPath, join(ROOT, "scripts/bench/floor-proxy.ts"), upstream, String(port)], dir, `${url}/health`, 15_000);
  return { name: "floor", url, pids: () => [server.proc.pid], stop: () => server.stop() };
}

/** Start a switchyard build with the scenario's one-model config (activity on or off). */
async function startProxy(name: string, binary: string | undefined, accounting: boolean): Promise<Path> {
  const config = oneModelConfig(SIM_FLAGS) + (accounting ? "" : "activity:\n  disabled: true\n");
  const sy = await startSwitchyard(config, binary);
  await loadModel(sy);
  return { name, url: sy.url, pids: () => [sy.pid], stop: () => sy.stop() };
}

/** Run scenario 11. */
export async function targetsScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const durationMs = ctx.quick ? 1500 : 3000;
  const rounds = ctx.quick ? 1 : 2;
  const warmUpMs = ctx.quick ? 1000 : 5000;
  const streamCounts = [64, 256];
  const backend = await startSimulate(SIM_FLAGS);
  const paths: Path[] = [{ name: "direct", url: backend.url, pids: () => [], stop: async () => {} }];
  try {
    if (ctx.nginx) {
      const ng = await startNginx(ctx.nginx, backend.port);
      paths.push({ name: "nginx", url: ng.url, pids: () => [ng.pid, ...childrenOf(ng.pid)], stop: () => ng.stop() });
    }
    paths.push(await startFloor(backend.url));
    if (ctx.before) {
      paths.push(await startProxy("before", ctx.before, true));
      paths.push(await startProxy("before, accounting off", ctx.before, false));
    }
    paths.push(await startProxy("switchyard", undefined, true));
    paths.push(await startProxy("switchyard, accounting off", undefined, false));

    const tally: Record<string, Tally> = {};
    for (const p of paths) {
      const rss = rssOf(p);
      tally[p.name] = { reqOk: 0, reqWallMs: 0, reqCpuMs: 0, coldOk: 0, coldCpuMs: 0, streams: {}, rssStartMiB: rss, rssPeakMiB: rss, hwmPeakMiB: 0, hwmReset: true };
      for (const c of streamCounts) tally[p.name]!.streams[c] = { complete: 0, incomplete: 0, wallMs: 0, cpuMs: 0 };
    }
    const body = chatBody(MODEL, 16, false);
    const chatUrl = (p: Path): string => `${p.url}/v1/chat/completions`;
    // Measure each server in its steady state, not a process whose JIT is still compiling: over a
    // fresh switchyard's first 20,000 requests JSC's compiler thread alone used about 40 µs of CPU
    // per request, 0-8 µs after (per-thread /proc figures, BENCHMARKS.md, issue 16, fifth round).
    // One long warm-up per path before the rounds, requests then streams; its CPU per request is
    // reported as the fresh-process row.
    for (const p of paths) {
      ctx.progress(`targets: warm-up, ${p.name}`);
      const cpu0 = cpuOf(p);
      const res = await closedLoop({ url: chatUrl(p), body, concurrency: 64, durationMs: warmUpMs });
      tally[p.name]!.coldCpuMs += cpuOf(p) - cpu0;
      tally[p.name]!.coldOk += res.ok;
      await streamLoop(p.url, 64, warmUpMs / 2);
    }
    for (let r = 0; r < rounds; r++) {
      for (const p of paths) {
        const url = chatUrl(p);
        await closedLoop({ url, body, concurrency: 64, durationMs: 300 }); // warm-up
        ctx.progress(`targets: round ${r + 1}/${rounds}, requests at c=64, ${p.name}`);
        const cpu0 = cpuOf(p);
        const res = await closedLoop({ url, body, concurrency: 64, durationMs });
        const t = tally[p.name]!;
        t.reqCpuMs += cpuOf(p) - cpu0;
        t.reqOk += res.ok;
        t.reqWallMs += res.wallMs;
      }
      for (const c of streamCounts) {
        for (const p of paths) {
          await streamLoop(p.url, 8, 0); // warm-up
          ctx.progress(`targets: round ${r + 1}/${rounds}, ${c} streams, ${p.name}`);
          const t = tally[p.name]!;
          if (c === 256) for (const pid of p.pids()) t.hwmReset = resetPeakRss(pid) && t.hwmReset;
          const peak = c === 256 ? samplePeak(() => rssOf(p), 20) : null;
          const cpu0 = cpuOf(p);
          const res = await streamLoop(p.url, c, durationMs);
          const s = t.streams[c]!;
          s.cpuMs += cpuOf(p) - cpu0;
          s.wallMs += res.wallMs;
          s.complete += res.streams.filter(complete).length;
          s.incomplete += res.streams.filter((x) => !complete(x)).length;
          if (peak) {
            t.rssPeakMiB = Math.max(t.rssPeakMiB, peak.stop());
            t.hwmPeakMiB = Math.max(t.hwmPeakMiB, hwmOf(p));
          }
        }
      }
    }

    // Derived figures.
    const rps = (n: string): number => (tally[n]!.reqOk / tally[n]!.reqWallMs) * 1000;
    const usPerReq = (n: string): number => (tally[n]!.reqCpuMs / tally[n]!.reqOk) * 1000;
    const usPerColdReq = (n: string): number => (tally[n]!.coldCpuMs / tally[n]!.coldOk) * 1000;
    const tps = (n: string, c: number): number => ((tally[n]!.streams[c]!.complete * TOKENS) / tally[n]!.streams[c]!.wallMs) * 1000;
    const msPer1k = (n: string, c: number): number => (tally[n]!.streams[c]!.cpuMs / (tally[n]!.streams[c]!.complete * TOKENS)) * 1000;
    /** The 256-stream peak: the larger of VmHWM and the sampled VmRSS (a sample can miss a spike). */
    const peakMiB = (n: string): number => Math.max(tally[n]!.hwmPeakMiB, tally[n]!.rssPeakMiB);
    const names = paths.map((p) => p.name);
    const cell = (n: string, f: (n: string) => number, fmt: (x: number) => string): string => {
      const v = f(n);
      return Number.isFinite(v) ? fmt(v) : "";
    };
    const proxyCell = (n: string, f: (n: string) => number, fmt: (x: number) => string): string => (n === "direct" ? "" : cell(n, f, fmt));
    const us = (x: number): string => `${x.toFixed(0)} µs`;
    const msf = (x: number): string => `${x.toFixed(2)} ms`;
    const mb = (x: number): string => `${x.toFixed(0)} MB`;
    const signedMb = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(0)} MB`;

    // Issue 16's targets, checked against switchyard with activity on.
    const sy = "switchyard";
    const targets: TargetCheck[] = [];
    const checks: { target: string; value: number; unit: string; met: boolean }[] = [];
    const verdict = (target: string, value: number, unit: string, measured: string, met: boolean): string => {
      targets.push({ scenario: "targets", target, measured, met });
      checks.push({ target, value: round(value), unit, met });
      return met ? "yes" : "no";
    };
    const perReq = usPerReq(sy);
    const metPerReq = verdict("proxy CPU per request at c=64 <= 100 µs", perReq, "µs", us(perReq), perReq <= 100);
    const reqRatio = ratio(rps(sy), rps("direct"));
    const metReqRatio = verdict("non-streamed throughput at c=64 >= 40% of direct", reqRatio, "ratio", pct(reqRatio), reqRatio >= 0.4);
    const metPer1k: Record<number, string> = {};
    const metStream: Record<number, string> = {};
    for (const c of streamCounts) {
      const mine = msPer1k(sy, c);
      if (ctx.nginx) {
        const theirs = msPer1k("nginx", c);
        metPer1k[c] = verdict(`proxy CPU per 1,000 tokens at ${c} streams <= nginx's`, mine, "ms", `${msf(mine)} (nginx ${msf(theirs)})`, mine <= theirs);
      } else metPer1k[c] = "n/a";
      const v = ratio(tps(sy, c), tps("direct", c));
      const incomplete = tally[sy]!.streams[c]!.incomplete;
      metStream[c] = verdict(`stream throughput at ${c} streams >= 90% of direct`, v, "ratio", pct(v) + (incomplete ? ` (${incomplete} incomplete)` : ""), v >= 0.9 && incomplete === 0);
    }
    const metRss = verdict("proxy RSS during 256 full-speed streams <= 150 MB", peakMiB(sy), "MiB", mb(peakMiB(sy)), peakMiB(sy) <= 150);

    const table: Table = {
      title: "11. Issue 16's targets: every path in one run, taking turns",
      columns: ["measure", ...names, "target", "met"],
      rows: [
        ["proxy CPU per request, c=64", ...names.map((n) => proxyCell(n, usPerReq, us)), "≤ 100 µs", metPerReq],
        ["  the same, fresh process (warm-up)", ...names.map((n) => proxyCell(n, usPerColdReq, us)), "", ""],
        ["requests/s, c=64", ...names.map((n) => cell(n, rps, (x) => num(x))), "", ""],
        ["  vs direct", ...names.map((n) => (n === "direct" ? "" : pct(ratio(rps(n), rps("direct"))))), "≥ 40 %", metReqRatio],
        ...streamCounts.flatMap((c) => [
          [`proxy CPU per 1,000 tokens, ${c} streams`, ...names.map((n) => proxyCell(n, (x) => msPer1k(x, c), msf)), "≤ nginx", metPer1k[c]!],
          [`tokens/s, ${c} streams`, ...names.map((n) => cell(n, (x) => tps(x, c), (x) => num(x))), "", ""],
          [`  vs direct`, ...names.map((n) => (n === "direct" ? "" : pct(ratio(tps(n, c), tps("direct", c))))), "≥ 90 %", metStream[c]!],
          [`  incomplete streams`, ...names.map((n) => num(tally[n]!.streams[c]!.incomplete)), "0", ""],
        ]),
        ["proxy RSS at start", ...names.map((n) => proxyCell(n, (x) => tally[x]!.rssStartMiB, mb)), "", ""],
        ["proxy RSS peak, 256 streams: VmHWM", ...names.map((n) => proxyCell(n, (x) => tally[x]!.hwmPeakMiB, mb)), "≤ 150 MB", metRss],
        ["  VmRSS sampled, max", ...names.map((n) => proxyCell(n, (x) => tally[x]!.rssPeakMiB, mb)), "", ""],
        ["  growth over start", ...names.map((n) => proxyCell(n, (x) => peakMiB(x) - tally[x]!.rssStartMiB, signedMb)), "", ""],
      ],
      notes: [
        `${rounds} round(s) of ${durationMs / 1000} s per path and measure, after a warm-up of ${warmUpMs / 1000} s of requests and ${warmUpMs / 2000} s of streams per path (its CPU per request is the "fresh process" row); paths take turns; generator, proxies and backend share the machine`,
        "floor: Bun.serve + fetch, the upstream body handed natively to the response (scripts/bench/floor-proxy.ts)",
        "accounting off: `activity: { disabled: true }`; proxy CPU: user+system of the proxy process (nginx: master and worker), from /proc",
        "met: switchyard with activity on (the default) against the target",
        names.every((n) => tally[n]!.hwmReset)
          ? "RSS: VmHWM reset to VmRSS just before the 256 streams, read after; VmRSS sampled every 20 ms; nginx: master and worker summed; growth: the larger peak minus RSS at start"
          : "RSS: VmHWM could not be reset here, so it is the peak since the process started; VmRSS sampled every 20 ms during the 256 streams; nginx: master and worker summed",
      ],
    };
    if (!ctx.nginx) table.notes!.push("nginx: not measured (absent or --no-nginx), so the CPU-per-token targets are not checked");

    const figures: Record<string, unknown> = { durationMs, rounds, hwmReset: names.every((n) => tally[n]!.hwmReset), targets: checks };
    for (const n of names) {
      figures[n] = {
        proxyCpuUsPerRequest: round(usPerReq(n), 1),
        rps: round(rps(n), 0),
        rpsRatioToDirect: round(ratio(rps(n), rps("direct"))),
        ...Object.fromEntries(
          streamCounts.map((c) => [
            `streams${c}`,
            { proxyCpuMsPer1kTokens: round(msPer1k(n, c)), tokensPerSec: round(tps(n, c), 0), ratioToDirect: round(ratio(tps(n, c), tps("direct", c))), incomplete: tally[n]!.streams[c]!.incomplete },
          ]),
        ),
        rssStartMiB: round(tally[n]!.rssStartMiB, 1),
        rssPeakMiB256: round(tally[n]!.rssPeakMiB, 1),
        hwmPeakMiB256: round(tally[n]!.hwmPeakMiB, 1),
        rssGrowthMiB256: round(peakMiB(n) - tally[n]!.rssStartMiB, 1),
      };
    }
    return { name: "targets", tables: [table], figures, targets };
  } finally {
    for (const p of paths.reverse()) await p.stop().catch(() => {});
    await backend.stop();
  }
}
