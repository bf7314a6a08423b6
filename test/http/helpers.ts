/**
 * Test helpers for the HTTP layer: hand-built configs, a scriptable fake router, real
 * upstream servers on port 0, and the app listening on port 0.
 */
import type { Config, ModelConfig, PeerConfig } from "../../src/config/types.ts";
import { createLogHub } from "../../src/log/log-hub.ts";
import type { LogHub } from "../../src/log/types.ts";
import type { Supervisor } from "../../src/process/types.ts";
import { RouteError, type AcquireOptions, type Grant, type ModelStatus, type Router, type WaitUpdate } from "../../src/router/types.ts";
import { baseConfig, baseModelConfig, MODEL_TIMEOUTS } from "../fixtures/model-config.ts";
import { createApp, type AppDeps } from "../../src/http/app.ts";

/** A model config with every field defaulted (HTTP tests: no concurrency limit, short timeouts). */
export function modelConfig(id: string, over: Partial<ModelConfig> = {}): ModelConfig {
  return baseModelConfig(id, {
    cmd: ["llama-server", "--port", "1"],
    unloadTimeout: 5,
    drainTimeout: 5,
    concurrencyLimit: 0,
    healthCheckTimeout: 60,
    ...over,
  });
}

/** A peer config with defaults. */
export function peerConfig(id: string, proxy: string, models: string[], over: Partial<PeerConfig> = {}): PeerConfig {
  return { id, proxy, apiKey: "", models, filters: { stripParams: [], setParams: {}, setParamsByID: {} }, timeouts: { ...MODEL_TIMEOUTS, responseHeader: 60 }, ...over };
}

/** A resolved config from models (aliases derived from each model's `aliases`). */
export function makeConfig(models: ModelConfig[], over: Partial<Config> = {}): Config {
  const aliases: Record<string, string> = {};
  for (const m of models) for (const a of m.aliases) aliases[a] = m.id;
  return baseConfig(models, { healthCheckTimeout: 60, unloadTimeout: 5, drainTimeout: 5, aliases, ...over });
}

/** How the fake router treats one model. */
export interface FakeModel {
  baseUrl: string;
  /** Refuse at once with this error (404/429 style, before any update). */
  refuse?: RouteError;
  /** Updates published (in order, each after a macrotask) before the gate. */
  updates?: WaitUpdate[];
  /** Awaited before the grant (a cold model); may reject with a RouteError. */
  gate?: () => Promise<void>;
  /** Grant even when the client has left (a grant racing the cancel). */
  ignoreCancel?: boolean;
  /** Records the signals acquire was given. */
  signals?: AbortSignal[];
}

/** A grant the fake handed out, with its bookkeeping exposed. */
export interface FakeGrant extends Grant {
  doneCalls: number;
  sever(reason?: unknown): void;
}

/** A scriptable Router. */
export interface FakeRouter extends Router {
  grants: FakeGrant[];
  unloads: (string[] | undefined)[];
  statuses: ModelStatus[];
}

/** Create a fake router over per-model scripts. */
export function createFakeRouter(models: Record<string, FakeModel>): FakeRouter {
  const grants: FakeGrant[] = [];
  const unloads: (string[] | undefined)[] = [];
  const router: FakeRouter = {
    grants,
    unloads,
    statuses: [],
    async acquire(model: string, opts: AcquireOptions): Promise<Grant> {
      const m = models[model];
      if (!m) throw new RouteError("model_not_found", `model ${model} not found`);
      if (m.refuse) throw m.refuse;
      m.signals?.push(opts.signal);
      const cancelled = new Promise<never>((_, reject) => {
        if (m.ignoreCancel) return;
        const fail = () => reject(new RouteError("cancelled", "client left"));
        if (opts.signal.aborted) fail();
        else opts.signal.addEventListener("abort", fail, { once: true });
      });
      cancelled.catch(() => {});
      for (const u of m.updates ?? []) {
        await Promise.race([new Promise((r) => setTimeout(r, 1)), cancelled]);
        opts.onUpdate?.(u);
      }
      if (m.gate) await Promise.race([m.gate(), cancelled]);
      if (opts.signal.aborted && !m.ignoreCancel) throw new RouteError("cancelled", "client left");
      const sever = new AbortController();
      const g: FakeGrant = {
        model,
        baseUrl: m.baseUrl,
        severed: sever.signal,
        doneCalls: 0,
        done() {
          g.doneCalls++;
        },
        sever(reason = new RouteError("severed", `request to ${model} severed: drain deadline passed`)) {
          sever.abort(reason);
        },
      };
      grants.push(g);
      return g;
    },
    async unload(list?: string[]) {
      unloads.push(list);
    },
    async shutdown() {},
    status() {
      return router.statuses;
    },
  };
  return router;
}

/** A supervisor stand-in for state and load history. */
export function fakeSupervisor(model: string, state: Supervisor["state"], loadHistoryMs: number[] = []): Supervisor {
  return {
    model,
    state,
    baseUrl: "http://127.0.0.1:1",
    pid: null,
    placement: null,
    start: async () => {},
    stop: async () => {},
    shutdown: async () => {},
    setBusy() {},
    setTtl() {},
    subscribe: () => () => {},
    loadHistoryMs,
  };
}

