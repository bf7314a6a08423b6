/**
 * When a response's body has been sent, and how many bytes it carried, for the access log: a
 * streamed body ends long after its handler returned (llama-swap logs the line then, with the
 * size and the whole duration). A registry beside the Response, not a wrapper around its body:
 * the bodies that end later are already JavaScript streams that know their end (track-body, the
 * loading stream), and a body handed over natively must stay native (BENCHMARKS.md, issue 16).
 */

/** A response's body end as far as it is known: `bytes` once `ended`. */
export interface BodyEndRecord {
  ended: boolean;
  bytes: number;
  /** Set by the one who wants to hear of the end (the access log). */
  listener: ((bytes: number) => void) | null;
}

const records = new WeakMap<Response, BodyEndRecord>();

/** Mark `res` as a body that ends later; call `finish` on the record when it has. */
export function endsLater(res: Response): BodyEndRecord {
  const r: BodyEndRecord = { ended: false, bytes: 0, listener: null };
  records.set(res, r);
  return r;
}

/** Mark `res` as sent whole with `bytes` bytes (a body built in memory). Returns `res`. */
export function sized(res: Response, bytes: number): Response {
  records.set(res, { ended: true, bytes, listener: null });
  return res;
}

/** The body has ended after `bytes` bytes: tell the listener, once. */
export function finish(r: BodyEndRecord, bytes: number): void {
  if (r.ended) return;
  r.ended = true;
  r.bytes = bytes;
  r.listener?.(bytes);
}

/**
 * Call `then` with the body's size when it has been sent: at once for a body marked sized or
 * already ended, or one with a declared length; later for one marked `endsLater`; at once with
 * null (size unknown) for any other. `res.body` is not looked at: in Bun that getter turns a
 * body held in memory into a stream.
 */
export function whenSent(res: Response, then: (bytes: number | null) => void): void {
  const r = records.get(res);
  if (r === undefined) {
    const declared = res.headers.get("content-length");
    then(declared === null ? null : Number(declared));
  } else if (r.ended) then(r.bytes);
  else r.listener = then;
}
