import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createActivityLog } from "../../src/observe/activity.ts";
import { base64, createCaptureRing, maskSecrets } from "../../src/observe/captures.ts";

const enc = new TextEncoder();
const MB = 1024 * 1024;

describe("capture ring", () => {
  test("bounded in bytes: the oldest captures go first; one larger than the ring is not kept", () => {
    const ring = createCaptureRing({ megabytes: 1 });
    const body = new Uint8Array(300 * 1024);
    for (let id = 1; id <= 4; id++) expect(ring.add({ id, path: "/v1/chat/completions", reqHeaders: null, reqBody: body, respHeaders: null, respBody: null })).toBe(true);
    expect([1, 2, 3, 4].map((id) => ring.has(id))).toEqual([false, true, true, true]);
    expect(ring.stats().bytes).toBeLessThanOrEqual(MB);
    expect(ring.add({ id: 5, path: "/x", reqHeaders: null, reqBody: new Uint8Array(MB + 1), respHeaders: null, respBody: null })).toBe(false);
    expect(ring.has(5)).toBe(false);
    expect(ring.has(4)).toBe(true);
  });

  test("sensitive headers and configured keys are redacted; bodies come back base64", () => {
    const ring = createCaptureRing({ megabytes: 1, secrets: ["sk-abcdef"] });
    ring.add({
      id: 7,
      path: "/v1/chat/completions",
      reqHeaders: new Headers({ authorization: "Bearer x", "X-Api-Key": "k", "proxy-authorization": "p", "x-custom": "token sk-abcdef", accept: "*/*" }),
      reqBody: enc.encode('{"key":"sk-abcdef","again":"sk-abcdefsk-abcdef"}'),
      respHeaders: new Headers({ "set-cookie": "a=b", "content-type": "application/json" }),
      respBody: enc.encode("ok"),
    });
    const c = ring.get(7)!;
    expect(c.req_headers).toEqual({ authorization: "[REDACTED]", "x-api-key": "[REDACTED]", "proxy-authorization": "[REDACTED]", "x-custom": "[REDACTED]", accept: "*/*" });
    expect(c.resp_headers).toEqual({ "set-cookie": "[REDACTED]", "content-type": "application/json" });
    expect(atob(c.req_body)).toBe('{"key":"*********","again":"******************"}');
    expect(atob(c.resp_body)).toBe("ok");
  });

  test("audio and image routes keep no large binary bodies (llama-swap's per-route parts)", () => {
    const ring = createCaptureRing({ megabytes: 1 });
    expect(ring.partsFor("/v1/audio/speech")).toEqual({ reqBody: true, respBody: false });
    expect(ring.partsFor("/v1/images/edits")).toEqual({ reqBody: false, respBody: false });
    expect(ring.partsFor("/v1/chat/completions")).toEqual({ reqBody: true, respBody: true });
  });

  test("masking replaces every occurrence and nothing else (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("a", "b", "ab", "KEY1", "KE", "Y1"), { maxLength: 30 }), (parts) => {
        const text = parts.join("");
        const masked = new TextDecoder().decode(maskSecrets(enc.encode(text), [enc.encode("KEY1")]));
        expect(masked).toBe(text.replaceAll("KEY1", "****"));
      }),
    );
  });

  test("base64 matches the platform's for large bodies", () => {
    const big = new Uint8Array(200_000).map((_, i) => (i * 31) & 255);
    expect(base64(big)).toBe(Buffer.from(big).toString("base64"));
  });

  test("activity: a response larger than the ring is not captured, and says so", () => {
    const ring = createCaptureRing({ megabytes: 1 });
    const log = createActivityLog({ captures: ring });
    const h = log.begin({ model: "m", peer: "", path: "/v1/chat/completions", client: "", bytesIn: 2, streamed: false, body: enc.encode("{}") });
    h.response(200, "application/json", new Headers({ "content-type": "application/json" }));
    for (let i = 0; i < 3; i++) h.chunk(new Uint8Array(400 * 1024));
    h.end("ok");
    expect(log.recent()[0]!.has_capture).toBe(false);
    expect(ring.stats().count).toBe(0);
    // A refused request has no capture either: nothing came back from a backend.
    log.begin({ model: "m", peer: "", path: "/x", client: "", bytesIn: 0, streamed: false }).end("refused", { status: 404 });
    expect(log.recent()[1]!.has_capture).toBe(false);
  });
});
