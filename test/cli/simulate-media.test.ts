/** The simulator's media routes (images, speech, transcription, rerank), against a real simulator process. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { inflateSync } from "node:zlib";
import { crc32, relevance, sineWav, solidPng } from "../../src/cli/simulate-media.ts";
import { startSimulator, type RunningSimulator } from "../fixtures/sim-model.ts";

let sim: RunningSimulator | null = null;
let url = "";

beforeAll(async () => {
  sim = await startSimulator(["--model", "sim-media"]);
  url = sim.url;
});
afterAll(() => {
  sim?.proc.kill("SIGKILL");
});

const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** The chunks of a PNG: type, data, and whether its CRC is right. */
function pngChunks(png: Uint8Array): { type: string; data: Uint8Array; crcOk: boolean }[] {
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: { type: string; data: Uint8Array; crcOk: boolean }[] = [];
  for (let off = 8; off < png.length; ) {
    const len = v.getUint32(off);
    const type = String.fromCharCode(...png.subarray(off + 4, off + 8));
    const data = png.subarray(off + 8, off + 8 + len);
    out.push({ type, data, crcOk: crc32(png.subarray(off + 4, off + 8 + len)) === v.getUint32(off + 8 + len) });
    off += 12 + len;
  }
  return out;
}

describe("simulate media encoders", () => {
  test("crc32 matches the standard check value", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  test("solidPng is a valid PNG of the asked size and colour", () => {
    const png = solidPng(3, 2, [10, 20, 30]);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const chunks = pngChunks(png);
    expect(chunks.map((c) => c.type)).toEqual(["IHDR", "IDAT", "IEND"]);
    expect(chunks.every((c) => c.crcOk)).toBe(true);
    const ihdr = new DataView(chunks[0]!.data.buffer, chunks[0]!.data.byteOffset);
    expect([ihdr.getUint32(0), ihdr.getUint32(4), chunks[0]!.data[8], chunks[0]!.data[9]]).toEqual([3, 2, 8, 2]);
    const raw = new Uint8Array(inflateSync(chunks[1]!.data));
    expect([...raw]).toEqual([0, 10, 20, 30, 10, 20, 30, 10, 20, 30, 0, 10, 20, 30, 10, 20, 30, 10, 20, 30]);
  });

  test("sineWav has a PCM header that matches its length", () => {
    const wav = sineWav(0.5, 440, 8000);
    const v = new DataView(wav.buffer);
    const tag = (off: number) => String.fromCharCode(...wav.subarray(off, off + 4));
    expect([tag(0), tag(8), tag(12), tag(36)]).toEqual(["RIFF", "WAVE", "fmt ", "data"]);
    expect(v.getUint32(4, true)).toBe(wav.length - 8);
    expect([v.getUint16(20, true), v.getUint16(22, true), v.getUint32(24, true), v.getUint16(34, true)]).toEqual([1, 1, 8000, 16]);
    expect(v.getUint32(40, true)).toBe(8000);
    expect(wav.length).toBe(44 + 8000);
  });

  test("relevance favours documents sharing the query's words", () => {
    expect(relevance("red apples", "I like red apples")).toBeGreaterThan(relevance("red apples", "blue sky"));
  });
});

describe("simulate media routes", () => {
  test("images/generations returns n base64 PNGs of the asked size (capped), or data URLs", async () => {
    const res = await post("/v1/images/generations", { model: "x", prompt: "a red fox", n: 2, size: "32x16" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { created: number; data: { b64_json: string }[] };
    expect(typeof body.created).toBe("number");
    expect(body.data.length).toBe(2);
    const png = new Uint8Array(Buffer.from(body.data[0]!.b64_json, "base64"));
    const ihdr = pngChunks(png)[0]!.data;
    expect([new DataView(ihdr.buffer, ihdr.byteOffset).getUint32(0), new DataView(ihdr.buffer, ihdr.byteOffset).getUint32(4)]).toEqual([32, 16]);

    const big = (await (await post("/v1/images/generations", { prompt: "p", size: "4096x4096", response_format: "url" })).json()) as { data: { url: string }[] };
    expect(big.data.length).toBe(1);
    expect(big.data[0]!.url.startsWith("data:image/png;base64,")).toBe(true);
  });

  test("audio/speech returns a WAV", async () => {
    const res = await post("/v1/audio/speech", { model: "tts", input: "hello there", voice: "alloy" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/wav");
    const wav = new Uint8Array(await res.arrayBuffer());
    expect(String.fromCharCode(...wav.subarray(0, 4))).toBe("RIFF");
    expect(wav.length).toBeGreaterThan(44 + 16000 * 2 * 0.3 - 2);
    expect((await post("/v1/audio/speech", { model: "tts" })).status).toBe(400);
  });

  test("audio/transcriptions takes multipart and names the file's size", async () => {
    const form = new FormData();
    form.append("model", "whisper");
    form.append("file", new File([new Uint8Array(1234)], "clip.wav", { type: "audio/wav" }));
    const res = await fetch(`${url}/v1/audio/transcriptions`, { method: "POST", body: form });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { text: string };
    expect(body.text).toContain("clip.wav");
    expect(body.text).toContain("1234 bytes");

    const asText = new FormData();
    asText.append("file", new File(["abc"], "a.mp3"));
    asText.append("response_format", "text");
    const t = await fetch(`${url}/v1/audio/transcriptions`, { method: "POST", body: asText });
    expect(await t.text()).toContain("3 bytes");

    const missing = await fetch(`${url}/v1/audio/transcriptions`, { method: "POST", body: new FormData() });
    expect(missing.status).toBe(400);
    const notForm = await post("/v1/audio/transcriptions", { file: "x" });
    expect(notForm.status).toBe(400);
  });

  test("rerank answers llama-server's shape, best first, on every path it serves", async () => {
    const documents = ["the blue sky", "red apples are sweet", "apples and pears"];
    for (const path of ["/v1/rerank", "/v1/reranking", "/rerank", "/reranking"]) {
      const res = await post(path, { model: "rr", query: "red apples", documents });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { object: string; results: { index: number; relevance_score: number }[]; usage: { prompt_tokens: number } };
      expect(body.object).toBe("list");
      expect(body.results.map((r) => r.index)).toEqual([1, 2, 0]);
      const scores = body.results.map((r) => r.relevance_score);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
      expect(body.usage.prompt_tokens).toBeGreaterThan(0);
    }
    const top = (await (await post("/v1/rerank", { query: "red apples", documents, top_n: 1, return_documents: true })).json()) as { results: { index: number; document: { text: string } }[] };
    expect(top.results).toEqual([{ index: 1, relevance_score: expect.any(Number), document: { text: "red apples are sweet" } }] as never);
    expect((await post("/v1/rerank", { query: "q" })).status).toBe(400);
  });
});
