/**
 * The simulator's memory flags: `--memory-mb` allocates and touches real memory (RSS) and holds it
 * until exit; `--gpu-mb` only declares GPU memory, written where a fake nvidia-smi reads it
 * (test/fixtures/fake-nvidia-smi.ts): one file `<dir>/<pid>` holding `<pid> <mb> <gpu>`, written
 * before the simulator turns healthy, so a reader never has to wait for it.
 */
import { unlinkSync, writeFileSync } from "node:fs";

/** Environment variable naming the directory that --gpu-mb declarations are written to. */
export const SIMULATE_GPU_DIR_ENV = "SWITCHYARD_SIMULATE_GPU_DIR";

const MIB = 1024 * 1024;
const CHUNK_MB = 64;
/** What --memory-mb holds, referenced until exit so it is never collected. */
const held: Uint8Array[] = [];

/** Allocate `mb` MiB in chunks and write every page of it (so it is resident, not just reserved); returns the MiB held. */
export function holdMemory(mb: number): number {
  for (let left = mb; left > 0; left -= CHUNK_MB) {
    const chunk = new Uint8Array(Math.min(left, CHUNK_MB) * MIB);
    chunk.fill(0xa5);
    held.push(chunk);
  }
  return held.reduce((s, c) => s + c.length, 0) / MIB;
}

/**
 * Declare `mb` MiB on the first GPU of CUDA_VISIBLE_DEVICES (an index or a `GPU-…` UUID; else
 * "0"): with SWITCHYARD_SIMULATE_GPU_DIR set, write `<pid> <mb> <gpu>` to `<dir>/<pid>` (removed
 * on a normal exit; a fake nvidia-smi ignores files of dead pids). Returns a line for the log.
 */
export function declareGpuMemory(mb: number, env: Record<string, string | undefined>): string {
  const gpu = (env.CUDA_VISIBLE_DEVICES ?? "").split(",")[0]?.trim() || "0";
  const dir = env[SIMULATE_GPU_DIR_ENV];
  if (!dir) return `declaring ${mb} MiB on GPU ${gpu} (${SIMULATE_GPU_DIR_ENV} unset: nothing reports it)`;
  const file = `${dir}/${process.pid}`;
  writeFileSync(file, `${process.pid} ${mb} ${gpu}\n`);
  process.on("exit", () => {
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  });
  return `declaring ${mb} MiB on GPU ${gpu} in ${file}`;
}
