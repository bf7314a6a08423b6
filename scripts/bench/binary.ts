/** dist/switchyard: built when missing or older than the sources, then reused. */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

/** The repository root. */
export const ROOT = resolve(import.meta.dir, "../..");
/** The repository's own build. */
export const DEFAULT_BINARY = join(ROOT, "dist", "switchyard");
/** The compiled binary the benchmark measures (a live binding: --binary replaces it). */
export let BINARY = DEFAULT_BINARY;

/** Measure another build (e.g. a patched copy, to compare before and after a change). */
export function useBinary(path: string): void {
  BINARY = resolve(path);
}

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let n = 0;
  for (const e of readdirSync(path)) n = Math.max(n, newest(join(path, e)));
  return n;
}

/** True when dist/switchyard exists and is newer than src/ and package.json. */
export function binaryIsFresh(): boolean {
  if (!existsSync(DEFAULT_BINARY)) return false;
  const built = statSync(DEFAULT_BINARY).mtimeMs;
  return built > newest(join(ROOT, "src")) && built > statSync(join(ROOT, "package.json")).mtimeMs;
}

/** Build dist/switchyard unless an up-to-date one exists (or another binary was chosen); returns whether it built. */
export async function ensureBinary(): Promise<boolean> {
  if (BINARY !== DEFAULT_BINARY) {
    if (!existsSync(BINARY)) throw new Error(`--binary ${BINARY}: no such file`);
    return false;
  }
  if (binaryIsFresh()) return false;
  console.log("building dist/switchyard (missing or older than src/) ...");
  const proc = Bun.spawn([process.execPath, "scripts/build.ts"], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`build failed (exit ${code})`);
  return true;
}
