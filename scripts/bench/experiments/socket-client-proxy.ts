/**
 * Issue 16 experiment (not part of `npm run bench`): a minimal Bun proxy whose upstream client is
 * our own HTTP/1.1 over `Bun.connect` instead of `fetch`, to see whether fetch's side of a
 * JavaScript body (its reader, and its 256 KiB of parking per stream) is what a stream costs.
 * The response body is fed from the socket's `data` callback:
 * - `direct`: a `type: "direct"` stream; a write that returns a promise pauses the socket until
 *   it settles;
 * - `pull`: a pull-based stream with `highWaterMark: 0`; a read with no pull waiting is queued and
 *   the socket paused until the client pulls again, so the backend meets TCP backpressure.
 * Handles what the simulator sends (content-length or chunked, keep-alive), nothing more: no
 * errors mid-body, no TLS, no timeouts. It prints its counters on SIGTERM.
 * Usage: bun socket-client-proxy.ts <direct|pull> <upstream http://host:port> <port>;
 * load it with body-paths-load.ts.
 */
import type { Socket } from "bun";

const mode = process.argv[2] === "pull" ? "pull" : "direct";
const upstream = new URL(process.argv[3]!);
const port = Number(process.argv[4]);

/** Bun's direct-stream controller (globals.d.ts's ReadableStreamDirectController). */
interface DirectController {
  write(chunk: Uint8Array): number | Promise<number>;
  close(): void;
}

/** One request on a connection. */
interface Job {
  /** The connection it was sent on. */
  conn: Conn;
  resolve(res: Response): void;
  reject(err: unknown): void;
  /** The response head so far, until its blank line. */
  head: Uint8Array | null;
  started: boolean;
  framing: "length" | "chunked" | "close";
  /** length: bytes left; chunked: bytes left of this chunk, -1 = at a size line, -2 = at a chunk's CRLF. */
  left: number;
  /** Bytes of an unfinished size line or CRLF from the last read. */
  carry: Uint8Array | null;
  direct: DirectController | null;
  pull: ReadableStreamDefaultController<Uint8Array> | null;
  /** Resolves the pull that waits for bytes. */
  waiting: (() => void) | null;
  queued: Uint8Array[];
  paused: boolean;
  ended: boolean;
}

