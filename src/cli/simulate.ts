/**
 * `switchyard simulate`: a simulated OpenAI/Anthropic-compatible backend, spawned as a real
 * process by tests and benchmarks. It has the shape of llama-server (binds first, /health is 503
 * while "loading") plus fault flags: exit at start, never healthy, crash or stall mid-stream,
 * ignore SIGTERM, fork a grandchild that holds stdout, close every connection after one response. It
 * answers the generation routes switchyard forwards in their APIs' shapes (OpenAI's chat, completions,
 * Responses and embeddings, with and without /v1; Anthropic's messages and count_tokens; llama-server's
 * /completion and /infill). Any other route (or any request with `x-simulate-echo: 1`) is echoed back
 * as JSON, so proxy tests can see exactly what reached the backend. `/ws` is a WebSocket echo;
 * `--comfy` adds ComfyUI's shape (simulate-comfy.ts).
 * For placement tests, `--memory-mb` really holds that much RSS and `--gpu-mb` declares GPU memory
 * that a fake nvidia-smi (test/fixtures/fake-nvidia-smi.ts) reports (simulate-memory.ts).
 * Run directly with `bun src/cli/simulate.ts --port 0 ...`.
 */
import { parseSimulateArgs, SIMULATE_USAGE, type SimulateOptions } from "./simulate-args.ts";
import { serveClosingAfterResponse } from "./simulate-closing-server.ts";
import { MEDIA_ROUTES, RAW_ROUTES } from "./simulate-media.ts";
import { comfyGreeting, comfyResponse, type SimSocketData } from "./simulate-comfy.ts";
import { declareGpuMemory, holdMemory } from "./simulate-memory.ts";
import {
  anthropicMessage,
  chatCompletion,
  chatStream,
  completionStream,
  embeddingBase64,
  embeddingInputs,
  embeddingOf,
  errorBody,
  estimatePromptTokens,
  messagesStream,
  nativeStream,
  nativeWhole,
  responsesStream,
  responseWhole,
  textCompletion,
  tokenCount,
  setReport,
  type Finish,
  type StreamShape,
  type Usage,
} from "./simulate-responses.ts";

const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" };
/** Exit code of a --crash-after crash. */
export const CRASH_EXIT_CODE = 70;

type Json = Record<string, unknown>;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const untilAborted = (signal: AbortSignal) =>
  new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener("abort", () => r(), { once: true })));
const forever = () => new Promise<void>(() => {});

/** Parse flags and start serving; resolves once the port is bound (the server keeps running). */
export async function runSimulate(argv: string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(SIMULATE_USAGE);
    return;
  }
  let opts: SimulateOptions;
  try {
    opts = parseSimulateArgs(argv);
  } catch (err) {
    console.error(`switchyard simulate: ${(err as Error).message}\n\n${SIMULATE_USAGE}`);
    process.exit(2);
  }
  await startSimulator(opts);
}

