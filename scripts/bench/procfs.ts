/** Process memory from /proc/<pid>/status (Linux). */
import { readFileSync } from "node:fs";

/** Resident set size now and its high-water mark, in MiB. */
export interface Memory {
  rssMiB: number;
  hwmMiB: number;
}

/** Read VmRSS and VmHWM of a process; null when it is gone or /proc is absent. */
export function memoryOf(pid: number): Memory | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
  return { rssMiB: kb("VmRSS") / 1024, hwmMiB: kb("VmHWM") / 1024 };
}

/** Samples VmRSS every `everyMs` until stopped; reports the largest value seen. */
export function sampleRss(pid: number, everyMs = 50): { stop(): number } {
  let peak = memoryOf(pid)?.rssMiB ?? NaN;
  const timer = setInterval(() => {
    const m = memoryOf(pid);
    if (m && !(m.rssMiB <= peak)) peak = m.rssMiB;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const m = memoryOf(pid);
      if (m && !(m.rssMiB <= peak)) peak = m.rssMiB;
      return peak;
    },
  };
}

let ticksPerSec = 0;
function clockTicks(): number {
  if (ticksPerSec === 0) {
    const out = Bun.spawnSync(["getconf", "CLK_TCK"], { stdout: "pipe", stderr: "ignore" });
    ticksPerSec = Number(out.stdout.toString().trim()) || 100;
  }
  return ticksPerSec;
}

/** User + system CPU time a process has used so far (ms); NaN when it is gone. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the command: state(0) ppid(1) ... utime(11) stime(12), in clock ticks.
    return ((Number(f[11]) + Number(f[12])) * 1000) / clockTicks();
  } catch {
    return NaN;
  }
}

/** Direct children of a process (e.g. nginx's workers). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