type Conn = Socket<{ job: Job | null }>;
const idle: Conn[] = [];
const counts = { streams: 0, writes: 0, writePromises: 0, pauses: 0 };
const decoder = new TextDecoder();

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Index of the blank line that ends a head (CRLF CRLF), or -1. */
function headEnd(b: Uint8Array): number {
  for (let i = b.indexOf(13); i >= 0 && i + 3 < b.length; i = b.indexOf(13, i + 1)) {
    if (b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

/** Hand body bytes on (a copy: the socket reuses its buffer). */
function emit(job: Job, bytes: Uint8Array, conn: Conn): void {
  if (bytes.length === 0) return;
  if (mode === "pull") {
    if (job.waiting && job.pull) {
      job.pull.enqueue(bytes.slice());
      job.waiting();
      job.waiting = null;
      return;
    }
    job.queued.push(bytes.slice());
    if (!job.paused) {
      job.paused = true;
      counts.pauses++;
      conn.pause();
    }
    return;
  }
  if (!job.direct) {
    job.queued.push(bytes.slice());
    return;
  }
  counts.writes++;
  const r = job.direct.write(bytes);
  if (typeof r !== "number") {
    counts.writePromises++;
    conn.pause();
    r.then(() => conn.resume());
  }
}

function finish(job: Job, conn: Conn): void {
  job.ended = true;
  counts.streams++;
  job.direct?.close();
  if (job.paused) {
    job.paused = false;
    conn.resume();
  }
  if (job.pull && job.queued.length === 0) {
    job.waiting?.();
    job.waiting = null;
    job.pull.close();
  }
  conn.data.job = null;
  idle.push(conn);
}

function body(job: Job, bytes: Uint8Array, conn: Conn): void {
  if (job.framing === "length") {
    const take = Math.min(job.left, bytes.length);
    emit(job, bytes.subarray(0, take), conn);
    job.left -= take;
    if (job.left === 0) finish(job, conn);
    return;
  }
  if (job.framing === "close") return emit(job, bytes, conn);
  // Chunked: the chunks' payloads of one read, gathered into one buffer.
  const b = job.carry ? concat(job.carry, bytes) : bytes;
  job.carry = null;
  const out = new Uint8Array(b.length);
  let o = 0;
  let i = 0;
  while (i < b.length) {
    if (job.left > 0) {
      const take = Math.min(job.left, b.length - i);
      out.set(b.subarray(i, i + take), o);
      o += take;
      i += take;
      job.left -= take;
      if (job.left === 0) job.left = -2;
    } else if (job.left === -2) {
      if (b.length - i < 2) {
        job.carry = b.slice(i);
        break;
      }
      i += 2;
      job.left = -1;
    } else {
      const lf = b.indexOf(10, i);
      if (lf < 0) {
        job.carry = b.slice(i);
        break;
      }
      let size = 0;
      for (let k = i; k < lf; k++) {
        const c = b[k]!;
        const d = c <= 57 ? c - 48 : (c | 32) - 87;
        if (d < 0 || d > 15) break;
        size = size * 16 + d;
      }
      i = lf + 1;
      if (size === 0) {
        emit(job, out.subarray(0, o), conn);
        return finish(job, conn);
      }
      job.left = size;
    }
  }
  emit(job, out.subarray(0, o), conn);
}

function responseBody(job: Job): ReadableStream<Uint8Array> {
  if (mode === "pull") {
    return new ReadableStream<Uint8Array>(
      {
        start(c) {
          job.pull = c;
        },
        pull(c) {
          const next = job.queued.shift();
          if (!next) {
            if (job.ended) return c.close();
            return new Promise<void>((r) => (job.waiting = r));
          }
          c.enqueue(next);
          if (job.queued.length > 0) return;
          if (job.ended) c.close();
          else if (job.paused) {
            job.paused = false;
            job.conn.resume();
          }
        },
      },
      { highWaterMark: 0 },
    );
  }
  const source = {
    type: "direct" as const,
    pull(c: DirectController) {
      job.direct = c;
      for (const q of job.queued) c.write(q);
      job.queued = [];
      if (job.ended) c.close();
    },
  };
  return new ReadableStream(source as unknown as UnderlyingDefaultSource<Uint8Array>);
}

function onHead(job: Job, b: Uint8Array, end: number, c: Conn): void {
  job.started = true;
  const lines = decoder.decode(b.subarray(0, end)).split("\r\n");
  const status = Number(lines[0]!.split(" ")[1]);
  const headers = new Headers();
  let chunked = false;
  let length = -1;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "transfer-encoding") chunked = true;
    else if (name !== "connection" && name !== "keep-alive") headers.append(name, value);
    if (name === "content-length") length = Number(value);
  }
  job.framing = chunked ? "chunked" : length >= 0 ? "length" : "close";
  job.left = chunked ? -1 : length;
  job.resolve(new Response(responseBody(job), { status, headers }));
  const rest = b.subarray(end + 4);
  if (rest.length > 0) body(job, rest, c);
  else if (job.framing === "length" && job.left === 0) finish(job, c);
}

const handlers = {
  data(c: Conn, buf: Uint8Array) {
    const job = c.data.job;
    if (!job) return;
    if (job.started) return body(job, buf, c);
    const b = job.head ? concat(job.head, buf) : buf;
    const end = headEnd(b);
    if (end < 0) job.head = b.slice();
    else onHead(job, b, end, c);
  },
  close(c: Conn) {
    const at = idle.indexOf(c);
    if (at >= 0) idle.splice(at, 1);
    const job = c.data.job;
    if (!job || job.ended) return;
    if (!job.started) job.reject(new Error("upstream closed before its response"));
    else finish(job, c);
  },
  error(c: Conn, err: Error) {
    const job = c.data.job;
    if (job && !job.started) job.reject(err);
  },
};

async function send(method: string, path: string, headers: Headers, reqBody: Uint8Array): Promise<Response> {
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${upstream.host}\r\ncontent-length: ${reqBody.length}\r\n`;
  headers.forEach((v, k) => {
    if (k !== "host" && k !== "content-length" && k !== "connection") head += `${k}: ${v}\r\n`;
  });
  const c = idle.pop() ?? (await Bun.connect({ hostname: upstream.hostname, port: Number(upstream.port), socket: handlers, data: { job: null } }));
  return new Promise<Response>((resolve, reject) => {
    const job: Job = { conn: c, resolve, reject, head: null, started: false, framing: "close", left: 0, carry: null, direct: null, pull: null, waiting: null, queued: [], paused: false, ended: false };
    c.data.job = job;
    c.write(head + "\r\n");
    c.write(reqBody);
  });
}

Bun.serve({
  port,
  hostname: "127.0.0.1",
  idleTimeout: 0,
  async fetch(req) {
    return send(req.method, new URL(req.url).pathname, req.headers, await req.bytes());
  },
});
process.on("SIGTERM", () => {
  console.log(JSON.stringify(counts));
  process.exit(0);
});
console.log("ready");
