/**
 * The remembered sizes on disk (placement/memory-state.ts is the format): read once at start,
 * written after each measurement. A missing or damaged file is an empty state and one warning,
 * never a crash; a write goes to a temporary file beside it, then renames over it, so a reader
 * (or a crash mid-write) never sees half a file.
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { emptyMemoryState, parseMemoryState, serializeMemoryState, type MemoryState } from "../placement/memory-state.ts";

/** A read state, and the one warning to log when it had to start empty. */
export interface ReadMemoryState {
  state: MemoryState;
  warning: string | null;
}

/** Read the state file at `path`: missing, unreadable or corrupt → an empty state and a warning. */
export async function readMemoryStateFile(path: string): Promise<ReadMemoryState> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist yet" : `cannot be read (${(err as Error).message})`;
    return { state: emptyMemoryState(), warning: `memory state ${path} ${why}: starting with no remembered sizes` };
  }
  const parsed = parseMemoryState(text);
  if (!parsed.ok) return { state: emptyMemoryState(), warning: `memory state ${path} is damaged (${parsed.error}): starting with no remembered sizes` };
  return { state: parsed.value, warning: null };
}

let sequence = 0;

/**
 * Write `state` to `path` atomically (a temporary file in the same directory, then rename; the
 * directory is created). Never rejects: resolves to null, or to the warning to log when it failed.
 */
export async function writeMemoryStateFile(path: string, state: MemoryState): Promise<string | null> {
  const temp = `${path}.${process.pid}.${++sequence}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temp, serializeMemoryState(state), "utf8");
    await rename(temp, path);
    return null;
  } catch (err) {
    await rm(temp, { force: true }).catch(() => {});
    return `memory state ${path} not saved: ${(err as Error).message}`;
  }
}
