import { describe, expect, test } from "bun:test";
import { HttpError } from "../../src/http/errors.ts";
import { forwardPath, parseModelRequest, readBodyLimited, rewriteBody, rewriteSearch } from "../../src/http/request.ts";

const parse = (init: RequestInit & { url?: string }, limit = 1024 * 1024) => {
  const req = new Request(init.url ?? "http://x/v1/chat/completions", init);
  return parseModelRequest(req, new URL(req.url), limit);
};
const dec = (b: Uint8Array | null) => new TextDecoder().decode(b ?? new Uint8Array());

describe("parseModelRequest", () => {
  test("JSON body: model and stream", async () => {
    const r = await parse({ method: "POST", headers: { "content-type": "application/json" }, body: '{"model":"m","stream":true}' });
    expect([r.kind, r.model, r.stream]).toEqual(["json", "m", true]);
    const s = await parse({ method: "POST", headers: { "content-type": "application/json" }, body: '{"model":"m","stream":"yes"}' });
    expect(s.stream).toBe(false);
  });

  test("GET: ?model= and ?stream=true", async () => {
    const r = await parse({ method: "GET", url: "http://x/props?model=a%2Fb&stream=true" });
    expect([r.kind, r.model, r.stream]).toEqual(["none", "a/b", true]);
  });

  test("multipart: the model field", async () => {
    const form = new FormData();
    form.append("model", "whisper");
    form.append("file", new File(["x"], "a.wav"));
    const r = await parse({ method: "POST", body: form });
    expect([r.kind, r.model]).toEqual(["multipart", "whisper"]);
  });

  test("url-encoded form; JSON mislabelled as a form still parses as JSON", async () => {
    const f = await parse({ method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "model=m2&stream=true" });
    expect([f.kind, f.model, f.stream]).toEqual(["urlencoded", "m2", true]);
    const j = await parse({ method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: ' {"model":"m3"}' });
    expect([j.kind, j.model]).toEqual(["json", "m3"]);
  });

  test("bad bodies are 400", async () => {
    for (const body of ["{bad", "[1,2]", '{"model":["x"]}']) {
      const err = await parse({ method: "POST", headers: { "content-type": "application/json" }, body }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpError);
      expect((err as HttpError).status).toBe(400);
    }
  });

  test("a big body's model and stream are read by the scan, its bad top level worded by the parse", async () => {
    const messages = [{ role: "user", content: 'code: "x" \\ '.repeat(600) }];
    const post = (body: string) => parse({ method: "POST", headers: { "content-type": "application/json" }, body });
    const big = JSON.stringify({ messages, stream: true, model: "late" });
    expect(big.length).toBeGreaterThan(4096);
    const r = await post(big);
    expect([r.kind, r.model, r.stream, dec(r.bytes)]).toEqual(["json", "late", true, big]);
    for (const [body, message] of [
      [big.slice(0, -1), "invalid JSON body"],
      [big.replace('"late"', "7"), '"model" must be a string'],
    ] as const) {
      const err = (await post(body).catch((e: unknown) => e)) as HttpError;
      expect([err.status, err.message.includes(message)]).toEqual([400, true]);
    }
    // A flaw inside a nested value goes to the backend as sent; a rewrite, which must parse it, refuses it.
    const flawed = big.replace('"messages":[', '"messages":[1,,');
    const f = await post(flawed);
    expect([f.model, dec((await rewriteBody(f, {})).bytes)]).toEqual(["late", flawed]);
    const err = (await rewriteBody(f, { modelName: "real" }).catch((e: unknown) => e)) as HttpError;
    expect([err.status, err.message.startsWith("invalid JSON body")]).toEqual([400, true]);
  });

  test("an empty body has no model", async () => {
    const r = await parse({ method: "POST", body: "" });
    expect(r.model).toBe("");
  });
});

