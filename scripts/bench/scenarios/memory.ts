/**
 * Scenario 5, memory and start-up. RSS of the switchyard process (not its backends) from
 * /proc/<pid>/status: idle after a first request has loaded its model, then the peak while 256
 * live streams paced at 20 tokens/s run through it (counted in flight by /running), then the peak
 * during rounds of 256 2,000-token streams at full speed;
 * VmHWM is the kernel's own high-water mark. Start-up: spawn of the binary to its first 200 on
 * /health, polled every millisecond, over several runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY } from "../binary.ts";
import { childEnv, stopChild, track } from "../children.ts";
import { sleep } from "../clock.ts";
import { chatBody, countSse, postChat } from "../load.ts";
import { freePort, freePorts } from "../ports.ts";
import { sampleRss } from "../procfs.ts";
import type { BenchContext, ScenarioResult, TargetCheck } from "../scenario.ts";
import { round, roundSummary, summarize } from "../stats.ts";
import { startSwitchyard } from "../switchyard.ts";
import { ms, type Table } from "../table.ts";
import { oneModelConfig } from "./overhead.ts";

/** Spawn the binary with a one-model config and time spawn -> first /health 200 (ms). */
async function startupOnce(dir: string): Promise<number> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}/health`;
  const t0 = performance.now();
  const proc = Bun.spawn([BINARY, "--config", "config.yaml", "--listen", `127.0.0.1:${port}`], { cwd: dir, env: childEnv(), stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  track(proc);
  let elapsed = NaN;
  while (performance.now() - t0 < 10_000 && proc.exitCode === null) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.status === 200) {
        elapsed = performance.now() - t0;
        break;
      }
    } catch {}
    await sleep(1);
  }
  await stopChild(proc, "SIGTERM", 5_000);
  if (Number.isNaN(elapsed)) throw new Error("switchyard did not answer /health within 10 s");
  return elapsed;
}

/** Run scenario 5. */
export async function memoryScenario(ctx: BenchContext): Promise<ScenarioResult> {
  const targets: TargetCheck[] = [];
  const streams = 256;

  const sy = await startSwitchyard(`startPort: ${freePorts(2)}
logToStdout: proxy
models:
  fast:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model fast --tps 0 --tokens 2000
    concurrencyLimit: 1000
  paced:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model paced --tps 20 --tokens 2000
    concurrencyLimit: 1000
`);
  let idle = NaN;
  let peakFast = NaN;
  let peakLive = NaN;
  let hwm = NaN;
  let live = 0;
  try {
    const warm = await postChat(sy.url, chatBody("paced", 1, false));
    await warm.arrayBuffer();
    await sleep(1000);
    idle = sy.memory()?.rssMiB ?? NaN;
    // First 256 live streams from a backend pacing each at 20 tokens/s (they would last 100 s),
    // read as they come, counted in flight by /running, then cancelled by the client. Before the
    // full-speed part, whose buffers would otherwise still inflate the RSS.
    ctx.progress(`memory: ${streams} live paced streams`);
    const rss = sampleRss(sy.pid, 20);
    let stopping = false;
    const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
    const reading = Array.from({ length: streams }, async () => {
      try {
        const reader = (await postChat(sy.url, chatBody("paced", 2000, true))).body!.getReader();
        readers.push(reader);
        while (!stopping && !(await reader.read()).done);
      } catch {}
    });
    const deadline = performance.now() + 15_000;
    while (performance.now() < deadline) {
      const running = (await (await fetch(`${sy.url}/running`)).json()) as { running: { inFlight: number }[] };
      live = running.running.reduce((a, m) => a + m.inFlight, 0);
      if (live >= streams) break;
      await sleep(50);
    }
    await sleep(ctx.quick ? 1000 : 3000);
    peakLive = rss.stop();
    // Cancelling the body is what closes the connection (aborting the fetch's signal after the
    // headers did not stop Bun's body reads here).
    stopping = true;
    await Promise.all(readers.map((r) => r.cancel().catch(() => {})));
    await Promise.all(reading);
    ctx.progress(`memory: ${streams} full-speed streams`);
    const rssFast = sampleRss(sy.pid, 20);
    for (let r = 0; r < (ctx.quick ? 1 : 3); r++) {
      await Promise.all(Array.from({ length: streams }, async () => countSse(await postChat(sy.url, chatBody("fast", 2000, true)), 0)));
    }
    peakFast = rssFast.stop();
    hwm = sy.memory()?.hwmMiB ?? NaN;
  } finally {
    await sy.stop();
  }

  ctx.progress("memory: start-up runs");
  const dir = mkdtempSync(join(tmpdir(), "switchyard-bench-start-"));
  writeFileSync(join(dir, "config.yaml"), oneModelConfig(["--model", "bench"]));
  const starts: number[] = [];
  try {
    for (let i = 0; i < (ctx.quick ? 3 : 10); i++) starts.push(await startupOnce(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const st = summarize(starts);
  const table: Table = {
    title: "5. Memory and start-up (switchyard process only)",
    columns: ["measure", "value"],
    rows: [
      ["RSS idle, model loaded (MiB)", idle.toFixed(1)],
      [`RSS peak, ${streams} live paced streams (MiB; ${live} in flight)`, peakLive.toFixed(1)],
      [`RSS peak, ${streams} full-speed streams (MiB)`, peakFast.toFixed(1)],
      ["VmHWM, whole run (MiB)", hwm.toFixed(1)],
      [`start -> first /health 200, p50 of ${st.n} (ms)`, ms(st.p50)],
      [`start -> first /health 200, max of ${st.n} (ms)`, ms(st.max)],
    ],
  };
  targets.push({ scenario: "memory", target: "proxy RSS <= 120 MB with 256 live streams", measured: `${(peakLive * 1.048576).toFixed(1)} MB (${peakLive.toFixed(1)} MiB), ${live} live`, met: peakLive * 1.048576 <= 120 && live >= streams });
  targets.push({ scenario: "memory", target: "start to /health <= 300 ms", measured: `p50 ${ms(st.p50)} ms, max ${ms(st.max)} ms`, met: st.p50 <= 300 });
  return {
    name: "memory",
    tables: [table],
    figures: { rssIdleMiB: round(idle, 1), rssPeakFullSpeedMiB: round(peakFast, 1), rssPeakLiveMiB: round(peakLive, 1), liveStreams: live, vmHwmMiB: round(hwm, 1), startupMs: roundSummary(st) },
    targets,
  };
}
