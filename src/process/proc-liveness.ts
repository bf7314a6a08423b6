/**
 * Is a process, or a process group, still alive? `kill(pid, 0)` alone is not enough: a zombie
 * answers it, and in containers whose PID 1 does not reap orphans (this project's CI sandbox is
 * one), a dead grandchild stays a zombie forever. So on Linux we confirm through /proc that some
 * member is in a state other than Z (zombie) or X (dead).
 */
import { readdirSync, readFileSync } from "node:fs";

const hasProc = (() => {
  try {
    readFileSync("/proc/self/stat", "latin1");
    return true;
  } catch {
    return false;
  }
})();

/** State letter and process group of a pid from /proc/<pid>/stat, or null when it is gone. */
function readStat(pid: number): { state: string; pgrp: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return null;
  }
  // Format: "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: rest[0] ?? "", pgrp: Number(rest[2]) };
}

const isLiveState = (state: string) => state !== "Z" && state !== "X" && state !== "x" && state !== "";

/** Whether `kill(target, 0)` finds someone (ESRCH means no). */
function signalReaches(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether pid runs (and is not a zombie). */
export function isPidAlive(pid: number): boolean {
  if (!signalReaches(pid)) return false;
  if (!hasProc) return true;
  const st = readStat(pid);
  return st !== null && isLiveState(st.state);
}

/** Whether any non-zombie process is in process group `pgid`. */
export function isGroupAlive(pgid: number): boolean {
  if (!signalReaches(-pgid)) return false;
  if (!hasProc) return true;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return true;
  }
  for (const name of entries) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const st = readStat(Number(name));
    if (st && st.pgrp === pgid && isLiveState(st.state)) return true;
  }
  return false;
}
