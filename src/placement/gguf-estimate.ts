/**
 * A first guess of what a llama.cpp model needs, before it has ever been loaded: weights (the
 * GGUF header's tensor bytes) + KV cache + a compute-buffer allowance + a process allowance, split
 * between the GPU and the CPU by `-ngl`. The settings come from the model's llama-server argv (and
 * its LLAMA_ARG_* environment, which the command line overrides), read as llama.cpp reads them:
 *
 * - **Context** (`-c/--ctx-size N`): N > 0 is the total context, shared by the slots (`-np` does
 *   not multiply it). Absent or 0 means "from the model": recent llama-server (with `--fit on`,
 *   its default) then sizes the cache for `n_ctx_train × n_parallel` (n_parallel = `-np`, 4 when
 *   auto); with `--fit off` it is `n_ctx_train`. `--kv-unified-per-slot N` without `-c` is
 *   `n_parallel × N`. llama.cpp pads the cache to a multiple of 256 cells; so do we. `--fit` may
 *   shrink a context that does not fit; the guess is the figure before that.
 * - **KV cache**: for each layer, n_ctx × (n_embd_k_gqa + n_embd_v_gqa) × the cache type's bytes per
 *   element (`-ctk/--cache-type-k`, `-ctv/--cache-type-v`, f16 by default); n_embd_k_gqa =
 *   key_length (else n_embd / n_head) × head_count_kv of that layer. Sliding-window layers and
 *   recurrent state are not modelled (an over-estimate for SWA models).
 * - **Compute buffer**: an allowance of n_ubatch × 4 × (n_vocab + n_embd + 4·n_ff) bytes plus the
 *   attention mask (n_ubatch × n_ctx × 2, or × 4 plus the n_head score matrices without flash
 *   attention). Fitted to llama-server's own "compute buffer size" lines on the test models; on
 *   big vocabularies it errs high.
 * - **GPU vs CPU** (`-ngl/--n-gpu-layers N|auto|all`; absent = auto, which offloads everything
 *   when it fits, so we assume everything): llama.cpp offloads the last N of the n_layer + 1 layers,
 *   the output layer (output.weight, output_norm) first; the input embedding stays on the CPU. A
 *   layer's KV cache follows it unless `-nkvo`. The compute buffer sits on the GPU when any layer
 *   is there (the CPU keeps a small host buffer), else on the CPU. When the model runs on no GPU
 *   (`onGpu: false`), everything is CPU.
 *
 * Web-standard; the file reading is cli/gguf-guess.ts.
 */
import type { Bytes, Need } from "./types.ts";
import type { GgufHeader, PerLayer } from "./gguf-header.ts";

const MiB = 1024 * 1024;

/** Process allowance on the CPU: llama-server's own code and heap (≈ 17 MiB RSS with a 0.5 MB model). */
export const CPU_PROCESS_ALLOWANCE: Bytes = 16 * MiB;
/** Per-GPU allowance for the runtime's context (CUDA/ROCm); not yet measured here, a common figure. */
export const GPU_CONTEXT_ALLOWANCE: Bytes = 512 * MiB;

/** KV cache element sizes (bytes per element) of llama-server's allowed cache types. */
export const KV_CACHE_TYPES: Readonly<Record<string, number>> = {
  f32: 4,
  f16: 2,
  bf16: 2,
  q8_0: 34 / 32,
  q4_0: 18 / 32,
  q4_1: 20 / 32,
  iq4_nl: 18 / 32,
  q5_0: 22 / 32,
  q5_1: 24 / 32,
};

/** The llama-server settings that change memory, as read from argv and env. */
export interface LlamaServerSettings {
  /** `-c`; null or 0 = from the model. */
  ctxSize: number | null;
  /** `-np`; null = auto (-1). */
  parallel: number | null;
  cacheTypeK: string;
  cacheTypeV: string;
  /** `-ngl`: a layer count, or "auto"/"all" (absent = auto). */
  gpuLayers: number | "auto" | "all";
  batch: number;
  ubatch: number;
  flashAttn: "on" | "off" | "auto";
  /** `--fit on|off` (default on). */
  fit: boolean;
  /** `-kvo`/`-nkvo` (default on). */
  kvOffload: boolean;
  /** `--kv-unified-per-slot N`, or null. */
  kvUnifiedPerSlot: number | null;
}

/** Where a model's weights come from, per its argv. */
export type GgufModelRef =
  | { kind: "file"; path: string; /** Other GGUF files it loads (`--mmproj`, `--model-draft`): their weights count too. */ extra: string[] }
  | { kind: "remote"; flag: string; ref: string }
  | { kind: "none"; reason: string };

type Env = Readonly<Record<string, string | undefined>>;

