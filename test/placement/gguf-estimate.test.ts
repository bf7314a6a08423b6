/**
 * The first guess from a GGUF header: llama-server's settings read from argv and env, the context
 * rule (-c, the trained context × slots, --fit off, padding), the KV cache with GQA, per-layer
 * heads and cache types, the -ngl split between GPU and CPU, tied embeddings, the Need it becomes,
 * and where the GGUF file is in an argv (-m, -hf, none). The figures llama-server itself printed
 * for the test models ("KV buffer size", "model buffer size") are checked exactly.
 */
import { describe, expect, test } from "bun:test";
import { openSync, readSync, closeSync } from "node:fs";
import { tinyModel } from "../fixtures/gguf.ts";
import { buildGguf, type BuildSpec } from "../fixtures/gguf-builder.ts";
import { parseGgufHeader, type GgufHeader } from "../../src/placement/gguf-header.ts";
import {
  CPU_PROCESS_ALLOWANCE,
  GPU_CONTEXT_ALLOWANCE,
  contextCells,
  estimateGguf,
  findGgufInArgv,
  llamaServerSettings,
  needFromEstimate,
} from "../../src/placement/gguf-estimate.ts";

const MiB = 1024 * 1024;

function headerOf(path: string): GgufHeader {
  const fd = openSync(path, "r");
  try {
    const buf = new Uint8Array(1 << 20);
    return parseGgufHeader(buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)));
  } finally {
    closeSync(fd);
  }
}

const s = (...args: string[]) => llamaServerSettings(["llama-server", "-m", "x.gguf", ...args]);

describe("llama-server settings from argv and env", () => {
  test("defaults: context from the model, auto slots, f16 cache, auto layers, fit on", () => {
    expect(s()).toEqual({
      ctxSize: null, parallel: null, cacheTypeK: "f16", cacheTypeV: "f16", gpuLayers: "auto",
      batch: 2048, ubatch: 512, flashAttn: "auto", fit: true, kvOffload: true, kvUnifiedPerSlot: null,
    });
  });

  test("every spelling we read", () => {
    const a = s("-c", "8192", "-np", "2", "-ctk", "q8_0", "--cache-type-v", "Q4_0", "-ngl", "20", "-ub", "256", "-b", "1024", "-fa", "off", "--fit", "off", "-nkvo");
    expect(a).toMatchObject({ ctxSize: 8192, parallel: 2, cacheTypeK: "q8_0", cacheTypeV: "q4_0", gpuLayers: 20, ubatch: 256, batch: 1024, flashAttn: "off", fit: false, kvOffload: false });
    expect(s("--ctx-size", "0", "--parallel", "-1").ctxSize).toBeNull();
    expect(s("--n-gpu-layers", "999").gpuLayers).toBe(999);
    expect(s("--gpu-layers", "all").gpuLayers).toBe("all");
    expect(s("-ngl", "-1").gpuLayers).toBe("all");
    expect(s("-ngl", "0").gpuLayers).toBe(0);
    // A bare -fa (older releases) is on, and does not swallow the next flag.
    expect(s("-fa", "-c", "1024")).toMatchObject({ flashAttn: "on", ctxSize: 1024 });
  });

  test("LLAMA_ARG_* from the model's env, the command line over it", () => {
    const env = { LLAMA_ARG_CTX_SIZE: "4096", LLAMA_ARG_N_GPU_LAYERS: "10", LLAMA_ARG_CACHE_TYPE_K: "q8_0" };
    expect(llamaServerSettings(["llama-server", "-c", "2048"], env)).toMatchObject({ ctxSize: 2048, gpuLayers: 10, cacheTypeK: "q8_0" });
  });
});