async function startSimulator(o: SimulateOptions): Promise<void> {
  setReport(o.report);
  if (o.exitAtStart !== null) {
    process.stderr.write(`simulate: loading model ${o.model || "simulated"}\nsimulate: fatal: simulated start failure (--exit-at-start ${o.exitAtStart})\n`);
    process.exit(o.exitAtStart);
  }
  if (o.printLines > 0) {
    const lines: string[] = [];
    for (let i = 1; i <= o.printLines; i++) lines.push(`simulate: log line ${i} of ${o.printLines}: tensor load progress, nothing to see here`);
    process.stdout.write(lines.join("\n") + "\n");
  }
  if (o.ignoreSigterm) process.on("SIGTERM", () => console.log("simulate: SIGTERM received and ignored (--ignore-sigterm)"));
  if (o.spawnGrandchild) spawnGrandchild();

  let healthy = false;
  const fetch = (req: Request): Promise<Response> => handle(o, req, healthy);
  const port = o.closeAfterResponse
    ? await serveClosingAfterResponse(o.host, o.port, fetch)
    : Bun.serve({
        hostname: o.host,
        port: o.port,
        // Why: Bun.serve closes connections idle for 10 s by default, which would cut --stall-after
        // streams and slow --tps answers; a real inference server keeps them open
        // (docs/runtime-notes.md#serve-timeouts).
        idleTimeout: 0,
        websocket: ECHO_SOCKET,
        fetch: (req, server) => {
          const url = new URL(req.url);
          if (url.pathname === "/ws" && server.upgrade(req, { data: { greeting: o.comfy ? comfyGreeting(url) : null } })) {
            console.log(`request: GET /ws (websocket)`);
            return undefined;
          }
          return fetch(req);
        },
      }).port;
  console.log(`listening on ${port}`);
  // Held before /health can say 200, so a measurement after ready sees it.
  if (o.memoryMb > 0) console.log(`memory: holding ${holdMemory(o.memoryMb)} MiB`);
  if (o.gpuMb > 0) console.log(`gpu: ${declareGpuMemory(o.gpuMb, process.env)}`);
  const markHealthy = () => {
    healthy = true;
    console.log(`ready at ${Date.now()}`);
  };
  if (!o.neverHealthy) {
    if (o.loadMs > 0) setTimeout(markHealthy, o.loadMs);
    else markHealthy();
  }
}

/** `/ws`: every message comes back as it came (text as text, binary as binary); the text "close" closes with 4000. */
const ECHO_SOCKET: Bun.WebSocketHandler<SimSocketData> = {
  open(ws) {
    if (ws.data.greeting) ws.send(ws.data.greeting);
  },
  message(ws, message) {
    if (message === "close") ws.close(4000, "closing as asked");
    else ws.send(message);
  },
};

function spawnGrandchild(): void {
  const sleepBin = Bun.which("sleep");
  if (!sleepBin) throw new Error("--spawn-grandchild needs a `sleep` binary on PATH");
  // Same process group, stdout and stderr inherited: the shape of a forking wrapper script.
  const child = Bun.spawn([sleepBin, "3600"], { stdin: "ignore", stdout: "inherit", stderr: "inherit" });
  console.log(`grandchild pid ${child.pid}`);
}

async function handle(o: SimulateOptions, req: Request, healthy: boolean): Promise<Response> {
  const url = new URL(req.url);
  const path = url.pathname;
  console.log(`request: ${req.method} ${path}`);
  if (req.headers.get("x-simulate-echo") === "1") return echo(req, url);
  if (req.method === "GET" && (path === "/health" || path === "/v1/health")) {
    return healthy
      ? Response.json({ status: "ok" })
      : Response.json({ error: { code: 503, message: "Loading model", type: "unavailable_error" } }, { status: 503 });
  }
  if (req.method === "GET" && path === "/v1/models") {
    const id = o.model || "simulated";
    return Response.json({ object: "list", data: [{ id, object: "model", created: 0, owned_by: "switchyard-simulate" }] });
  }
  const comfy = o.comfy ? await comfyResponse(req, url) : null;
  if (comfy) return comfy;
  const raw = req.method === "POST" ? RAW_ROUTES[path] : undefined;
  if (raw) return raw(o, req);
  const route = req.method === "POST" ? ROUTES[path] : undefined;
  if (!route) return echo(req, url);
  let body: Json;
  try {
    const parsed: unknown = JSON.parse(await req.text());
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
    body = parsed as Json;
  } catch {
    return Response.json(errorBody("request body is not a JSON object"), { status: 400 });
  }
  return route(o, req, body);
}

type Route = (o: SimulateOptions, req: Request, body: Json) => Promise<Response> | Response;

const chatRoute: Route = (o, req, body) =>
  generate(o, req, body, (model) => chatStream(model, `chatcmpl-sim-${nextId()}`, now()), (model, u, finish, ms) =>
    chatCompletion(model, `chatcmpl-sim-${nextId()}`, now(), u, finish, ms),
  );