/** Flags that take a value, by every spelling we read, mapped to one name (and the LLAMA_ARG_* variable). */
const VALUE_FLAGS: Readonly<Record<string, string>> = {
  "-m": "model", "--model": "model",
  "-c": "ctx", "--ctx-size": "ctx",
  "-np": "parallel", "--parallel": "parallel",
  "-ctk": "ctk", "--cache-type-k": "ctk",
  "-ctv": "ctv", "--cache-type-v": "ctv",
  "-ngl": "ngl", "--gpu-layers": "ngl", "--n-gpu-layers": "ngl",
  "-b": "batch", "--batch-size": "batch",
  "-ub": "ubatch", "--ubatch-size": "ubatch",
  "--kv-unified-per-slot": "perSlot",
  "-hf": "remote", "-hfr": "remote", "--hf-repo": "remote",
  "-mu": "remote", "--model-url": "remote",
  "-dr": "remote", "--docker-repo": "remote",
  "-mm": "mmproj", "--mmproj": "mmproj",
  "-md": "draft", "--model-draft": "draft", "--spec-draft-model": "draft",
  "--models-dir": "router", "--models-preset": "router",
};

const ENV_NAMES: Readonly<Record<string, string>> = {
  model: "LLAMA_ARG_MODEL",
  ctx: "LLAMA_ARG_CTX_SIZE",
  parallel: "LLAMA_ARG_N_PARALLEL",
  ctk: "LLAMA_ARG_CACHE_TYPE_K",
  ctv: "LLAMA_ARG_CACHE_TYPE_V",
  ngl: "LLAMA_ARG_N_GPU_LAYERS",
  batch: "LLAMA_ARG_BATCH",
  ubatch: "LLAMA_ARG_UBATCH",
  perSlot: "LLAMA_ARG_KV_UNIFIED_PER_SLOT",
  remote: "LLAMA_ARG_HF_REPO",
  mmproj: "LLAMA_ARG_MMPROJ",
  fa: "LLAMA_ARG_FLASH_ATTN",
  fit: "LLAMA_ARG_FIT",
  kvo: "LLAMA_ARG_KV_OFFLOAD",
};

/** The flags of argv by name, env first and the command line over it (as llama.cpp does); the last spelling wins. */
function readFlags(argv: readonly string[], env: Env): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, variable] of Object.entries(ENV_NAMES)) {
    const v = env[variable];
    if (v !== undefined && v !== "") out.set(name, v);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const name = VALUE_FLAGS[arg];
    if (name !== undefined) {
      const v = argv[i + 1];
      if (v !== undefined) out.set(name, v);
      i++;
      continue;
    }
    if (arg === "-fa" || arg === "--flash-attn") {
      // `-fa on|off|auto` now; a bare `-fa` (older releases) meant on.
      const v = argv[i + 1];
      if (v !== undefined && /^(on|off|auto|true|false|1|0|enabled|disabled)$/i.test(v)) { out.set("fa", v); i++; }
      else out.set("fa", "on");
    } else if (arg === "-fit" || arg === "--fit") {
      const v = argv[i + 1];
      if (v !== undefined && /^(on|off)$/i.test(v)) { out.set("fit", v); i++; }
      else out.set("fit", "on");
    } else if (arg === "-nkvo" || arg === "--no-kv-offload") out.set("kvo", "off");
    else if (arg === "-kvo" || arg === "--kv-offload") out.set("kvo", "on");
  }
  return out;
}

const int = (v: string | undefined): number | null => (v !== undefined && /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : null);
const isOff = (v: string | undefined): boolean => v !== undefined && /^(off|false|0|disabled)$/i.test(v);

/** The memory-relevant llama-server settings of a model's argv (and its environment). */
export function llamaServerSettings(argv: readonly string[], env: Env = {}): LlamaServerSettings {
  const f = readFlags(argv, env);
  const ngl = f.get("ngl");
  const nglNumber = int(ngl);
  const fa = f.get("fa");
  const ctx = int(f.get("ctx"));
  const parallel = int(f.get("parallel"));
  return {
    ctxSize: ctx !== null && ctx > 0 ? ctx : null,
    parallel: parallel !== null && parallel > 0 ? parallel : null,
    cacheTypeK: (f.get("ctk") ?? "f16").toLowerCase(),
    cacheTypeV: (f.get("ctv") ?? "f16").toLowerCase(),
    gpuLayers: nglNumber !== null && nglNumber >= 0 ? nglNumber : ngl?.toLowerCase() === "all" || (nglNumber !== null && nglNumber < 0) ? "all" : "auto",
    batch: int(f.get("batch")) ?? 2048,
    ubatch: int(f.get("ubatch")) ?? 512,
    flashAttn: fa === undefined || /^auto$/i.test(fa) ? "auto" : isOff(fa) ? "off" : "on",
    fit: !isOff(f.get("fit")),
    kvOffload: !isOff(f.get("kvo")),
    kvUnifiedPerSlot: int(f.get("perSlot")),
  };
}