describe("where the GGUF file is", () => {
  test("-m / --model, with --mmproj and --model-draft as extra weights", () => {
    expect(findGgufInArgv(["llama-server", "-m", "/m/a.gguf", "--port", "9"])).toEqual({ kind: "file", path: "/m/a.gguf", extra: [] });
    expect(findGgufInArgv(["llama-server", "--model", "rel/A.GGUF", "--mmproj", "mm.gguf", "-md", "d.gguf"])).toEqual({ kind: "file", path: "rel/A.GGUF", extra: ["mm.gguf", "d.gguf"] });
    expect(findGgufInArgv(["llama-server"], { LLAMA_ARG_MODEL: "/e.gguf" })).toEqual({ kind: "file", path: "/e.gguf", extra: [] });
  });

  test("-hf and friends: a remote model, no guess", () => {
    expect(findGgufInArgv(["llama-server", "-hf", "ggml-org/gemma-3-1b-it-GGUF"])).toEqual({ kind: "remote", flag: "-hf", ref: "ggml-org/gemma-3-1b-it-GGUF" });
    expect(findGgufInArgv(["llama-server", "--model-url", "https://x/y.gguf"]).kind).toBe("remote");
    expect(findGgufInArgv(["llama-server"], { LLAMA_ARG_HF_REPO: "a/b" })).toEqual({ kind: "remote", flag: "LLAMA_ARG_HF_REPO", ref: "a/b" });
  });

  test("nothing to read: other programs' -m, a router, no model", () => {
    expect(findGgufInArgv(["python", "-m", "vllm.entrypoints.openai.api_server"])).toMatchObject({ kind: "none", reason: expect.stringContaining("not a .gguf path") });
    expect(findGgufInArgv(["llama-server", "--models-dir", "/models"])).toMatchObject({ kind: "none", reason: expect.stringContaining("router") });
    expect(findGgufInArgv(["switchyard", "simulate", "--port", "9"])).toEqual({ kind: "none", reason: "no -m/--model in the command" });
  });
});

describe("the test models, against what llama-server printed", () => {
  // llama-server (the cached test build) printed, for these commands:
  //   bench, no -c:           CPU_Mapped model buffer size = 395.30 MiB, KV buffer 256.00 MiB (8192 cells), compute 32.51 MiB
  //   bench, -c 2048 -np 4:   KV 64.00 MiB, compute 25.01 MiB
  //   bench, -c 2048 -ctk q8_0 -ctv q8_0: KV 34.00 MiB
  //   tiny, no -c:            model 0.52 MiB, KV 1.00 MiB (2048 cells = 512 × 4 slots)
  //   tiny, -c 1000 -np 1:    1024 cells, KV 0.50 MiB
  const bench = headerOf(tinyModel({ size: "bench" }));
  const tiny = headerOf(tinyModel({ size: "tiny" }));
  const cpu = { onGpu: false };

  test("weights and KV cache exactly; compute within a few MiB", () => {
    const e = estimateGguf(bench, s(), cpu);
    expect((e.weights / MiB).toFixed(2)).toBe("395.30");
    expect(e.ctx).toBe(8192);
    expect(e.kvCache).toBe(256 * MiB);
    expect(Math.abs(e.compute / MiB - 32.51)).toBeLessThan(2);
    expect(e.total).toBe(e.weights + e.kvCache + e.compute + CPU_PROCESS_ALLOWANCE);
    expect(e).toMatchObject({ cpu: e.total, gpu: 0, gpuLayers: 0, notes: [] });

    const e2 = estimateGguf(bench, s("-c", "2048", "-np", "4"), cpu);
    expect(e2.kvCache).toBe(64 * MiB);
    expect(Math.abs(e2.compute / MiB - 25.01)).toBeLessThan(2);
    expect(estimateGguf(bench, s("-c", "2048", "-ctk", "q8_0", "-ctv", "q8_0"), cpu).kvCache).toBe(34 * MiB);

    const t = estimateGguf(tiny, s(), cpu);
    expect([t.ctx, t.kvCache]).toEqual([2048, 1 * MiB]);
    expect(estimateGguf(tiny, s("-c", "1000", "-np", "1"), cpu)).toMatchObject({ ctx: 1024, kvCache: 0.5 * MiB });
  });

  test("the context rule", () => {
    expect(contextCells(bench, s())).toBe(2048 * 4);
    expect(contextCells(bench, s("-np", "1"))).toBe(2048);
    expect(contextCells(bench, s("-np", "3"))).toBe(6144);
    expect(contextCells(bench, s("--fit", "off"))).toBe(2048);
    expect(contextCells(bench, s("-c", "100"))).toBe(256);
    expect(contextCells(bench, s("-c", "32768", "-np", "8"))).toBe(32768);
    expect(contextCells(bench, s("--kv-unified-per-slot", "1000", "-np", "2"))).toBe(2048);
  });
});

