/**
 * The log hub of one switchyard process: the proxy's own lines, every model's output combined
 * (each line prefixed `[model] `), and one stream per model. `logToStdout` picks what is echoed.
 */
import type { LogTimeFormat, LogToStdout } from "../config/types.ts";
import { formatGoTime } from "./go-time-format.ts";
import type { Level, LogHub, Logger, LogStream } from "./types.ts";
import { createLogStream, DEFAULT_RING_BYTES } from "./log-stream.ts";

/** What the hub needs to know. */
export interface LogHubOptions {
  /** Lowest level the proxy logger writes. */
  level: Level;
  /** Which streams are echoed to stdout. */
  logToStdout: LogToStdout;
  /** Ring size of every stream (default 1 MiB). */
  ringBytes?: number;
  /** Where echoed text goes (default: process.stdout when there is one). */
  stdout?: (text: string) => void;
  /** Clock for timestamps (epoch ms). */
  now?: () => number;
  /**
   * Timestamp of proxy lines (`logTimeFormat`): a Go layout name (local time), "" for none, or
   * null / absent for ISO 8601 in UTC.
   */
  timeFormat?: LogTimeFormat | "" | null;
}

const LEVELS: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Write to stdout when the runtime has one; a silent no-op elsewhere. */
function defaultStdout(text: string): void {
  globalThis.process?.stdout?.write(text);
}

/** A stream whose writes are also handed to `also` (after the ring got them). */
function tee(stream: LogStream, also: (text: string) => void): LogStream {
  return {
    write(text) {
      stream.write(text);
      also(text);
    },
    history: () => stream.history(),
    subscribe: (onText) => stream.subscribe(onText),
  };
}

/** Prefix every line start of a model's output, remembering whether the last chunk ended a line. */
function createLinePrefixer(prefix: string): (text: string) => string {
  let atLineStart = true;
  return (text) => {
    if (text.length === 0) return text;
    // Most chunks of a child's output are one line or part of one: no line start inside, no replace.
    const lf = text.indexOf("\n");
    const inner = lf !== -1 && lf < text.length - 1 ? text.replace(/\n(?=[\s\S])/g, "\n" + prefix) : text;
    const out = atLineStart ? prefix + inner : inner;
    atLineStart = text.endsWith("\n");
    return out;
  };
}

/** Create the proxy, upstream and per-model streams plus the proxy logger. */
export function createLogHub(opts: LogHubOptions): LogHub {
  const ringBytes = opts.ringBytes ?? DEFAULT_RING_BYTES;
  const stdout = opts.stdout ?? defaultStdout;
  const now = opts.now ?? Date.now;
  const echoProxy = opts.logToStdout === "proxy" || opts.logToStdout === "both";
  const echoUpstream = opts.logToStdout === "upstream" || opts.logToStdout === "both";

  const proxyRing = createLogStream(ringBytes);
  const upstreamRing = createLogStream(ringBytes);
  const proxy = echoProxy ? tee(proxyRing, stdout) : proxyRing;
  const upstream = echoUpstream ? tee(upstreamRing, stdout) : upstreamRing;
  const models = new Map<string, LogStream>();

  const threshold = LEVELS[opts.level];
  const format = opts.timeFormat ?? null;
  // The last stamp, reused while the clock reads the same millisecond: a busy proxy writes several
  // lines per millisecond, and formatting a date is most of a line's cost (issue 16).
  let stampMs = NaN;
  let stampText = "";
  const stamp = (): string => {
    if (format === "") return "";
    const t = now();
    if (t !== stampMs) {
      stampMs = t;
      stampText = format === null ? `${new Date(t).toISOString()} ` : `${formatGoTime(format, new Date(t))} `;
    }
    return stampText;
  };
  const line = (level: Level, msg: string) => {
    if (LEVELS[level] < threshold) return;
    proxy.write(`${stamp()}[${level.toUpperCase()}] ${msg}\n`);
  };
  const log: Logger = {
    debug: (msg) => line("debug", msg),
    info: (msg) => line("info", msg),
    warn: (msg) => line("warn", msg),
    error: (msg) => line("error", msg),
  };

  return {
    proxy,
    upstream,
    log,
    model(id: string): LogStream {
      let stream = models.get(id);
      if (!stream) {
        const prefix = createLinePrefixer(`[${id}] `);
        stream = tee(createLogStream(ringBytes), (text) => upstream.write(prefix(text)));
        models.set(id, stream);
      }
      return stream;
    },
  };
}