/** A quiet log hub. */
export function quietLogs(): LogHub {
  return createLogHub({ level: "debug", logToStdout: "none" });
}

/** A real upstream server on port 0. */
export function startUpstream(fetch: (req: Request, server: Bun.Server<undefined>) => Response | Promise<Response>) {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", idleTimeout: 0, fetch });
  return { url: `http://127.0.0.1:${server.port}`, server, stop: () => server.stop(true) };
}

/** An upstream that echoes method, path, query, headers and body (as text) as JSON. */
export function startEchoUpstream() {
  return startUpstream(async (req) => {
    const u = new URL(req.url);
    const body = await req.text();
    return Response.json({
      method: req.method,
      path: u.pathname,
      query: u.search,
      headers: Object.fromEntries(req.headers),
      body,
    });
  });
}

/** The app on port 0 with defaults for everything not given. */
export function startApp(deps: Partial<AppDeps> & Pick<AppDeps, "config" | "router">) {
  const logs = deps.logs ?? quietLogs();
  const app = createApp({ version: { version: "1.2.3", commit: "abc", date: "2026-01-01" }, logs, ...deps });
  app.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${app.server!.port}`;
  return { app, url, logs, stop: () => app.stop(true) };
}

/** Read a whole body as text. */
export async function readAll(res: Response): Promise<string> {
  return await res.text();
}

/** A raw TCP upstream: full control over writes and connection drops. */
export async function startRawUpstream(onSocket: (socket: import("node:net").Socket, head: string) => void) {
  const net = await import("node:net");
  const sockets = new Set<import("node:net").Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let head = "";
    const onData = (d: Buffer): void => {
      head += d.toString("latin1");
      if (head.includes("\r\n\r\n")) {
        socket.off("data", onData);
        onSocket(socket, head);
      }
    };
    socket.on("data", onData);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as import("node:net").AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Write `parts` as separate TCP writes of a chunked HTTP response, pausing between them. */
export async function writeChunked(socket: import("node:net").Socket, headers: Record<string, string>, parts: Uint8Array[], gapMs = 20): Promise<void> {
  const head = ["HTTP/1.1 200 OK", "transfer-encoding: chunked", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), "", ""].join("\r\n");
  socket.write(head);
  for (const p of parts) {
    await new Promise((r) => setTimeout(r, gapMs));
    socket.write(Buffer.concat([Buffer.from(`${p.byteLength.toString(16)}\r\n`), Buffer.from(p), Buffer.from("\r\n")]));
  }
}

/** A minimal OpenAI/Anthropic-compatible backend: chat (stream or not), embeddings, streamed messages. */
export function startFakeOpenAI(tokens = ["Hel", "lo", " wör", "ld"]) {
  const sseHeaders = { "content-type": "text/event-stream", "cache-control": "no-cache" };
  const enc = new TextEncoder();
  const streamOf = (events: string[]) =>
    new ReadableStream<Uint8Array>({
      async pull(c) {
        const e = events.shift();
        if (e === undefined) return c.close();
        await new Promise((r) => setTimeout(r, 2));
        c.enqueue(enc.encode(e));
      },
    });
  return startUpstream(async (req) => {
    const path = new URL(req.url).pathname;
    const body = req.method === "POST" ? ((await req.json()) as Record<string, unknown>) : {};
    const model = String(body.model ?? "");
    const created = 1700000000;
    if (path === "/v1/chat/completions") {
      if (body.stream) {
        const chunk = (delta: object, finish: string | null) =>
          `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        return new Response(
          streamOf([chunk({ role: "assistant", content: "" }, null), ...tokens.map((t) => chunk({ content: t }, null)), chunk({}, "stop"), "data: [DONE]\n\n"]),
          { headers: sseHeaders },
        );
      }
      return Response.json({
        id: "chatcmpl-1",
        object: "chat.completion",
        created,
        model,
        choices: [{ index: 0, message: { role: "assistant", content: tokens.join("") }, finish_reason: "stop" }],
        usage: { prompt_tokens: 3, completion_tokens: tokens.length, total_tokens: 3 + tokens.length },
      });
    }
    if (path === "/v1/embeddings") {
      return Response.json({ object: "list", model, data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2, 0.3] }], usage: { prompt_tokens: 1, total_tokens: 1 } });
    }
    if (path === "/v1/messages") {
      const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
      return new Response(
        streamOf([
          ev("message_start", { message: { id: "msg_1", type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 0 } } }),
          ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
          ...tokens.map((t) => ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: t } })),
          ev("content_block_stop", { index: 0 }),
          ev("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: tokens.length } }),
          ev("message_stop", {}),
        ]),
        { headers: sseHeaders },
      );
    }
    return Response.json({ error: { message: `no route ${path}` } }, { status: 404 });
  });
}

/** A gate a test opens (or fails) by hand. */
export function createGate() {
  let open!: () => void;
  let fail!: (err: unknown) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  promise.catch(() => {});
  return { wait: () => promise, open, fail };
}