/** A GQA model: 4 layers, 8 heads, 2 KV heads, head dim 64, vocab 1000; F16 weights; tied or untied output. */
function gqa(opts: { tied?: boolean; kv?: BuildSpec["kv"] } = {}): GgufHeader {
  const e = 512;
  const tensors = [{ name: "token_embd.weight", dims: [e, 1000], type: 1, bytes: e * 1000 * 2 }];
  if (!opts.tied) tensors.push({ name: "output.weight", dims: [e, 1000], type: 1, bytes: e * 1000 * 2 });
  tensors.push({ name: "output_norm.weight", dims: [e], type: 0, bytes: e * 4 });
  for (let i = 0; i < 4; i++) tensors.push({ name: `blk.${i}.attn_q.weight`, dims: [e, e], type: 1, bytes: e * e * 2 });
  const base: BuildSpec["kv"] = [
    ["general.architecture", { t: "string", v: "llama" }],
    ["llama.block_count", { t: "u32", v: 4 }],
    ["llama.context_length", { t: "u32", v: 4096 }],
    ["llama.embedding_length", { t: "u32", v: e }],
    ["llama.feed_forward_length", { t: "u32", v: 1024 }],
    ["llama.attention.head_count", { t: "u32", v: 8 }],
    ["llama.attention.head_count_kv", { t: "u32", v: 2 }],
    ["llama.vocab_size", { t: "u32", v: 1000 }],
  ];
  const over = new Map(opts.kv ?? []);
  const kv: BuildSpec["kv"] = [...base.filter(([k]) => !over.has(k)), ...over];
  return parseGgufHeader(buildGguf({ kv, tensors }));
}

describe("GQA, per-layer heads, cache types", () => {
  test("KV = layers × ctx × (k + v) × bytes, with n_embd_k_gqa = head dim × KV heads", () => {
    const h = gqa();
    // 4 layers × 1024 cells × (64×2 + 64×2) × 2 bytes
    expect(estimateGguf(h, s("-c", "1024"), { onGpu: false }).kvCache).toBe(4 * 1024 * 256 * 2);
    expect(estimateGguf(h, s("-c", "1024", "-ctk", "f32", "-ctv", "q4_0"), { onGpu: false }).kvCache).toBe(4 * 1024 * (128 * 4 + 128 * 18 / 32));
  });

  test("key/value lengths and per-layer KV head counts from the header", () => {
    const h = gqa({ kv: [["llama.attention.key_length", { t: "u32", v: 128 }], ["llama.attention.value_length", { t: "u32", v: 96 }], ["llama.attention.head_count_kv", { t: "array", of: "u32", v: [2, 0, 1, 4] }]] });
    expect(h.headCountKv).toEqual([2, 0, 1, 4]);
    // Σ layers of 1024 cells × (128 + 96) × KV heads × 2 bytes; the layer with 0 KV heads holds none.
    expect(estimateGguf(h, s("-c", "1024"), { onGpu: false }).kvCache).toBe(1024 * 224 * (2 + 0 + 1 + 4) * 2);
  });

  test("an unknown cache type is assumed f16 and said so", () => {
    const e = estimateGguf(gqa(), s("-c", "1024", "-ctk", "q3_weird"), { onGpu: false });
    expect(e.notes).toEqual(["unknown K cache type 'q3_weird': assumed f16"]);
  });
});