/** The GGUF file a model's argv loads (`-m/--model`, a path ending in .gguf), or why there is none: `-hf`/`-mu`/`-dr` name a remote model whose local copy we cannot know, so no guess. */
export function findGgufInArgv(argv: readonly string[], env: Env = {}): GgufModelRef {
  const f = readFlags(argv, env);
  const model = f.get("model");
  const remote = argv.findIndex((a) => VALUE_FLAGS[a] === "remote");
  if (model === undefined) {
    if (remote >= 0) return { kind: "remote", flag: argv[remote], ref: argv[remote + 1] ?? "" };
    const fromEnv = f.get("remote");
    if (fromEnv !== undefined) return { kind: "remote", flag: ENV_NAMES.remote, ref: fromEnv };
    if (f.has("router")) return { kind: "none", reason: "a llama-server router (--models-dir / --models-preset) loads its models itself" };
    return { kind: "none", reason: "no -m/--model in the command" };
  }
  if (!/\.gguf$/i.test(model)) return { kind: "none", reason: `-m ${model} is not a .gguf path` };
  const extra = [f.get("mmproj"), f.get("draft")].filter((p): p is string => p !== undefined && /\.gguf$/i.test(p));
  return { kind: "file", path: model, extra };
}

/** The guess, part by part, and its split between the GPU(s) and the CPU. */
export interface GgufEstimate {
  weights: Bytes;
  kvCache: Bytes;
  compute: Bytes;
  /** Process (and GPU context) allowances. */
  overhead: Bytes;
  /** weights + kvCache + compute + overhead. */
  total: Bytes;
  /** The GPU share (all GPUs together); 0 on the CPU. */
  gpu: Bytes;
  /** The CPU (system RAM) share. */
  cpu: Bytes;
  /** KV cache cells (the context, padded to 256). */
  ctx: number;
  /** Layers offloaded, of blockCount + 1 (the output layer counts as one). */
  gpuLayers: number;
  /** Assumptions made on the way (a missing key, an unknown cache type). */
  notes: string[];
}

/** Options of estimateGguf. */
export interface GgufEstimateOptions {
  /** Whether the model runs on a GPU (a CPU-only build or host: false). */
  onGpu: boolean;
  /** Tensor bytes of the other files it loads (--mmproj, --model-draft); they follow the GPU when offloading. */
  extraWeights?: Bytes;
}

const layerValue = (v: PerLayer | null, il: number): number | null => (v === null ? null : typeof v === "number" ? v : (v[il] ?? null));
const maxOf = (v: PerLayer | null): number | null => (v === null ? null : typeof v === "number" ? v : v.length === 0 ? null : Math.max(...v));
const pad = (n: number, to: number): number => Math.ceil(n / to) * to;

/** The context (KV cells) llama-server will allocate for this model with these settings; see the module comment. */
export function contextCells(header: GgufHeader, s: LlamaServerSettings, notes: string[] = []): number {
  let trained = header.contextLength;
  if (trained === null || trained <= 0) {
    trained = 4096;
    notes.push("no context_length in the model: assumed 4096");
  }
  const nSeq = s.parallel ?? 4;
  let ctx: number;
  if (s.ctxSize !== null) ctx = s.ctxSize;
  else if (s.kvUnifiedPerSlot !== null && s.kvUnifiedPerSlot > 0) ctx = nSeq * s.kvUnifiedPerSlot;
  else ctx = s.fit ? trained * nSeq : trained;
  return pad(ctx, 256);
}

function cacheBytes(type: string, side: "K" | "V", notes: string[]): number {
  const b = KV_CACHE_TYPES[type];
  if (b !== undefined) return b;
  notes.push(`unknown ${side} cache type '${type}': assumed f16`);
  return 2;
}

/** Which layer a tensor belongs to: a block index, "output", or "input" (the token embedding). */
function tensorLayer(name: string): number | "output" | "input" {
  const m = /^blk\.(\d+)\./.exec(name);
  if (m) return Number(m[1]);
  if (name.startsWith("token_embd") || name.startsWith("token_types") || name.startsWith("position_embd")) return "input";
  return "output";
}

