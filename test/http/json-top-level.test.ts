import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { scanTopLevel } from "../../src/http/json-top-level.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const scan = (s: string) => scanTopLevel(enc(s));

/** What the model routes read from a body that JSON.parse accepts, as parseModelRequest did by parsing. */
function byParse(text: string): { model: string; stream: boolean } | "not an object" | "model not a string" {
  const v: unknown = JSON.parse(text);
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "not an object";
  const o = v as Record<string, unknown>;
  if (o.model !== undefined && o.model !== null && typeof o.model !== "string") return "model not a string";
  return { model: typeof o.model === "string" ? o.model : "", stream: o.stream === true };
}

describe("scanTopLevel", () => {
  test("reads the top-level model and stream, wherever they are", () => {
    expect(scan('{"model":"m","stream":true}')).toEqual({ model: "m", stream: true });
    expect(scan(' {\n "messages" : [ {"role":"user","content":"}]{[\\"model\\": \\"no\\""} ] ,\t"model" : "x\\"y" , "stream":false }\r\n')).toEqual({ model: 'x"y', stream: false });
    expect(scan('{"a":{"model":"inner","stream":true},"model":"outer"}')).toEqual({ model: "outer", stream: false });
  });

  test("absent or null model is empty; stream is true only for the literal true; the last duplicate wins", () => {
    expect(scan("{}")).toEqual({ model: "", stream: false });
    expect(scan('{"model":null,"stream":1}')).toEqual({ model: "", stream: false });
    expect(scan('{"stream":"true","model":"q"}')).toEqual({ model: "q", stream: false });
    expect(scan('{"model":"a","stream":true,"model":"b","stream":false}')).toEqual({ model: "b", stream: false });
    for (const later of ['"yes"', "[true]", '{"on":true}', "null"]) expect(scan(`{"stream":true,"stream":${later}}`)).toEqual({ model: "", stream: false });
    expect(scan('{"model":"\\u00e9t\\u00e9 \\\\ ok"}')).toEqual({ model: "été \\ ok", stream: false });
  });

  test("defers to a parse whenever it cannot vouch for the answer", () => {
    for (const body of [
      "", "[]", '"model"', '{"model":7}', '{"model":["x"]}', '{"model":{}}', '{"model":true}', // not an object, or a model that is not a string
      '{"model": "m",', '{"model":"m"', '{"a":[1,2}', '{"a":[}]}', '{"a":[{]}}', '{"a":{[}]}', '{"a":"unterminated}', // unfinished or mismatched
      '{"model":"m"} x', '{"model":"m"}{}', "{model:1}", '{"a" 1}', '{"a":1,}', '{"a":tru}', '{"a":01}', // not JSON at the top level
      '{"mod\\u0065l":"z"}', // a key with an escape
      '{"model":"bad \\x escape"}', // JSON.parse refuses it, so the parse words the error
      "\ufeff{}", // a byte order mark: the parse decodes it away
    ]) expect(scan(body)).toBeNull();
  });

  test("a body dense with tiny strings or escaped quotes is handed to the parse after a bounded scan", () => {
    expect(scanTopLevel(enc(JSON.stringify({ model: "e", input: Array.from({ length: 2000 }, (_, i) => `w${i}`) })))).toEqual({ model: "e", stream: false });
    expect(scanTopLevel(enc(JSON.stringify({ model: "e", input: Array.from({ length: 20000 }, () => ({})) })))).toBeNull();
    expect(scanTopLevel(enc(JSON.stringify({ model: "e", prompt: '"'.repeat(20000) })))).toBeNull();
    // Numbers cost no jump at all, however many.
    expect(scanTopLevel(enc(JSON.stringify({ input: Array.from({ length: 20000 }, (_, i) => i), model: "n" })))).toEqual({ model: "n", stream: false });
  });

  test("property: on any JSON object it agrees with a parse or defers", () => {
    const key = fc.oneof(fc.constantFrom("model", "stream", "messages", "a"), fc.string({ maxLength: 6 }));
    const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.string(), fc.constant(true));
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 6 }), fc.constantFrom(undefined, 0, 1, "\t"), (o, indent) => {
        const text = JSON.stringify(o, null, indent);
        const got = scanTopLevel(enc(text));
        const want = byParse(text);
        if (got !== null) expect(got).toEqual(want as { model: string; stream: boolean });
        // Without escapes in keys and with a string, null or no model, it never needs the parse.
        else expect(typeof want === "string" || Object.keys(o).some((k) => /["\\\u0000-\u001f\ud800-\udfff]/.test(k))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  test("a flaw inside a nested value is not looked for (the backend reports it, as behind llama-swap)", () => {
    expect(scan('{"model":"m","messages":[1,,2],"stream":true}')).toEqual({ model: "m", stream: true });
    expect(scan('{"messages":[{"a" 1}],"model":"m"}')).toEqual({ model: "m", stream: false });
    // ... but the top level is JSON's, brackets match, and strings end.
    expect(scan('{"model":"m","messages":[1,2}')).toBeNull();
    expect(scan('{"model":"m","messages":["a]}')).toBeNull();
  });

  test("property: on any text it never throws, and what it accepts a parse reads the same way", () => {
    const near = fc
      .tuple(fc.jsonValue({ maxDepth: 3 }), fc.nat(), fc.string({ maxLength: 3 }))
      .map(([v, at, junk]) => {
        const s = JSON.stringify({ model: "m", v });
        const i = at % (s.length + 1);
        return s.slice(0, i) + junk + s.slice(i + (at % 3));
      });
    fc.assert(
      fc.property(fc.oneof(near, fc.string()), (text) => {
        const got = scanTopLevel(enc(text));
        if (got === null) return;
        let parsed: ReturnType<typeof byParse> | null = null;
        try {
          parsed = byParse(text);
        } catch {
          // A flaw the scan does not look for (inside a nested value); the next test pins that.
        }
        if (parsed !== null) expect(got).toEqual(parsed as { model: string; stream: boolean });
      }),
      { numRuns: 3000 },
    );
  });
});
