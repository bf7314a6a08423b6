/**
 * The first guess of a model's memory from its GGUF file, before the first load (the edge half of
 * placement/gguf-estimate.ts): find the file in the model's argv, read only its head from disk
 * (Bun.file(...).slice, grown while the header is longer), and estimate. A split model
 * (`name-00001-of-00003.gguf`) has each part's header read and their tensors summed; `--mmproj` and
 * `--model-draft` files add their weights. Anything that stops the guess (a remote `-hf` model, a
 * missing or broken file) is a null estimate with the reason.
 */
import { resolve } from "node:path";
import { readGgufHeader, type GgufHeader, type GgufRead } from "../placement/gguf-header.ts";
import { estimateGguf, findGgufInArgv, llamaServerSettings, needFromEstimate, type GgufEstimate } from "../placement/gguf-estimate.ts";
import type { Need } from "../placement/types.ts";

/** A guess, or null and why there is none. */
export type GgufGuess =
  | { estimate: GgufEstimate; need: Need; path: string; header: GgufHeader; reason: null }
  | { estimate: null; need: null; path: string | null; header: null; reason: string };

/** Inputs of guessGgufNeed. */
export interface GgufGuessOptions {
  /** The model's extra environment (its LLAMA_ARG_* settings count; the command line wins). */
  env?: Readonly<Record<string, string | undefined>>;
  /** GPU device ids the model would run on; empty = the CPU. */
  gpuIds?: readonly string[];
  /** Relative paths are taken from here (default: the process's working directory). */
  cwd?: string;
}

/** A GgufRead over a file on disk: each call reads one slice, never the whole file. */
export function fileRead(path: string): GgufRead {
  const file = Bun.file(path);
  return async (offset, length) => new Uint8Array(await file.slice(offset, offset + length).arrayBuffer());
}

/** The header of a GGUF file on disk, reading only its head. */
export async function readGgufHeaderFile(path: string): Promise<GgufHeader> {
  const file = Bun.file(path);
  if (!(await file.exists())) throw new Error(`${path} does not exist`);
  return readGgufHeader(fileRead(path));
}

const SPLIT = /-(\d{5})-of-(\d{5})\.gguf$/i;

/** The header of a model, its split parts' tensors merged in (all parts must be there). */
async function modelHeader(path: string): Promise<GgufHeader> {
  const first = await readGgufHeaderFile(path);
  const m = SPLIT.exec(path);
  if (first.splitCount <= 1 || !m) return first;
  const count = first.splitCount;
  const tensors = [...first.tensors];
  let tensorBytes = first.tensorBytes;
  for (let i = 1; i <= count; i++) {
    const part = path.replace(SPLIT, `-${String(i).padStart(5, "0")}-of-${String(count).padStart(5, "0")}.gguf`);
    if (part === path) continue;
    const h = await readGgufHeaderFile(part);
    tensors.push(...h.tensors);
    tensorBytes += h.tensorBytes;
  }
  return { ...first, tensors, tensorBytes };
}

/** Guess what the model started by `argv` needs, from its GGUF header; null with a reason when it cannot. */
export async function guessGgufNeed(argv: readonly string[], options: GgufGuessOptions = {}): Promise<GgufGuess> {
  const env = options.env ?? {};
  const ref = findGgufInArgv(argv, env);
  const none = (path: string | null, reason: string): GgufGuess => ({ estimate: null, need: null, path, header: null, reason });
  if (ref.kind === "remote") return none(null, `the model comes from ${ref.flag} ${ref.ref}: no local file to read`);
  if (ref.kind === "none") return none(null, ref.reason);
  const base = options.cwd ?? process.cwd();
  const path = resolve(base, ref.path);
  try {
    const header = await modelHeader(path);
    let extraWeights = 0;
    for (const p of ref.extra) extraWeights += (await readGgufHeaderFile(resolve(base, p))).tensorBytes;
    const gpuIds = options.gpuIds ?? [];
    const estimate = estimateGguf(header, llamaServerSettings(argv, env), { onGpu: gpuIds.length > 0, extraWeights });
    return { estimate, need: needFromEstimate(estimate, gpuIds), path, header, reason: null };
  } catch (err) {
    return none(path, `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