describe("readBodyLimited", () => {
  test("fails with 413 past the limit, declared or streamed", async () => {
    const declared = new Request("http://x/", { method: "POST", body: new Uint8Array(11) });
    expect(((await readBodyLimited(declared, 10).catch((e: unknown) => e)) as HttpError).status).toBe(413);
    const streamed = new Request("http://x/", {
      method: "POST",
      body: new ReadableStream({
        start(c) {
          c.enqueue(new Uint8Array(6));
          c.enqueue(new Uint8Array(6));
          c.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(((await readBodyLimited(streamed, 10).catch((e: unknown) => e)) as HttpError).status).toBe(413);
    const ok = new Request("http://x/", { method: "POST", body: "0123456789" });
    expect(dec(await readBodyLimited(ok, 10))).toBe("0123456789");
  });
});

describe("rewriteBody", () => {
  const json = (body: string) => parse({ method: "POST", headers: { "content-type": "application/json" }, body });

  test("keeps the exact bytes when nothing is configured or nothing changes", async () => {
    const raw = '{ "model":"m",  "temperature": 0.5 }';
    const req = await json(raw);
    expect(dec((await rewriteBody(req, {})).bytes)).toBe(raw);
    expect(dec((await rewriteBody(req, { modelName: "m", setParams: { temperature: 0.5 }, stripParams: ["absent"] })).bytes)).toBe(raw);
  });

  test("applies useModelName, strip, set, then setParamsById; never touches model through filters", async () => {
    const req = await json('{"model":"alias","a":{"b":1,"c":2},"x":1}');
    const out = await rewriteBody(req, {
      modelName: "real",
      stripParams: ["a.b", "model"],
      setParams: { x: 2, "n.m": "v", model: "hack" },
      setParamsById: { x: 3 },
    });
    expect(JSON.parse(dec(out.bytes))).toEqual({ model: "real", a: { c: 2 }, x: 3, n: { m: "v" } });
    expect(out.contentType).toBe("application/json");
    // The request's own bytes are left as they were.
    expect(dec(req.bytes)).toBe('{"model":"alias","a":{"b":1,"c":2},"x":1}');
  });

  test("multipart: only the model field changes", async () => {
    const form = new FormData();
    form.append("model", "a");
    form.append("file", new File(["data"], "f.bin"));
    const req = await parse({ method: "POST", body: form });
    const out = await rewriteBody(req, { modelName: "b", setParams: { ignored: 1 } });
    const back = await new Response(out.bytes as BodyInit, { headers: { "content-type": out.contentType! } }).formData();
    expect(back.get("model")).toBe("b");
    expect(await (back.get("file") as File).text()).toBe("data");
    expect(back.get("ignored")).toBeNull();
    expect((await rewriteBody(req, { modelName: "a" })).bytes).toBe(req.bytes);
  });

  test("multipart with the model only in the query: the query is rewritten, the body's bytes stay", async () => {
    const form = new FormData();
    form.append("file", new File(["data"], "a.wav"));
    const req = await parse({ method: "POST", body: form, url: "http://x/v1/audio/transcriptions?model=alias" });
    expect(req.model).toBe("alias");
    const rw = { modelName: "real" };
    expect((await rewriteBody(req, rw)).bytes).toBe(req.bytes);
    expect(rewriteSearch(new URL("http://x/v1/audio/transcriptions?model=alias"), req, rw)).toBe("?model=real");
    // With its own model field, the field is rewritten and the query left alone.
    const withField = new FormData();
    withField.append("model", "alias");
    const req2 = await parse({ method: "POST", body: withField, url: "http://x/v1/audio/transcriptions?model=alias" });
    expect(rewriteSearch(new URL("http://x/v1/audio/transcriptions?model=alias"), req2, rw)).toBe("?model=alias");
  });

  test("rewriteSearch rewrites ?model= only for query-borne models", async () => {
    const url = new URL("http://x/props?model=a&k=1");
    const req = await parse({ method: "GET", url: url.href });
    expect(rewriteSearch(url, req, { modelName: "b" })).toBe("?model=b&k=1");
    expect(rewriteSearch(url, req, {})).toBe("?model=a&k=1");
  });
});

describe("forwardPath", () => {
  test("strips /v from versionless paths only", () => {
    expect(forwardPath("/v/chat/completions")).toBe("/chat/completions");
    expect(forwardPath("/v1/chat/completions")).toBe("/v1/chat/completions");
    expect(forwardPath("/vx/y")).toBe("/vx/y");
  });
});
