/**
 * The loading-progress stream: for a streaming chat completion that has to wait for its model,
 * answer 200 `text/event-stream` at once and report progress as `chat.completion.chunk`
 * objects carrying `delta.reasoning_content` (the shape llama-swap uses, which chat UIs show
 * as "thinking"), then continue with the upstream's own event stream in the same response.
 * Any failure after the headers went out ends with one in-band error event and `[DONE]`.
 * Built by hand as a pull-based web ReadableStream: Elysia's generator/sse() path swallows
 * errors and mis-frames multi-line data (docs/runtime-notes.md#elysia-sse).
 */
import { RouteError, type Grant, type Router, type WaitUpdate } from "../router/types.ts";
import { sseBytes, sseEvent } from "../sse/encode.ts";
import { endsLater, finish as finishBody } from "./body-end.ts";
import { sseErrorBytes, sseRouteErrorBytes } from "./errors.ts";
import { isCompressed } from "./hop-by-hop.ts";

/** Inputs of one loading stream. */
export interface LoadingStreamOptions {
  /** The name the client asked for (the chunks' `model`). */
  model: string;
  /** The model ID being loaded (named in the progress text). */
  modelId: string;
  /** Past load durations of that model in ms, oldest first. */
  loadHistoryMs: readonly number[];
  /** Updates received before the stream was created; the first one proved admission. */
  initial: readonly WaitUpdate[];
  /** Register for the updates still to come. */
  follow(onUpdate: (u: WaitUpdate) => void): void;
  /** Resolves with the grant, or rejects with a RouteError. */
  grant: Promise<Grant>;
  /** The request ended without being forwarded: refused after the stream began, or its client left. */
  onGiveUp?: (err: unknown) => void;
  /** Forward the request on the grant; resolves with the upstream response or our error envelope. */
  forward: ForwardOnGrant;
  /** Abort the wait and the upstream request (the client left). */
  abort(reason: unknown): void;
  /** Progress tick interval. */
  tickMs: number;
  /** Clock in epoch ms. */
  now(): number;
  /** When the request arrived (epoch ms). */
  startedAt: number;
}

/**
 * Forward a request on its grant. `identity`: ask the upstream for an uncompressed body, because
 * the loading stream splices it after its own plain events (a gzip stream cannot be joined so).
 */
export type ForwardOnGrant = (grant: Grant, o?: { identity?: boolean }) => Promise<Response>;

/** Median of past load durations, or null on a first load. */
export function medianMs(history: readonly number[]): number | null {
  if (history.length === 0) return null;
  const s = [...history].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const secs = (ms: number): string => String(Math.max(0, Math.round(ms / 1000)));
const RULE = "━━━━━";

/** An error answer's message, and its envelope's code and type when it names them as strings. */
interface ErrorOf {
  message: string;
  code?: string;
  type?: string;
}

/** Read at most `limit` bytes of an error body and pull its message (and envelope code and type) out of it. */
async function errorOf(res: Response, limit = 64 * 1024): Promise<ErrorOf> {
  if (!res.body) return { message: `upstream answered ${res.status}` };
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      size += value.byteLength;
    }
  } catch {
    // a truncated error body still says something
  }
  reader.cancel().catch(() => {});
  const buf = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    buf.set(p, off);
    off += p.byteLength;
  }
  const text = new TextDecoder().decode(buf).slice(0, limit);
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown; code?: unknown; type?: unknown } | string; message?: unknown };
    if (typeof j.error === "string") return { message: j.error };
    if (j.error && typeof j.error.message === "string") {
      // Our own envelopes (a timeout, a sever, a cancel) and OpenAI-style ones keep their code in-band.
      const code = typeof j.error.code === "string" ? j.error.code : undefined;
      const type = typeof j.error.type === "string" ? j.error.type : undefined;
      return { message: j.error.message, ...(code ? { code } : {}), ...(type ? { type } : {}) };
    }
    if (typeof j.message === "string") return { message: j.message };
  } catch {
    // not JSON
  }
  return { message: text.trim() || `upstream answered ${res.status}` };
}

