/**
 * The load generator: closed-loop workers on Bun's fetch, in the benchmark's own process. On a
 * small machine it competes with the proxy and the backend for CPU, so it is kept cheap (a fixed
 * request body, no JSON parsing of answers) and direct and proxied runs use the same generator,
 * which is why results are reported as ratios.
 */
import { epochMs } from "./clock.ts";

/** What a closed-loop run measured. */
export interface LoadResult {
  /** Latency of each successful request (ms): send to last byte of the body. */
  latenciesMs: number[];
  ok: number;
  errors: number;
  wallMs: number;
  /** Successful requests per second. */
  rps: number;
}

/** `concurrency` workers each send `body` to `url` back to back for `durationMs`. */
export async function closedLoop(opts: { url: string; body: string; concurrency: number; durationMs: number }): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + opts.durationMs;
  const init = { method: "POST", headers: { "content-type": "application/json" }, body: opts.body };
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const res = await fetch(opts.url, init);
        await res.arrayBuffer();
        if (res.status === 200) latenciesMs.push(performance.now() - t0);
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const wallMs = performance.now() - start;
  return { latenciesMs, ok: latenciesMs.length, errors, wallMs, rps: (latenciesMs.length / wallMs) * 1000 };
}

/** A chat request body. */
export function chatBody(model: string, maxTokens: number, stream: boolean): string {
  return JSON.stringify({ model, stream, max_tokens: maxTokens, messages: [{ role: "user", content: "Say something." }] });
}

/** POST a chat body. */
export function postChat(url: string, body: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body, signal });
}

/** What one streamed answer looked like, read cheaply (events counted, not parsed). */
export interface StreamCount {
  status: number;
  /** SSE events (blank-line terminated). */
  events: number;
  bytes: number;
  /** The body ended with `data: [DONE]`. */
  done: boolean;
  /** Epoch ms of the response headers, the first body byte and the end. */
  headersAt: number;
  firstByteAt: number;
  endAt: number;
  error?: string;
}

const DONE = new TextEncoder().encode("data: [DONE]\n\n");

/** Read an SSE body counting events; keeps only the tail to check for `[DONE]`. */
export async function countSse(res: Response, headersAt: number): Promise<StreamCount> {
  const out: StreamCount = { status: res.status, events: 0, bytes: 0, done: false, headersAt, firstByteAt: NaN, endAt: NaN };
  let last = 0; // the previous chunk's last byte: an event's blank line may straddle two chunks
  let tail: Uint8Array = new Uint8Array(0);
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (chunk.length === 0) continue;
      if (out.bytes === 0) out.firstByteAt = epochMs();
      out.bytes += chunk.length;
      // An event ends at "\n\n"; count newlines preceded by a newline (native indexOf keeps it cheap).
      for (let i = 0; ; ) {
        const nl = chunk.indexOf(10, i);
        if (nl < 0) break;
        if ((nl === 0 ? last : chunk[nl - 1]) === 10) out.events++;
        i = nl + 1;
      }
      last = chunk[chunk.length - 1]!;
      tail = chunk.length >= DONE.length ? chunk.subarray(chunk.length - DONE.length) : concatTail(tail, chunk);
    }
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
  }
  out.endAt = epochMs();
  out.done = tail.length === DONE.length && tail.every((b, k) => b === DONE[k]);
  return out;
}

function concatTail(a: Uint8Array, b: Uint8Array): Uint8Array {
  const c = new Uint8Array(a.length + b.length);
  c.set(a);
  c.set(b, a.length);
  return c.subarray(Math.max(0, c.length - DONE.length));
}
