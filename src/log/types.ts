/**
 * Logging contracts shared by the supervisor (writes upstream output), the router and HTTP
 * (write proxy lines), and the log endpoints (read history, follow live).
 */
import type { LogTimeFormat } from "../config/types.ts";

/** A bounded byte ring of text with live followers that can never slow the writer. */
export interface LogStream {
  /** Append text (a chunk of child output or a formatted proxy line). Never blocks. */
  write(text: string): void;
  /** Everything still in the ring, oldest first. */
  history(): string;
  /**
   * Follow new text. A follower that falls behind loses data and receives a marker line
   * instead of slowing the writer. Returns the unsubscribe function.
   * Text arrives asynchronously; if onText returns a promise, the follower is busy until it
   * settles (text arriving meanwhile queues up to a bounded budget, then is dropped).
   */
  subscribe(onText: (text: string) => void | Promise<void>): () => void;
}

/** Severity of a proxy log line. */
export type Level = "debug" | "info" | "warn" | "error";

/** Proxy-side logger: formats a line and writes it to the proxy stream (and stdout per logToStdout). */
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** All log streams of one switchyard process. */
export interface LogHub {
  /** Lines switchyard itself writes. */
  readonly proxy: LogStream;
  /** Output of every model's server, combined. */
  readonly upstream: LogStream;
  /** Output of one model's server (created on first use). */
  model(id: string): LogStream;
  /** The proxy logger (honours logLevel). */
  readonly log: Logger;
  /** Write the models' unfinished lines to the combined stream now (they wait there for their end, briefly). */
  flush(): void;
  /** Apply a reloaded `logLevel` and `logTimeFormat` (llama-swap applies both on reload). */
  configure(settings: { level: Level; timeFormat: LogTimeFormat | "" | null }): void;
}
