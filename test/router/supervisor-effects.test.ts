/** What supervisor-effects decides about a failed start: whether it died of memory (the fit router then retries once). */
import { describe, expect, test } from "bun:test";
import { StartError } from "../../src/process/types.ts";
import { diedOfMemory } from "../../src/router/supervisor-effects.ts";

describe("diedOfMemory", () => {
  test("llama.cpp's and CUDA's words in the last lines, the OOM killer's SIGKILL; not a timeout, not another error", () => {
    const err = (lines: string[], signal: string | null = null, kind: "exited" | "timeout" = "exited") => new StartError(kind, "x exited", 1, signal, lines);
    expect(diedOfMemory(err(["ggml_backend_cuda_buffer_type_alloc_buffer: allocating 9000.00 MiB on device 0: cudaMalloc failed: out of memory"]))).toBe(true);
    expect(diedOfMemory(err(["llama_model_load: error loading model: unable to allocate CPU buffer"]))).toBe(true);
    expect(diedOfMemory(err(["torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"]))).toBe(true);
    expect(diedOfMemory(err([], "SIGKILL"))).toBe(true);
    expect(diedOfMemory(err([], "SIGKILL", "timeout"))).toBe(false);
    expect(diedOfMemory(err(["error: unknown argument: --bogus"]))).toBe(false);
    expect(diedOfMemory(new Error("out of memory"))).toBe(false);
  });
});
