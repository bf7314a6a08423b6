/**
 * The simulator's `--close-after-response` transport: a minimal HTTP/1.1 server over raw TCP that
 * answers each connection's first request with `Connection: keep-alive` and then closes the
 * socket anyway, which is what llama.cpp's llama-server does to a client that leaves a connection
 * idle (see docs/proxy.md). A client that reuses such a connection sends its next request into a
 * closed socket and gets a reset, which is the failure the proxy's retry exists for.
 *
 * Why raw TCP: Bun.serve gives a handler no hold on its socket, and Bun's node:http ignores
 * `res.socket.destroy()` after a response (docs/runtime-notes.md#serve-socket).
 */
import { STATUS_CODES } from "node:http";
import { createServer, type Socket } from "node:net";

/** A fetch-style handler (the simulator's own). */
export type FetchHandler = (req: Request) => Promise<Response> | Response;

const CRLF = "\r\n";
const HEAD_END = "\r\n\r\n";
/** Request heads longer than this are refused (a real server has a limit too). */
const MAX_HEAD = 64 * 1024;

/** Listen on host:port (0 = any) and resolve with the bound port. */
export function serveClosingAfterResponse(host: string, port: number, handler: FetchHandler): Promise<number> {
  const server = createServer({ allowHalfOpen: false }, (socket) => void serveOne(socket, host, handler));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve(typeof addr === "object" && addr ? addr.port : port);
    });
  });
}

/** Read one request from the socket, answer it, then close the socket whatever it said. */
async function serveOne(socket: Socket, host: string, handler: FetchHandler): Promise<void> {
  const gone = new AbortController();
  socket.on("close", () => gone.abort(new Error("client closed the connection")));
  socket.on("error", () => {});
  try {
    const req = await readRequest(socket, host, gone.signal);
    if (!req) return void socket.destroy();
    const res = await handler(req);
    await writeResponse(socket, res, req.method === "HEAD");
  } catch {
    // The client left mid-answer, or the request was malformed: nothing more to say.
  }
  // Close right after the last byte, though the response said keep-alive.
  socket.end(() => socket.destroy());
}

/** Parse the head and a content-length or chunked body into a Request; null on a malformed head. */
function readRequest(socket: Socket, host: string, signal: AbortSignal): Promise<Request | null> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let head: { method: string; target: string; headers: Headers; bodyStart: number } | null = null;
    const finish = (r: Request | null): void => {
      socket.off("data", onData);
      socket.off("close", onClose);
      resolve(r);
    };
    const onClose = (): void => finish(null);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      if (!head) {
        const end = buf.indexOf(HEAD_END);
        if (end < 0) return void (buf.length > MAX_HEAD && finish(null));
        const lines = buf.subarray(0, end).toString("latin1").split(CRLF);
        const [method, target] = lines[0]!.split(" ");
        if (!method || !target) return finish(null);
        const headers = new Headers();
        for (const line of lines.slice(1)) {
          const i = line.indexOf(":");
          if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
        }
        head = { method, target, headers, bodyStart: end + HEAD_END.length };
      }
      const body = bodyOf(buf.subarray(head.bodyStart), head.headers);
      if (body === undefined) return; // more bytes to come
      const bodyless = head.method === "GET" || head.method === "HEAD";
      finish(
        new Request(`http://${head.headers.get("host") ?? host}${head.target}`, {
          method: head.method,
          headers: head.headers,
          body: bodyless ? null : new Uint8Array(body),
          signal,
        }),
      );
    };
    socket.on("data", onData);
    socket.on("close", onClose);
  });
}

/** The whole body when it has arrived, else undefined. */
function bodyOf(rest: Buffer, headers: Headers): Uint8Array | undefined {
  if ((headers.get("transfer-encoding") ?? "").toLowerCase().includes("chunked")) {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const eol = rest.indexOf(CRLF, at);
      if (eol < 0) return undefined;
      const size = parseInt(rest.subarray(at, eol).toString("latin1"), 16);
      if (!Number.isFinite(size)) return new Uint8Array(0);
      if (rest.length < eol + 2 + size + 2) return undefined;
      if (size === 0) return Buffer.concat(parts);
      parts.push(rest.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
  }
  const length = Number(headers.get("content-length") ?? 0);
  return rest.length >= length ? rest.subarray(0, length) : undefined;
}

/** Write status, headers (keep-alive advertised) and a chunked body, honouring backpressure. */
async function writeResponse(socket: Socket, res: Response, headOnly: boolean): Promise<void> {
  // A Response made with only a status has an empty statusText: the reason phrase is the status's own.
  const lines = [`HTTP/1.1 ${res.status} ${res.statusText || STATUS_CODES[res.status] || "Unknown"}`];
  res.headers.forEach((v, k) => {
    if (k !== "content-length" && k !== "transfer-encoding" && k !== "connection") lines.push(`${k}: ${v}`);
  });
  lines.push("connection: keep-alive", "keep-alive: timeout=5, max=100", "transfer-encoding: chunked");
  await write(socket, lines.join(CRLF) + HEAD_END);
  if (headOnly || !res.body) return write(socket, `0${HEAD_END}`);
  const reader = res.body.getReader();
  // A client that leaves mid-answer ends the body (a stalled stream would otherwise wait forever).
  const onClose = (): void => void reader.cancel().catch(() => {});
  socket.once("close", onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length === 0) continue;
      await write(socket, Buffer.concat([Buffer.from(value.length.toString(16) + CRLF), value, Buffer.from(CRLF)]));
    }
  } finally {
    socket.off("close", onClose);
    reader.releaseLock();
  }
  await write(socket, `0${HEAD_END}`);
}

function write(socket: Socket, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return reject(new Error("socket closed"));
    if (socket.write(data)) resolve();
    else socket.once("drain", () => resolve());
  });
}