const completionsRoute: Route = (o, req, body) =>
  generate(o, req, body, (model) => completionStream(model, `cmpl-sim-${nextId()}`, now()), (model, u, finish, ms) =>
    textCompletion(model, `cmpl-sim-${nextId()}`, now(), u, finish, ms),
  );
const responsesRoute: Route = (o, req, body) => {
  const ids = () => ({ id: `resp_sim_${nextId()}`, messageId: `msg_sim_${nextId()}`, created: now() });
  return generate(o, req, body, (model) => responsesStream(model, ids()), (model, u, finish, ms) => responseWhole(model, ids(), u, finish, ms));
};
const messagesRoute: Route = (o, req, body) =>
  generate(o, req, body, (model, u) => messagesStream(model, `msg_sim_${nextId()}`, u.prompt), (model, u, finish) =>
    anthropicMessage(model, `msg_sim_${nextId()}`, u, finish),
  );
const countTokensRoute: Route = (_o, _req, body) => Response.json(tokenCount(body));
/** llama-server's native /completion and /infill (the same answer shape; the prompt is echoed as its final object does). */
const nativeRoute: Route = (o, req, body) => {
  const prompt = typeof body.prompt === "string" ? body.prompt : "";
  return generate(o, req, body, (model, u) => nativeStream(model, prompt, u.prompt), (model, u, finish, ms) => nativeWhole(model, prompt, u, finish, ms));
};
const embeddingsRoute: Route = (o, _req, body) => {
  const texts = embeddingInputs(body.input);
  const base64 = body.encoding_format === "base64";
  const prompt = estimatePromptTokens({ input: texts });
  return Response.json({
    object: "list",
    model: modelName(o, body),
    data: texts.map((t, index) => {
      const v = embeddingOf(t);
      return { object: "embedding", index, embedding: base64 ? embeddingBase64(v) : v };
    }),
    usage: { prompt_tokens: prompt, total_tokens: prompt },
  });
};

// llama-server serves the OpenAI and Anthropic routes with and without /v1 (switchyard's /v/... routes forward without it).
const ROUTES: Record<string, Route> = {
  "/v1/chat/completions": chatRoute,
  "/chat/completions": chatRoute,
  "/v1/completions": completionsRoute,
  "/completions": completionsRoute,
  "/v1/responses": responsesRoute,
  "/responses": responsesRoute,
  "/v1/messages": messagesRoute,
  "/messages": messagesRoute,
  "/v1/messages/count_tokens": countTokensRoute,
  "/messages/count_tokens": countTokensRoute,
  "/v1/embeddings": embeddingsRoute,
  "/embeddings": embeddingsRoute,
  "/completion": nativeRoute,
  "/infill": nativeRoute,
  ...MEDIA_ROUTES,
};

let idCounter = 0;
const nextId = () => (++idCounter).toString(36);
const now = () => Math.floor(Date.now() / 1000);
const modelName = (o: SimulateOptions, body: Json) => o.model || (typeof body.model === "string" ? body.model : "simulated");

/** The most tokens one answer has, whatever --tokens or the request's limit say: answers stay a few MB. */
export const MAX_ANSWER_TOKENS = 1_000_000;

/**
 * How long an answer is and why it ends: --tokens (at most MAX_ANSWER_TOKENS), cut to the request's
 * limit (max_tokens, max_completion_tokens, max_output_tokens, n_predict) when that is smaller; only
 * then did the limit end it ("length").
 */
function answerLength(configured: number, body: Record<string, unknown>): { n: number; finish: Finish } {
  const natural = Math.min(Math.max(0, Math.floor(configured)), MAX_ANSWER_TOKENS);
  const limits = [body.max_tokens, body.max_completion_tokens, body.max_output_tokens, body.n_predict];
  const limit = limits.find((v): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0);
  if (limit === undefined || limit >= natural) return { n: natural, finish: "stop" };
  return { n: Math.floor(limit), finish: "length" };
}