/** Build the 200 event-stream response for a request that is waiting for its model. */
export function loadingStreamResponse(opts: LoadingStreamOptions): Response {
  const id = `chatcmpl-${crypto.randomUUID()}`;
  const created = Math.floor(opts.startedAt / 1000);
  const estimate = medianMs(opts.loadHistoryMs);
  let first = true;
  const chunk = (text: string): Uint8Array => {
    const delta: Record<string, string> = first ? { role: "assistant", reasoning_content: text } : { reasoning_content: text };
    first = false;
    return sseBytes(
      sseEvent({
        id,
        object: "chat.completion.chunk",
        created,
        model: opts.model,
        choices: [{ index: 0, delta, finish_reason: null }],
      }),
    );
  };

  // Pending bytes of the loading phase; small and time-bounded (one line per tick at most).
  const pending: Uint8Array[] = [];
  let wake: (() => void) | null = null;
  const push = (b: Uint8Array): void => {
    pending.push(b);
    wake?.();
  };
  let phase: "waiting" | "forwarding" | "piping" | "closed" = "waiting";
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  let cancelled = false;
  let position = -1;
  let loading = false;
  let loadStartedAt: number | null = null;
  // Whether the expected load time was said (at the opening, when the wait begins with a load).
  let estimateSaid = opts.initial.some((u) => u.loading);

  const estimateText = (): string =>
    estimate === null
      ? "Expected load time: unknown (first load)"
      : `Expected load time: about ${secs(estimate)}s (median of ${opts.loadHistoryMs.length} past load${opts.loadHistoryMs.length === 1 ? "" : "s"})`;

  const describe = (u: WaitUpdate): string | null => {
    if (u.position === position && u.loading === loading) return null;
    const wasLoading = loading;
    position = u.position;
    loading = u.loading;
    if (u.loading && !wasLoading) {
      loadStartedAt ??= u.loadingSince ?? opts.now();
      // A wait that began queued has not said what a load takes: it says so once the load begins.
      if (!estimateSaid) {
        estimateSaid = true;
        return `Loading model ${opts.modelId} now\n${estimateText()}\n`;
      }
      return `Loading model ${opts.modelId} now\n`;
    }
    if (u.position >= 1) return `Queue position: #${u.position}\n`;
    return null;
  };

  const tickText = (): string => {
    const elapsed = opts.now() - opts.startedAt;
    if (!loading && position >= 1) return `${secs(elapsed)}s elapsed, queue position #${position}\n`;
    if (estimate === null) return `${secs(elapsed)}s elapsed, time left unknown\n`;
    const left = estimate - (opts.now() - (loadStartedAt ?? opts.startedAt));
    // Rounded up: a load with time left never reads "about 0s left".
    return left > 0
      ? `${secs(elapsed)}s elapsed, about ${Math.max(1, Math.ceil(left / 1000))}s left\n`
      : `${secs(elapsed)}s elapsed, taking longer than usual\n`;
  };

  const finish = (tail: Uint8Array): void => {
    push(tail);
    phase = "closed";
    wake?.();
  };

  // Opening lines, then the updates that proved admission. A request that is queued (behind other
  // models' loads, a drain, or the serial scheduler's order) is waiting, not loading: the model may
  // be ready already, so it hears of a load, and what one takes, only when one begins for it.
  push(chunk(estimateSaid ? `${RULE}\nswitchyard: loading model ${opts.modelId}\n${estimateText()}\n` : `${RULE}\nswitchyard: waiting for model ${opts.modelId}\n`));
  for (const u of opts.initial) {
    const t = describe(u);
    if (t) push(chunk(t));
  }
  opts.follow((u) => {
    if (phase !== "waiting") return;
    const t = describe(u);
    if (t) push(chunk(t));
  });
  const timer = setInterval(() => {
    if (phase === "waiting") push(chunk(tickText()));
  }, opts.tickMs);

  opts.grant.then(
    async (grant) => {
      clearInterval(timer);
      if (cancelled) {
        grant.done();
        opts.onGiveUp?.(new RouteError("cancelled", "the client went away"));
        return;
      }
      const took = (opts.now() - opts.startedAt) / 1000;
      push(chunk(`Done! ${opts.modelId} ready after ${took.toFixed(2)}s\n${RULE}\n\n`));
      phase = "forwarding";
      const res = await opts.forward(grant, { identity: true });
      if (cancelled) {
        res.body?.cancel().catch(() => {});
        return;
      }
      const ct = (res.headers.get("content-type") ?? "").toLowerCase();
      if (res.status >= 400 || !res.body) {
        const e = await errorOf(res);
        finish(sseErrorBytes(e.message, { status: res.status >= 400 ? res.status : 502, code: e.code, type: e.type }));
      } else if (!ct.includes("text/event-stream")) {
        res.body.cancel().catch(() => {});
        finish(sseErrorBytes(`upstream answered ${ct || "no content type"} instead of an event stream`, { status: 502 }));
      } else if (isCompressed(res.headers)) {
        res.body.cancel().catch(() => {});
        finish(sseErrorBytes(`upstream answered a ${res.headers.get("content-encoding")}-compressed event stream though asked for identity; it cannot follow the loading progress`, { status: 502 }));
      } else {
        reader = res.body.getReader();
        phase = "piping";
        wake?.();
      }
    },
    (err) => {
      clearInterval(timer);
      opts.onGiveUp?.(err);
      if (cancelled) return;
      const took = (opts.now() - opts.startedAt) / 1000;
      push(chunk(`Failed after ${took.toFixed(2)}s\n${RULE}\n\n`));
      finish(sseRouteErrorBytes(err));
    },
  ).catch((err: unknown) => {
    // forward() never throws by contract; should anything above still fail, the client gets an
    // in-band error instead of a stream that hangs forever (and no unhandled rejection).
    if (cancelled || phase === "closed" || phase === "piping") return;
    finish(sseErrorBytes(`loading stream failed: ${err instanceof Error ? err.message : String(err)}`, { status: 502 }));
  });

  // What went to the client, and when the stream ended, for the access log.
  let sent = 0;
  const enqueue = (controller: ReadableStreamDefaultController<Uint8Array>, b: Uint8Array): void => {
    sent += b.byteLength;
    controller.enqueue(b);
  };
  const close = (controller: ReadableStreamDefaultController<Uint8Array>): void => {
    controller.close();
    finishBody(ended, sent);
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          if (cancelled) return;
          const next = pending.shift();
          if (next) {
            enqueue(controller, next);
            return;
          }
          if (phase === "closed") {
            close(controller);
            return;
          }
          if (phase === "piping" && reader) {
            // The upstream body is already tracked: sever and death arrive in-band, end releases the grant.
            try {
              const r = await reader.read();
              if (r.done) close(controller);
              else enqueue(controller, r.value);
            } catch (err) {
              if (cancelled) return;
              enqueue(controller, sseErrorBytes(`upstream stream failed: ${err instanceof Error ? err.message : String(err)}`));
              close(controller);
            }
            return;
          }
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
        }
      },
      cancel(reason) {
        cancelled = true;
        finishBody(ended, sent);
        clearInterval(timer);
        opts.abort(reason);
        reader?.cancel(reason).catch(() => {});
        wake?.();
      },
    },
    { highWaterMark: 0 },
  );

  const response = new Response(stream, {
    status: 200,
    headers: {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "x-accel-buffering": "no",
    },
  });
  const ended = endsLater(response);
  loadingStreams.add(response);
  return response;
}

