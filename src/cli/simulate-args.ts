/** Flags of `switchyard simulate` (pure parsing, so it is testable without a server). */

/** What the simulated backend should do. */
export interface SimulateOptions {
  port: number;
  host: string;
  /** Model name reported in answers and /v1/models ("" = echo the request's model). */
  model: string;
  /** /health answers 503 for this long after binding. */
  loadMs: number;
  /** Tokens per second when streaming; 0 = as fast as possible. */
  tps: number;
  /** Tokens per answer (at most 1,000,000); a smaller max_tokens in the request cuts it short. */
  tokens: number;
  /** Exit with this code before binding. */
  exitAtStart: number | null;
  neverHealthy: boolean;
  /** Exit abruptly once a request has produced this many tokens. */
  crashAfter: number | null;
  ignoreSigterm: boolean;
  /** Spawn a long-sleeping grandchild that inherits stdout. */
  spawnGrandchild: boolean;
  /** Stop producing after this many tokens, keeping the connection open. */
  stallAfter: number | null;
  /** Write this many log lines at start. */
  printLines: number;
  /** Split every streamed event inside a multi-byte character, across two writes. */
  splitUtf8: boolean;
  /** Close each connection after its first response although the response said keep-alive (llama-server's way). */
  closeAfterResponse: boolean;
  /** Which accounting answers carry: OpenAI `usage`, llama-server `timings`, or both. */
  report: "both" | "usage" | "timings";
  /** Also answer like ComfyUI: its page, /api/prompt, and a status message first on /ws. */
  comfy: boolean;
  /** Allocate and touch this many MiB (real RSS) after binding, before turning healthy; kept until exit. */
  memoryMb: number;
  /** Declare this many MiB of GPU memory (nothing is allocated: a fake nvidia-smi reports it). */
  gpuMb: number;
}

/** The usage text of `switchyard simulate`. */
export const SIMULATE_USAGE = `switchyard simulate: a simulated OpenAI/Anthropic-compatible backend for tests and benchmarks

  --port N            port to bind (0 = any; prints "listening on <port>")   [0]
  --host H            address to bind                                          [127.0.0.1]
  --model NAME        model name to report (default: the request's model)
  --load-ms N         /health answers 503 for N ms after binding              [0]
  --tps N             tokens per second (0 = as fast as possible)             [0]
  --tokens N          tokens per answer, at most 1000000; a smaller           [16]
                      max_tokens or n_predict cuts it short (finish "length")
  --exit-at-start C   print a few lines and exit with code C before binding
  --never-healthy     /health never answers 200
  --crash-after N     exit abruptly after N tokens of one answer
  --ignore-sigterm    keep running on SIGTERM
  --spawn-grandchild  spawn a long-sleeping grandchild that inherits stdout
  --stall-after N     stop after N tokens but keep the connection open
  --print-lines N     write N log lines at start
  --split-utf8        split each streamed event inside a multi-byte character
  --close-after-response
                      close each connection after its response, though the
                      response advertised keep-alive (as llama-server does)
  --report WHAT       accounting in answers: usage, timings or both          [both]
  --comfy             also answer like ComfyUI (its page at /, POST /api/prompt,
                      a status message first on /ws)
  --memory-mb N       allocate and touch N MiB of RAM before turning healthy,
                      held until exit (real RSS)                               [0]
  --gpu-mb N          declare N MiB of GPU memory on the first GPU of
                      CUDA_VISIBLE_DEVICES (else 0); nothing is allocated: with
                      SWITCHYARD_SIMULATE_GPU_DIR set, "<pid> <mb> <gpu>" is
                      written to <dir>/<pid> for a fake nvidia-smi to report   [0]

  /ws is a WebSocket echo (text and binary); the text "close" closes it with 4000.`;

const DEFAULTS: SimulateOptions = {
  port: 0,
  host: "127.0.0.1",
  model: "",
  loadMs: 0,
  tps: 0,
  tokens: 16,
  exitAtStart: null,
  neverHealthy: false,
  crashAfter: null,
  ignoreSigterm: false,
  spawnGrandchild: false,
  stallAfter: null,
  printLines: 0,
  splitUtf8: false,
  closeAfterResponse: false,
  report: "both",
  comfy: false,
  memoryMb: 0,
  gpuMb: 0,
};

type ValueFlag = "port" | "host" | "model" | "loadMs" | "tps" | "tokens" | "exitAtStart" | "crashAfter" | "stallAfter" | "printLines" | "report" | "memoryMb" | "gpuMb";
type BoolFlag = "neverHealthy" | "ignoreSigterm" | "spawnGrandchild" | "splitUtf8" | "closeAfterResponse" | "comfy";

const VALUE_FLAGS: Record<string, ValueFlag> = {
  "--port": "port",
  "--host": "host",
  "--model": "model",
  "--load-ms": "loadMs",
  "--tps": "tps",
  "--tokens": "tokens",
  "--exit-at-start": "exitAtStart",
  "--crash-after": "crashAfter",
  "--stall-after": "stallAfter",
  "--print-lines": "printLines",
  "--report": "report",
  "--memory-mb": "memoryMb",
  "--gpu-mb": "gpuMb",
};
const BOOL_FLAGS: Record<string, BoolFlag> = {
  "--never-healthy": "neverHealthy",
  "--ignore-sigterm": "ignoreSigterm",
  "--spawn-grandchild": "spawnGrandchild",
  "--split-utf8": "splitUtf8",
  "--close-after-response": "closeAfterResponse",
  "--comfy": "comfy",
};

/** Parse simulate's argv; throws Error with a readable message on a bad flag. */
export function parseSimulateArgs(argv: readonly string[]): SimulateOptions {
  const opts: SimulateOptions = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    const eq = word.indexOf("=");
    const name = eq > 0 ? word.slice(0, eq) : word;
    const bool = BOOL_FLAGS[name];
    if (bool) {
      if (eq > 0) throw new Error(`${name} takes no value`);
      opts[bool] = true;
      continue;
    }
    const key = VALUE_FLAGS[name];
    if (!key) throw new Error(`unknown flag ${word}`);
    const value = eq > 0 ? word.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`${name} needs a value`);
    if (key === "host" || key === "model") {
      opts[key] = value;
      continue;
    }
    if (key === "report") {
      if (value !== "both" && value !== "usage" && value !== "timings") throw new Error(`--report: expected usage, timings or both, got "${value}"`);
      opts.report = value;
      continue;
    }
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) throw new Error(`${name}: expected a number >= 0, got "${value}"`);
    if (key !== "tps" && !Number.isInteger(n)) throw new Error(`${name}: expected a whole number, got "${value}"`);
    if (key === "port" && n > 65535) throw new Error(`--port: expected 0-65535, got "${value}"`);
    opts[key] = n;
  }
  return opts;
}