/** Answer one generation request, streamed (SSE) or whole, honouring tps and the fault flags. */
async function generate(
  o: SimulateOptions,
  req: Request,
  body: Json,
  shape: (model: string, u: Usage) => StreamShape,
  whole: (model: string, u: Usage, finish: Finish, ms: number) => unknown,
): Promise<Response> {
  const { n, finish } = answerLength(o.tokens, body);
  const u: Usage = { prompt: estimatePromptTokens(body), completion: n };
  const model = modelName(o, body);
  if (body.stream === true) {
    return new Response(tokenStream(o, shape(model, u), u, finish, req.signal), { headers: SSE_HEADERS });
  }
  const t0 = performance.now();
  const gap = o.tps > 0 ? 1000 / o.tps : 0;
  const crashAt = o.crashAfter !== null && o.crashAfter <= n ? o.crashAfter : null;
  const stallAt = o.stallAfter !== null && o.stallAfter < n ? o.stallAfter : null;
  const upTo = Math.min(n, crashAt ?? n, stallAt ?? n);
  if (gap > 0 && upTo > 0) await sleep(upTo * gap);
  if (crashAt !== null) {
    crash(crashAt);
    await forever();
  }
  if (stallAt !== null) await untilAborted(req.signal);
  return Response.json(whole(model, u, finish, performance.now() - t0));
}

function crash(tokens: number): void {
  process.stderr.write(`simulate: crashing after ${tokens} tokens (--crash-after)\n`);
  // A short delay lets the tokens already written reach the socket, then the process dies mid-answer.
  setTimeout(() => process.exit(CRASH_EXIT_CODE), 20);
}

/** The SSE body: opening events, one event per token on the tps schedule, closing events. */
function tokenStream(o: SimulateOptions, shape: StreamShape, u: Usage, finish: Finish, signal: AbortSignal): ReadableStream<Uint8Array> {
  const n = u.completion;
  const gap = o.tps > 0 ? 1000 / o.tps : 0;
  let i = -1;
  let t0 = 0;
  const send = async (c: ReadableStreamDefaultController<Uint8Array>, bytes: Uint8Array) => {
    if (o.splitUtf8) {
      const k = bytes.findIndex((b) => b >= 0xc0);
      if (k >= 0) {
        // Cut right after a lead byte: the character's continuation bytes go in a later write.
        c.enqueue(bytes.slice(0, k + 1));
        await sleep(2);
        c.enqueue(bytes.slice(k + 1));
        return;
      }
    }
    c.enqueue(bytes);
  };
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (i < 0) {
        t0 = performance.now();
        i = 0;
        const open = shape.open();
        if (open.length > 0) return send(c, open);
      }
      // Checked before the next token is sent: --crash-after 0 crashes before the first.
      if (o.crashAfter !== null && i >= o.crashAfter) {
        crash(i);
        return forever();
      }
      if (i < n) {
        if (o.stallAfter !== null && i >= o.stallAfter) return forever(); // until the client leaves (cancel)
        if (gap > 0) {
          const wait = t0 + (i + 1) * gap - performance.now();
          if (wait > 0) await sleep(wait);
        }
        await send(c, shape.token(i));
        i++;
        return;
      }
      c.enqueue(shape.close(u, finish, performance.now() - t0));
      c.close();
    },
  });
}

/** Echo the request as JSON: what reached the backend, byte for byte (body decoded as UTF-8). */
async function echo(req: Request, url: URL): Promise<Response> {
  const bytes = new Uint8Array(await req.arrayBuffer());
  const headers: Record<string, string> = {};
  req.headers.forEach((v, k) => (headers[k] = v));
  return Response.json({
    method: req.method,
    path: url.pathname,
    query: url.search.slice(1),
    headers,
    body: new TextDecoder().decode(bytes),
    bodyBytes: bytes.length,
  });
}

if (import.meta.main) await runSimulate(process.argv.slice(2));
