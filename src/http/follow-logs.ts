/**
 * Following log streams over HTTP: history (optionally) then live text, as chunked
 * `text/plain`. A reader that falls behind loses text and gets a marker line instead of
 * making switchyard buffer without bound.
 */
import type { LogStream } from "../log/types.ts";

/** Bytes a slow reader may have queued before new text is dropped. */
const MAX_QUEUED = 1024 * 1024;

/** A streaming response that follows `sources` (history first unless `history` is false). */
export function followLogs(sources: readonly LogStream[], history: boolean): Response {
  const encoder = new TextEncoder();
  const unsubscribers: (() => void)[] = [];
  let dropped = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        if (history) {
          const text = sources.map((s) => s.history()).join("");
          if (text) controller.enqueue(encoder.encode(text));
        }
        for (const s of sources) {
          unsubscribers.push(
            s.subscribe((text) => {
              const bytes = encoder.encode(text);
              if ((controller.desiredSize ?? 0) < -MAX_QUEUED) {
                dropped += bytes.byteLength;
                return;
              }
              try {
                if (dropped > 0) {
                  controller.enqueue(encoder.encode(`\n--- ${dropped} bytes dropped (slow reader) ---\n`));
                  dropped = 0;
                }
                controller.enqueue(bytes);
              } catch {
                // closed under us: the cancel below unsubscribes
              }
            }),
          );
        }
      },
      cancel() {
        for (const u of unsubscribers) u();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
  );
  return new Response(stream, {
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
      "x-accel-buffering": "no",
      "cache-control": "no-cache",
    },
  });
}
