/** Process memory from /proc/<pid>/status (Linux). */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

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

/** Reset a process's VmHWM to its current VmRSS (`5` to /proc/<pid>/clear_refs, Linux 4.0+); false when not allowed or gone. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** Samples `read()` (MiB) now, every `everyMs` and at `stop()`, which reports the largest finite value seen (NaN if none). */
export function samplePeak(read: () => number, everyMs: number): { stop(): number } {
  let peak = NaN;
  const sample = (): void => {
    const v = read();
    if (Number.isFinite(v) && !(v <= peak)) peak = v;
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/** Samples a process's VmRSS every `everyMs` until stopped; reports the largest value seen. */
export function sampleRss(pid: number, everyMs = 50): { stop(): number } {
  return samplePeak(() => memoryOf(pid)?.rssMiB ?? NaN, everyMs);
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

/** Every descendant of a process (children of all its threads, recursively); empty when it is gone. */
export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number): void => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let kids: string;
      try {
        kids = readFileSync(`/proc/${p}/task/${t}/children`, "utf8");
      } catch {
        continue;
      }
      for (const k of kids.trim().split(/\s+/).filter(Boolean).map(Number)) {
        out.push(k);
        walk(k);
      }
    }
  };
  walk(pid);
  return out;
}

/** Samples the summed VmRSS of a process's descendants (not the process itself) every `everyMs`; reports the peak in MiB. */
export function sampleTreeRss(pid: number, everyMs = 100): { stop(): number } {
  return samplePeak(() => sumRss(descendantsOf(pid)), everyMs);
}

/** The summed VmRSS of `pids` in MiB (gone ones count 0). */
export function sumRss(pids: readonly number[]): number {
  let sum = 0;
  for (const p of pids) {
    const rss = memoryOf(p)?.rssMiB;
    if (rss !== undefined && Number.isFinite(rss)) sum += rss;
  }
  return sum;
}

/** CPU time (ms) a process and every descendant have used, reaped children included (utime + stime + cutime + cstime of each). */
export function treeCpuMs(pid: number): number {
  let sum = 0;
  for (const p of [pid, ...descendantsOf(pid)]) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      sum += ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / clockTicks();
    } catch {}
  }
  return sum;
}

/** Busy CPU time of the whole machine so far (ms, all cores: /proc/stat less idle and iowait). */
export function machineBusyMs(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
  return (busy * 1000) / clockTicks();
}
