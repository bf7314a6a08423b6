/**
 * Per-chunk latency: reads an SSE body from scripts/bench/stamp-backend.ts, whose every event carries
 * `"t":<epoch ms>` taken when the backend handed it to its socket, and records arrival minus that
 * stamp for every event. Backend and benchmark share the machine's clock.
 */
import { epochMs } from "./clock.ts";

/** Outcome of one stamped stream. */
export interface StampedStream {
  status: number;
  events: number;
  done: boolean;
}

/** Read `res`, pushing one latency (ms) per stamped event into `sink`. */
export async function readStamped(res: Response, sink: number[]): Promise<StampedStream> {
  const out: StampedStream = { status: res.status, events: 0, done: false };
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const at = epochMs();
    buf += dec.decode(chunk, { stream: true });
    let end: number;
    while ((end = buf.indexOf("\n\n")) >= 0) {
      const event = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const k = event.indexOf('"t":');
      if (k >= 0) {
        sink.push(at - parseFloat(event.slice(k + 4, event.indexOf(",", k))));
        out.events++;
      } else if (event === "data: [DONE]") out.done = true;
    }
  }
  return out;
}
