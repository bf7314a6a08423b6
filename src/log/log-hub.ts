/**
 * The log hub of one switchyard process: the proxy's own lines, every model's output combined
 * (each whole line prefixed `[model] `, never one model's text inside another's line), and one
 * stream per model as it came. `logToStdout` picks what is echoed.
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
  /** How long a model's unfinished line waits for its end before the combined stream gets it (default 500 ms). */
  holdPartialMs?: number;
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

/** `text` (whole lines, ending in "\n") with `prefix` at every line start. */
function prefixLines(prefix: string, text: string): string {
  // Most chunks of a child's output are one line: no line start inside, no replace.
  const lf = text.indexOf("\n");
  return prefix + (lf === text.length - 1 ? text : text.replace(/\n(?=[\s\S])/g, "\n" + prefix));
}

/**
 * What a model's output adds to the combined stream: whole lines only, each prefixed. Models write
 * into that stream side by side, so an unfinished line (a `\r` progress bar, llama.cpp's loading
 * dots, a crash mid-line) would have the next model's lines glued onto it, and its own rest would
 * then read as someone else's. It waits for its end, at most `holdMs`; after that it is written
 * as a line of its own.
 */
function createLineJoiner(prefix: string, out: (text: string) => void, holdMs: number) {
  let tail = "";
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (tail === "") return;
    const t = tail;
    tail = "";
    out(`${prefix}${t}\n`);
  };
  return {
    write(text: string): void {
      if (text.length === 0) return;
      const lf = text.lastIndexOf("\n");
      if (lf === -1) tail += text;
      else {
        out(prefixLines(prefix, tail + text.slice(0, lf + 1)));
        tail = text.slice(lf + 1);
      }
      if (tail === "") {
        if (timer !== null) clearTimeout(timer);
        timer = null;
      } else if (timer === null) {
        timer = setTimeout(flush, holdMs);
        // Only a deadline for a line: it must not keep the process alive.
        (timer as { unref?: () => void }).unref?.();
      }
    },
    flush,
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
  const joiners: { flush(): void }[] = [];
  const holdMs = opts.holdPartialMs ?? 500;

  let threshold = LEVELS[opts.level];
  let format = opts.timeFormat ?? null;
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
        const joiner = createLineJoiner(`[${id}] `, (text) => upstream.write(text), holdMs);
        joiners.push(joiner);
        stream = tee(createLogStream(ringBytes), joiner.write);
        models.set(id, stream);
      }
      return stream;
    },
    flush() {
      for (const j of joiners) j.flush();
    },
    configure(settings) {
      threshold = LEVELS[settings.level];
      if (settings.timeFormat !== format) {
        format = settings.timeFormat;
        stampMs = NaN;
      }
    },
  };
}
