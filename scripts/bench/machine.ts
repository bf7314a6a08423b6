/** What the benchmark ran on: CPU, cores, memory, OS, Bun, load. */
import { readFileSync } from "node:fs";
import os from "node:os";

/** Machine description stored with every result. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memGiB: number;
  os: string;
  kernel: string;
  bun: string;
  /** 1, 5 and 15 minute load averages when the run started. */
  loadAtStart: number[];
}

function osName(): string {
  try {
    const text = readFileSync("/etc/os-release", "utf8");
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text);
    if (m) return m[1]!;
  } catch {}
  return `${os.type()} ${os.release()}`;
}

/** Describe this machine. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: osName(),
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    bun: Bun.version,
    loadAtStart: loadAverage(),
  };
}

/** 1, 5 and 15 minute load averages, two decimals. */
export function loadAverage(): number[] {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}
