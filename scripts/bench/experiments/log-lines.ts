/**
 * Issue 16 experiment (not part of `npm run bench`): nanoseconds per log line over a real log hub,
 * for a child's output line (decoded, into its model stream and the prefixed upstream stream, and
 * into the supervisor's error tail) and for an access-log line. Usage: bun log-lines.ts [lines=1000000].
 */
import { createLogHub } from "../../../src/log/log-hub.ts";
import { createLineTail } from "../../../src/process/line-tail.ts";

const lines = Number(process.argv[2] ?? 1_000_000);
const hub = createLogHub({ level: "info", logToStdout: "proxy", stdout: () => {} });
const stream = hub.model("m");
const tail = createLineTail();
const decoder = new TextDecoder();
const bytes = new TextEncoder().encode("request: POST /v1/chat/completions\n");
const childLine = (): void => {
  const text = decoder.decode(bytes, { stream: true });
  stream.write(text);
  tail.push(text);
};
const accessLine = (): void => hub.log.info(`Request 127.0.0.1 "POST /v1/chat/completions" 200 "Bun/1.4.5" 3ms`);

function time(f: () => void): number {
  for (let i = 0; i < 100_000; i++) f();
  const t0 = performance.now();
  for (let i = 0; i < lines; i++) f();
  return Math.round(((performance.now() - t0) * 1e6) / lines);
}
console.log(JSON.stringify({ lines, childLineNs: time(childLine), accessLineNs: time(accessLine) }));