const loadingStreams = new WeakSet<Response>();

/** Whether this response is a loading stream (switchyard's own, so its CORS header is switchyard's to give). */
export function isLoadingStream(res: Response): boolean {
  return loadingStreams.has(res);
}

/** What acquiring with a loading stream needs. */
export interface ProgressAcquireOptions {
  router: Pick<Router, "acquire">;
  /** The name the client asked for, and the model ID it resolved to. */
  model: string;
  modelId: string;
  /** The client's signal. */
  signal: AbortSignal;
  loadHistoryMs: readonly number[];
  forward: ForwardOnGrant;
  tickMs: number;
  now(): number;
  /** Hears every update too (the request's activity record). */
  onWait?: (u: WaitUpdate) => void;
  /** The request ended without being forwarded after the stream began (see LoadingStreamOptions). */
  onGiveUp?: (err: unknown) => void;
}

/**
 * Acquire, and switch to the loading stream only once the router reports the request as
 * waiting: an update proves admission, so 404/429 refusals still go out as plain statuses before
 * any byte (the router only sends updates to admitted requests). A grant that comes first is
 * forwarded as a plain response. Updates that arrive before the stream exists are kept and
 * handed to it in order.
 */
export async function acquireWithProgress(o: ProgressAcquireOptions): Promise<Response> {
  const startedAt = o.now();
  const abort = new AbortController();
  const onClientAbort = (): void => abort.abort(o.signal.reason);
  if (o.signal.aborted) onClientAbort();
  else o.signal.addEventListener("abort", onClientAbort, { once: true });

  const early: WaitUpdate[] = [];
  let listener: ((u: WaitUpdate) => void) | null = null;
  let admitted!: () => void;
  const firstUpdate = new Promise<"update">((resolve) => (admitted = () => resolve("update")));
  const onUpdate = (u: WaitUpdate): void => {
    o.onWait?.(u);
    if (listener) return listener(u);
    early.push(u);
    admitted();
  };

  const grant = o.router.acquire(o.modelId, { signal: abort.signal, onUpdate });
  const first = await Promise.race([grant.then((g) => ({ grant: g }), (err: unknown) => ({ err })), firstUpdate]);
  if (first !== "update") {
    if ("err" in first) throw first.err;
    return o.forward(first.grant);
  }
  return loadingStreamResponse({
    model: o.model,
    modelId: o.modelId,
    loadHistoryMs: o.loadHistoryMs,
    initial: early,
    follow: (fn) => void (listener = fn),
    grant,
    forward: o.forward,
    onGiveUp: o.onGiveUp,
    abort: (reason) => abort.abort(reason),
    tickMs: o.tickMs,
    now: o.now,
    startedAt,
  });
}