describe("-ngl: GPU and CPU shares", () => {
  const h = gqa();
  const embd = 512 * 1000 * 2;
  const layer = 512 * 512 * 2;
  const outputW = embd + 512 * 4;
  const kvLayer = 1024 * 256 * 2;

  test("everything offloaded (absent -ngl = auto = all): only the input embedding and host buffers on the CPU", () => {
    for (const e of [estimateGguf(h, s("-c", "1024"), { onGpu: true }), estimateGguf(h, s("-c", "1024", "-ngl", "99"), { onGpu: true })]) {
      expect(e.gpuLayers).toBe(5);
      expect(e.gpu).toBe(4 * layer + outputW + 4 * kvLayer + e.compute - (e.cpu - embd - CPU_PROCESS_ALLOWANCE) + GPU_CONTEXT_ALLOWANCE);
      expect(e.cpu).toBeLessThan(embd + CPU_PROCESS_ALLOWANCE + 4 * MiB);
    }
  });

  test("-ngl 2 offloads the output layer and the last block; -ngl 0 or a CPU host keeps all on the CPU", () => {
    const e = estimateGguf(h, s("-c", "1024", "-ngl", "2"), { onGpu: true });
    expect(e.gpuLayers).toBe(2);
    const gpuCompute = e.compute / 2; // both sides hold a full compute buffer when the split is partial
    expect(e.gpu).toBe(layer + outputW + kvLayer + gpuCompute + GPU_CONTEXT_ALLOWANCE);
    expect(e.cpu).toBe(embd + 3 * layer + 3 * kvLayer + gpuCompute + CPU_PROCESS_ALLOWANCE);
    expect(estimateGguf(h, s("-c", "1024", "-ngl", "1"), { onGpu: true }).gpu).toBe(outputW + e.compute / 2 + GPU_CONTEXT_ALLOWANCE);
    for (const z of [estimateGguf(h, s("-ngl", "0"), { onGpu: true }), estimateGguf(h, s(), { onGpu: false })]) expect(z).toMatchObject({ gpu: 0, gpuLayers: 0 });
  });

  test("-nkvo keeps the KV cache on the CPU", () => {
    const e = estimateGguf(h, s("-c", "1024", "-nkvo"), { onGpu: true });
    expect(e.cpu).toBeGreaterThan(4 * kvLayer);
    expect(e.gpu).toBe(4 * layer + outputW + e.compute - (e.cpu - embd - 4 * kvLayer - CPU_PROCESS_ALLOWANCE) + GPU_CONTEXT_ALLOWANCE);
  });

  test("tied embeddings: the output layer's device gets a copy of token_embd", () => {
    const tied = estimateGguf(gqa({ tied: true }), s("-c", "1024"), { onGpu: true });
    const untied = estimateGguf(h, s("-c", "1024"), { onGpu: true });
    expect(tied.gpu).toBe(untied.gpu);
    expect(tied.weights).toBe(untied.weights);
  });

  test("extra weights (--mmproj) follow the GPU", () => {
    const base = estimateGguf(h, s("-c", "1024"), { onGpu: true });
    const more = estimateGguf(h, s("-c", "1024"), { onGpu: true, extraWeights: 10 * MiB });
    expect(more.gpu - base.gpu).toBe(10 * MiB);
    expect(more.cpu).toBe(base.cpu);
  });
});

describe("the Need", () => {
  const e = estimateGguf(gqa(), s("-c", "1024"), { onGpu: true });
  test("GPU share split over the GPU ids, the rest on cpu; no GPUs: the total on cpu", () => {
    expect(needFromEstimate(e, ["0"])).toEqual({ perDevice: { "0": e.gpu, cpu: e.cpu }, source: "guessed" });
    expect(needFromEstimate(e, ["0", "1"]).perDevice["1"]).toBe(Math.ceil(e.gpu / 2));
    expect(needFromEstimate(e, [])).toEqual({ perDevice: { cpu: e.total }, source: "guessed" });
  });
});
