/**
 * The guess from disk: the tiny model the real llama-server tests load, a split model, a relative
 * path and --mmproj, and each way there is no guess (a remote -hf model, a missing file, a
 * truncated file, not GGUF) with its reason. Only the head of a file is read.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tinyModel } from "../fixtures/gguf.ts";
import { buildGguf, type BuildSpec } from "../fixtures/gguf-builder.ts";
import { fileRead, guessGgufNeed, readGgufHeaderFile } from "../../src/cli/gguf-guess.ts";
import { estimateGguf, llamaServerSettings } from "../../src/placement/gguf-estimate.ts";
import { readGgufHeader } from "../../src/placement/gguf-header.ts";

const dir = mkdtempSync(join(tmpdir(), "switchyard-gguf-guess-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MiB = 1024 * 1024;
const llamaKv: BuildSpec["kv"] = [
  ["general.architecture", { t: "string", v: "llama" }],
  ["llama.block_count", { t: "u32", v: 2 }],
  ["llama.context_length", { t: "u32", v: 1024 }],
  ["llama.embedding_length", { t: "u32", v: 64 }],
  ["llama.attention.head_count", { t: "u32", v: 4 }],
];

describe("guessGgufNeed", () => {
  test("the tiny test model, CPU: what the estimate says, on cpu, from the file's head", async () => {
    const path = tinyModel({ size: "tiny" });
    const argv = ["llama-server", "-m", path, "--port", "9", "-c", "2048", "-np", "4"];
    const g = await guessGgufNeed(argv);
    expect(g.reason).toBeNull();
    if (g.estimate === null) throw new Error(g.reason);
    expect(g.path).toBe(path);
    expect(g.header.dataOffset + g.header.tensorBytes).toBe(statSync(path).size);
    expect(g.estimate).toEqual(estimateGguf(g.header, llamaServerSettings(argv), { onGpu: false, extraWeights: 0 }));
    expect(g.need).toEqual({ perDevice: { cpu: g.estimate.total }, source: "guessed" });
    expect(g.estimate.kvCache).toBe(1 * MiB);
  });

  test("on a GPU: the Need names the GPU id and the CPU share", async () => {
    const g = await guessGgufNeed(["llama-server", "-m", tinyModel({ size: "tiny" })], { gpuIds: ["1"] });
    if (g.estimate === null) throw new Error(g.reason);
    expect(Object.keys(g.need.perDevice).sort()).toEqual(["1", "cpu"]);
    expect(g.need.perDevice["1"]).toBe(g.estimate.gpu);
  });

  test("a relative path (from cwd), --mmproj weights, and a split model's parts summed", async () => {
    const t = (name: string, n: number) => ({ name, dims: [64, n], type: 0, bytes: 64 * n * 4 });
    writeFileSync(join(dir, "m.gguf"), buildGguf({ kv: llamaKv, tensors: [t("token_embd.weight", 10)], withData: true }));
    writeFileSync(join(dir, "mm.gguf"), buildGguf({ kv: [], tensors: [t("v.patch", 100)], withData: true }));
    const g = await guessGgufNeed(["llama-server", "-m", "m.gguf", "--mmproj", "mm.gguf"], { cwd: dir });
    if (g.estimate === null) throw new Error(g.reason);
    expect(g.estimate.weights).toBe(64 * 10 * 4 + 64 * 100 * 4);

    const split = (i: number): BuildSpec["kv"] => [...llamaKv, ["split.no", { t: "u16", v: i }], ["split.count", { t: "u16", v: 3 }]];
    for (let i = 0; i < 3; i++) {
      writeFileSync(join(dir, `big-0000${i + 1}-of-00003.gguf`), buildGguf({ kv: split(i), tensors: [t(`blk.${i}.w`, 1000 * (i + 1))], withData: true }));
    }
    const s = await guessGgufNeed(["llama-server", "-m", join(dir, "big-00001-of-00003.gguf")]);
    if (s.estimate === null) throw new Error(s.reason);
    expect(s.header.splitCount).toBe(3);
    expect(s.header.tensors.map((x) => x.name)).toEqual(["blk.0.w", "blk.1.w", "blk.2.w"]);
    expect(s.estimate.weights).toBe(64 * 6000 * 4);
  });

  test("no guess, with the reason: -hf, no -m, a missing file, a truncated file, not GGUF, an unknown tensor type", async () => {
    expect((await guessGgufNeed(["llama-server", "-hf", "ggml-org/gemma-3-1b-it-GGUF"])).reason).toBe("the model comes from -hf ggml-org/gemma-3-1b-it-GGUF: no local file to read");
    expect((await guessGgufNeed(["switchyard", "simulate"])).reason).toBe("no -m/--model in the command");
    const missing = join(dir, "nope.gguf");
    expect(await guessGgufNeed(["llama-server", "-m", missing])).toEqual({ estimate: null, need: null, path: missing, header: null, reason: `cannot read ${missing}: ${missing} does not exist` });

    const whole = buildGguf({ kv: llamaKv, tensors: [{ name: "a", dims: [64], type: 0, bytes: 256 }] });
    writeFileSync(join(dir, "cut.gguf"), whole.subarray(0, 60));
    expect((await guessGgufNeed(["llama-server", "-m", join(dir, "cut.gguf")])).reason).toContain("GGUF header truncated");
    writeFileSync(join(dir, "html.gguf"), "<html>Not Found</html>");
    expect((await guessGgufNeed(["llama-server", "-m", join(dir, "html.gguf")])).reason).toContain("not a GGUF file: magic '<htm'");
    writeFileSync(join(dir, "odd.gguf"), buildGguf({ kv: llamaKv, tensors: [{ name: "blk.0.x", dims: [64], type: 77, bytes: 64 }] }));
    expect((await guessGgufNeed(["llama-server", "-m", join(dir, "odd.gguf")])).reason).toContain("tensor 'blk.0.x' has unknown ggml type 77");
  });

  test("only the head is read: a header larger than the first read grows it, and the data is never read", async () => {
    const path = join(dir, "long-header.gguf");
    const big = buildGguf({ kv: [...llamaKv, ["pad", { t: "string", v: "y".repeat(1_500_000) }]], tensors: [{ name: "token_embd.weight", dims: [64, 40_000], type: 0, bytes: 64 * 40_000 * 4 }], withData: true });
    writeFileSync(path, big);
    const asked: number[] = [];
    const read = fileRead(path);
    const h = await readGgufHeader(async (o, n) => { asked.push(n); return read(o, n); });
    expect(h.tensorBytes).toBe(64 * 40_000 * 4);
    expect(asked.length).toBe(2); // 1 MiB, then enough for the 1.5 MB string
    expect(asked.reduce((a, b) => a + b, 0)).toBeLessThan(big.length);
    expect((await readGgufHeaderFile(path)).dataOffset).toBe(h.dataOffset);
  });
});
