import { describe, expect, test } from "bun:test";
import { trackBody } from "../../src/http/track-body.ts";
import { RouteError } from "../../src/router/types.ts";
import { parseSse } from "../fixtures/sse-parse.ts";

const enc = new TextEncoder();

function source(chunks: string[], end: "close" | "error" | "hang" = "close") {
  let cancelled: unknown = undefined;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      const next = chunks.shift();
      if (next !== undefined) return c.enqueue(enc.encode(next));
      if (end === "close") c.close();
      else if (end === "error") c.error(new Error("socket closed"));
      else return new Promise(() => {});
    },
    cancel(reason) {
      cancelled = reason ?? "cancelled";
    },
  });
  return { stream, wasCancelled: () => cancelled !== undefined };
}

/** Everything a reader still yields, as text. */
async function readRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  let text = "";
  for (;;) {
    const r = await reader.read();
    if (r.done) return text;
    text += new TextDecoder().decode(r.value);
  }
}

function track(src: ReadableStream<Uint8Array>, sse: boolean, severed?: AbortSignal) {
  const t = { ends: 0, aborts: 0 };
  const body = trackBody(src, { onEnd: () => t.ends++, abortUpstream: () => t.aborts++, severed, sse });
  return { body, t };
}

describe("trackBody", () => {
  test("passes chunks through untouched and ends once", async () => {
    const { body, t } = track(source(["a", "b", "c"]).stream, false);
    expect(await new Response(body).text()).toBe("abc");
    expect(t.ends).toBe(1);
  });

  test("cancel aborts the upstream, cancels the source, ends once", async () => {
    const src = source(["a"], "hang");
    const { body, t } = track(src.stream, false);
    const reader = body.getReader();
    await reader.read();
    await reader.cancel("gone");
    await reader.cancel("again").catch(() => {});
    expect(t.ends).toBe(1);
    expect(t.aborts).toBeGreaterThanOrEqual(1);
    expect(src.wasCancelled()).toBe(true);
  });

  test("an event stream the client leaves right after [DONE] ended complete; one it leaves before, cancelled", async () => {
    const how = (chunks: string[]) => {
      const ends: string[] = [];
      const body = trackBody(source(chunks, "hang").stream, { onEnd: (h) => void ends.push(h), abortUpstream: () => {}, sse: true });
      return { body, ends };
    };
    const done = how(['data: {"n":1}\n\n', "data: [DONE]\n\n"]);
    const r1 = done.body.getReader();
    await r1.read();
    await r1.read();
    await r1.cancel("the client got [DONE]");
    expect(done.ends).toEqual(["complete"]);
    const early = how(['data: {"n":1}\n\n', 'data: {"n":2}\n\n']);
    const r2 = early.body.getReader();
    await r2.read();
    await r2.cancel("the client left");
    expect(early.ends).toEqual(["cancelled"]);
  });

  test("a failing source errors a plain body (visible truncation) and ends once", async () => {
    const { body, t } = track(source(["a"], "error").stream, false);
    await expect(new Response(body).text()).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 10));
    expect(t.ends).toBe(1);
  });

  test("a failing event stream ends with an error event on a clean boundary, then [DONE]", async () => {
    const { body, t } = track(source(["data: 1\n\n", "data: {\"part"], "error").stream, true);
    const text = await new Response(body).text();
    expect(text.startsWith('data: 1\n\ndata: {"part\n\ndata: {"src":"switchyard","error"')).toBe(true);
    const events = parseSse(text);
    expect(JSON.parse(events[events.length - 2].data).error.code).toBe("bad_gateway");
    expect(events[events.length - 1].data).toBe("[DONE]");
    expect(t.ends).toBe(1);
  });

  test("a sever cuts a hanging event stream in-band with the reason", async () => {
    const ac = new AbortController();
    const { body, t } = track(source(["data: 1\n\n"], "hang").stream, true, ac.signal);
    const reader = body.getReader();
    await reader.read();
    ac.abort(new RouteError("severed", "evicted"));
    const text = await readRest(reader);
    const events = parseSse(text);
    expect(events.map((e) => e.data)).toEqual(['{"src":"switchyard","error":{"message":"evicted","type":"server_error","param":null,"code":"request_severed"}}', "[DONE]"]);
    expect(t.ends).toBe(1);
    expect(t.aborts).toBe(1);
  });

  test("a sever after the client got [DONE] adds nothing and ends complete", async () => {
    const ac = new AbortController();
    const ends: string[] = [];
    const body = trackBody(source(['data: {"x":1}\n\ndata: [DONE]\n\n'], "hang").stream, {
      onEnd: (h) => void ends.push(h),
      abortUpstream: () => {},
      severed: ac.signal,
      sse: true,
    });
    const reader = body.getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    // The upstream's terminating chunk has not come yet when the drain deadline passes.
    ac.abort(new RouteError("severed", "drain deadline passed"));
    text += await readRest(reader);
    expect(text).toBe('data: {"x":1}\n\ndata: [DONE]\n\n');
    expect(ends).toEqual(["complete"]);
  });

  test("Anthropic's dialect: a sever mid-stream is an `event: error` in its shape with no [DONE]; after message_stop it adds nothing and ends complete", async () => {
    const run = async (chunks: string[]) => {
      const ac = new AbortController();
      const ends: string[] = [];
      const body = trackBody(source([...chunks], "hang").stream, { onEnd: (h) => void ends.push(h), abortUpstream: () => {}, severed: ac.signal, sse: true, dialect: "anthropic" });
      const reader = body.getReader();
      let text = "";
      for (let i = 0; i < chunks.length; i++) text += new TextDecoder().decode((await reader.read()).value);
      ac.abort(new RouteError("severed", "drain deadline passed"));
      return { text: text + (await readRest(reader)), ends };
    };
    const delta = 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n';
    const cut = await run([delta]);
    expect(cut.text).toBe(`${delta}event: error\ndata: {"type":"error","error":{"type":"api_error","message":"drain deadline passed"}}\n\n`);
    expect(cut.ends).toEqual(["severed"]);
    const stop = 'event: message_stop\ndata: {"type":"message_stop"}\n\n';
    const whole = await run([delta, stop]);
    expect(whole.text).toBe(delta + stop);
    expect(whole.ends).toEqual(["complete"]);
  });

  test("a sever while the client is not reading ends at once (the grant is not held), the error waiting for its next read", async () => {
    for (const sse of [true, false]) {
      const ac = new AbortController();
      const ends: string[] = [];
      let aborts = 0;
      const body = trackBody(source(["data: 1\n\n", "data: 2\n\n"], "hang").stream, { onEnd: (h) => void ends.push(h), abortUpstream: () => aborts++, severed: ac.signal, sse });
      const reader = body.getReader();
      await reader.read();
      // The client stalls: no read is pending when the operator's cancel (or a drain) cuts it.
      ac.abort(new RouteError("cancelled", "cancelled by an operator"));
      expect(ends).toEqual(["severed"]);
      expect(aborts).toBe(1);
      if (sse) {
        const text = await readRest(reader);
        const events = parseSse(text);
        expect(JSON.parse(events[0].data).error.code).toBe("cancelled");
        expect(events.at(-1)!.data).toBe("[DONE]");
      } else await expect(reader.read()).rejects.toThrow("cancelled by an operator");
      expect(ends).toEqual(["severed"]);
    }
  });

  test("an event stream whose connection fails after [DONE] ends whole and complete", async () => {
    const ends: string[] = [];
    const body = trackBody(source(["data: 1\n\n", "data: [DONE]\n\n"], "error").stream, { onEnd: (h) => void ends.push(h), abortUpstream: () => {}, sse: true });
    expect(await new Response(body).text()).toBe("data: 1\n\ndata: [DONE]\n\n");
    expect(ends).toEqual(["complete"]);
  });

  test("a sever cuts a plain body with an error", async () => {
    const ac = new AbortController();
    const { body, t } = track(source(["x"], "hang").stream, false, ac.signal);
    const reader = body.getReader();
    await reader.read();
    ac.abort(new RouteError("severed", "evicted"));
    await expect(reader.read()).rejects.toThrow("evicted");
    await new Promise((r) => setTimeout(r, 10));
    expect(t.ends).toBe(1);
  });

  test("an already-severed grant yields only the error", async () => {
    const ac = new AbortController();
    ac.abort(new RouteError("severed", "too late"));
    const { body } = track(source(["data: 1\n\n"]).stream, true, ac.signal);
    const events = parseSse(await new Response(body).text());
    expect(events).toHaveLength(2);
    expect(JSON.parse(events[0].data).error.message).toBe("too late");
  });
});
