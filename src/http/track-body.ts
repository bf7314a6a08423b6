/**
 * Wraps a proxied response body so that the request's bookkeeping (grant.done()) runs exactly
 * once when the body ends, fails or is cancelled, and so that a severed or dying event stream
 * ends with an in-band error event instead of a silent truncation. Pull-based: one upstream
 * read per client read, so backpressure reaches the backend and nothing is buffered.
 * Elysia's onAfterResponse fires when the handler returns, not when a stream ends
 * (docs/runtime-notes.md#elysia-after-response), hence the wrapper.
 */
import { sseBytes } from "../sse/encode.ts";
import { sseErrorBytes, sseRouteErrorBytes, type StreamDialect } from "./errors.ts";

/** How a tracked body ended. */
export type BodyEnd = "complete" | "upstream_error" | "severed" | "cancelled";

/** Options of one tracked body. */
export interface TrackBodyOptions {
  /** Called exactly once when the body has ended, failed, been severed or been cancelled, with the bytes handed to the client. */
  onEnd: (how: BodyEnd, bytes: number) => void;
  /** Called with every chunk handed to the client, before it is handed (must be cheap). */
  onChunk?: (chunk: Uint8Array) => void;
  /** Abort the upstream request (frees its socket at once). */
  abortUpstream: (reason: unknown) => void;
  /** When it aborts, the body is cut: in-band error for event streams, a transport error otherwise. */
  severed?: AbortSignal;
  /** Whether the body is an event stream (errors are then reported in-band, then `[DONE]`). */
  sse: boolean;
  /** How an in-band error is written (default openai; `/v1/messages` streams are Anthropic's). */
  dialect?: StreamDialect;
}

const LF = 10;

/** Return a stream that yields `body`'s chunks untouched and reports its end exactly once. */
export function trackBody(body: ReadableStream<Uint8Array>, opts: TrackBodyOptions): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  let severReason: unknown = null;
  // Trailing newlines of what was forwarded so far, to start an injected event on a clean boundary.
  let trailingLf = 2;
  const dialect = opts.dialect ?? "openai";
  // Whether the last chunk handed over ended with the stream's last event, `data: [DONE]` (or
  // Anthropic's `message_stop`). A flag, not the chunk: holding each stream's last chunk until it
  // ends kept up to one upstream read (hundreds of KB at full speed) alive per stream.
  const lastEvent = dialect === "anthropic" ? MESSAGE_STOP : DONE;
  let lastWasDone = false;
  // Bytes handed to the client (the upstream's and any in-band error we add), for the access log.
  let sent = 0;

  const end = (how: BodyEnd): void => {
    if (ended) return;
    ended = true;
    opts.severed?.removeEventListener("abort", onSever);
    opts.onEnd(how, sent);
  };
  // The stream's controller, and whether a pull is waiting on the upstream right now.
  let ctl: ReadableStreamDefaultController<Uint8Array> | null = null;
  let pulling = false;
  const onSever = (): void => {
    severReason = opts.severed?.reason ?? new Error("severed");
    opts.abortUpstream(severReason);
    // Resolves a pending read with done, so pull() below notices the sever at once.
    reader.cancel(severReason).catch(() => {});
    // No pull waiting: the client is not reading (a stalled client an operator or a drain cuts).
    // End now, with the error queued for its next read, so the grant is not held until then.
    if (!pulling && ctl !== null && !ended) finishSevered(ctl);
  };
  if (opts.severed?.aborted) onSever();
  else opts.severed?.addEventListener("abort", onSever, { once: true });

  const boundary = (): Uint8Array => sseBytes(trailingLf >= 2 ? "" : trailingLf === 1 ? "\n" : "\n\n");
  const failInBand = (controller: ReadableStreamDefaultController<Uint8Array>, tail: Uint8Array): void => {
    const pad = boundary();
    if (pad.byteLength) controller.enqueue(pad);
    controller.enqueue(tail);
    sent += pad.byteLength + tail.byteLength;
    controller.close();
  };

  /** The body was severed: an event stream gets its in-band error (nothing, after `[DONE]`), any other body a transport error. */
  function finishSevered(controller: ReadableStreamDefaultController<Uint8Array>): void {
    if (opts.sse && lastWasDone) controller.close();
    else if (opts.sse) failInBand(controller, sseRouteErrorBytes(severReason, dialect));
    else controller.error(severReason);
    end(opts.sse && lastWasDone ? "complete" : "severed");
  }

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        ctl = controller;
      },
      async pull(controller) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        pulling = true;
        try {
          chunk = await reader.read();
        } catch (err) {
          pulling = false;
          if (ended) return;
          if (severReason !== null) return finishSevered(controller);
          // After `data: [DONE]` nothing was lost, whatever failed: end the stream as whole.
          if (opts.sse && lastWasDone) {
            controller.close();
            end("complete");
            return;
          }
          if (opts.sse) {
            const why = err instanceof Error ? err.message : String(err);
            failInBand(controller, sseErrorBytes(`upstream connection lost mid-stream: ${why}`, { status: 502 }, dialect));
          } else controller.error(err);
          end("upstream_error");
          return;
        }
        pulling = false;
        if (ended) return;
        if (chunk.done) {
          // A sever that lands after the client got `data: [DONE]` cut nothing: the answer is whole.
          if (severReason !== null) finishSevered(controller);
          else {
            controller.close();
            end("complete");
          }
          return;
        }
        const v = chunk.value;
        if (opts.sse && v.byteLength > 0) {
          const last = v[v.byteLength - 1];
          if (last !== LF) trailingLf = 0;
          else if (v.byteLength >= 2 && v[v.byteLength - 2] === LF) trailingLf = 2;
          else trailingLf = trailingLf >= 1 && v.byteLength === 1 ? 2 : 1;
        }
        opts.onChunk?.(v);
        if (opts.sse && v.byteLength > 0) lastWasDone = endsWith(v, lastEvent);
        sent += v.byteLength;
        controller.enqueue(v);
      },
      cancel(reason) {
        opts.abortUpstream(reason);
        reader.cancel(reason).catch(() => {});
        // A client that read `data: [DONE]` and closed before the upstream's own end got it all.
        end(lastWasDone ? "complete" : "cancelled");
      },
    },
    // highWaterMark 0: read upstream only when the client asks, so backpressure is end to end.
    { highWaterMark: 0 },
  );
}

const DONE = new TextEncoder().encode("data: [DONE]");
/** How Anthropic's last event (`message_stop`) ends its data line, spaced or not: its stream has no `[DONE]`. */
const MESSAGE_STOP = new TextEncoder().encode('"message_stop"}');

/** Whether the chunk ends with `tail` (its trailing newlines aside): a stream's last event, `[DONE]` or Anthropic's `message_stop`. */
function endsWith(chunk: Uint8Array, tail: Uint8Array): boolean {
  let end = chunk.byteLength;
  while (end > 0 && (chunk[end - 1] === LF || chunk[end - 1] === 13)) end--;
  if (end < tail.byteLength) return false;
  for (let i = 0; i < tail.byteLength; i++) if (chunk[end - tail.byteLength + i] !== tail[i]) return false;
  return true;
}