/** The first guess for a GGUF model with these llama-server settings. */
export function estimateGguf(header: GgufHeader, s: LlamaServerSettings, options: GgufEstimateOptions): GgufEstimate {
  const notes: string[] = [];
  const nLayer = header.blockCount ?? 0;
  if (header.blockCount === null) notes.push("no block_count in the model: KV cache not counted");
  const nEmbd = header.embeddingLength ?? 0;
  const ctx = contextCells(header, s, notes);

  // Layers offloaded: the last `ngl` of nLayer + 1 (the output layer is index nLayer).
  const ngl = !options.onGpu ? 0 : s.gpuLayers === "auto" || s.gpuLayers === "all" ? nLayer + 1 : Math.min(s.gpuLayers, nLayer + 1);
  const gpuStart = nLayer + 1 - ngl;
  const onGpu = (il: number): boolean => ngl > 0 && il >= gpuStart;

  // Weights by where their layer sits.
  let gpuWeights = 0;
  let cpuWeights = 0;
  let hasOutput = false;
  let inputBytes = 0;
  for (const t of header.tensors) {
    const layer = tensorLayer(t.name);
    if (t.name === "output.weight") hasOutput = true;
    if (layer === "input") { cpuWeights += t.bytes; inputBytes += t.bytes; }
    else if (onGpu(layer === "output" ? nLayer : layer)) gpuWeights += t.bytes;
    else cpuWeights += t.bytes;
  }
  // Tied embeddings: no output.weight, so llama.cpp copies token_embd to the output layer's device.
  if (!hasOutput && onGpu(nLayer)) gpuWeights += inputBytes;
  const extra = options.extraWeights ?? 0;
  if (ngl > 0) gpuWeights += extra;
  else cpuWeights += extra;

  // KV cache per layer.
  const kB = cacheBytes(s.cacheTypeK, "K", notes);
  const vB = cacheBytes(s.cacheTypeV, "V", notes);
  let gpuKv = 0;
  let cpuKv = 0;
  for (let il = 0; il < nLayer; il++) {
    const nHead = layerValue(header.headCount, il) ?? 0;
    const nHeadKv = layerValue(header.headCountKv, il) ?? nHead;
    const headK = header.keyLength ?? (nHead > 0 ? nEmbd / nHead : 0);
    const headV = header.valueLength ?? (nHead > 0 ? nEmbd / nHead : 0);
    const bytes = ctx * (headK * nHeadKv * kB + headV * nHeadKv * vB);
    if (onGpu(il) && s.kvOffload) gpuKv += bytes;
    else cpuKv += bytes;
  }

  // Compute buffer allowance.
  const ubatch = Math.min(s.ubatch, s.batch, ctx);
  const nVocab = header.vocabSize ?? 0;
  const nFf = maxOf(header.feedForwardLength) ?? 4 * nEmbd;
  const quantV = s.cacheTypeV !== "f16" && s.cacheTypeV !== "f32" && s.cacheTypeV !== "bf16";
  const flash = s.flashAttn !== "off" || quantV;
  const nHeadMax = maxOf(header.headCount) ?? 0;
  const compute = ubatch * 4 * (nVocab + nEmbd + 4 * nFf) + ubatch * ctx * (flash ? 2 : 4) + (flash ? 0 : ubatch * ctx * nHeadMax * 4);
  // Fully offloaded, the CPU keeps a small host buffer (inputs and outputs of the graph).
  const hostCompute = ubatch * 4 * 3 * nEmbd;
  const gpuCompute = ngl > 0 ? compute : 0;
  const cpuCompute = ngl === 0 ? compute : ngl >= nLayer + 1 ? hostCompute : compute;

  const gpuOverhead = ngl > 0 ? GPU_CONTEXT_ALLOWANCE : 0;
  const gpu = gpuWeights + gpuKv + gpuCompute + gpuOverhead;
  const cpu = cpuWeights + cpuKv + cpuCompute + CPU_PROCESS_ALLOWANCE;
  const round = Math.ceil;
  return {
    weights: round(gpuWeights + cpuWeights),
    kvCache: round(gpuKv + cpuKv),
    compute: round(gpuCompute + cpuCompute),
    overhead: gpuOverhead + CPU_PROCESS_ALLOWANCE,
    total: round(gpu) + round(cpu),
    gpu: round(gpu),
    cpu: round(cpu),
    ctx,
    gpuLayers: ngl,
    notes,
  };
}

/** The estimate as a guessed Need: its GPU share split evenly over `gpuIds` (device ids), the CPU share on "cpu"; with no GPU ids, the whole total on "cpu". */
export function needFromEstimate(estimate: GgufEstimate, gpuIds: readonly string[]): Need {
  const perDevice: Record<string, Bytes> = {};
  if (gpuIds.length === 0 || estimate.gpu === 0) {
    perDevice.cpu = estimate.total;
  } else {
    const each = Math.ceil(estimate.gpu / gpuIds.length);
    for (const id of gpuIds) perDevice[id] = each;
    if (estimate.cpu > 0) perDevice.cpu = estimate.cpu;
  }
  return { perDevice, source: "guessed" };
}
