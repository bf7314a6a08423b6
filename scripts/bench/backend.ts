/** Backends the benchmark starts itself (the "direct" baseline), outside switchyard. */
import { BINARY } from "./binary.ts";
import { childEnv, stopChild, track } from "./children.ts";
import { freePort } from "./ports.ts";
import { waitHealthy } from "./switchyard.ts";

/** A standalone backend process. */
export interface Backend {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Start `argv` (which must bind `port`); output goes to /dev/null; resolves once /health is 200. */
export async function startBackend(argv: string[], port: number): Promise<Backend> {
  const proc = Bun.spawn(argv, { env: childEnv(), stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  track(proc);
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(`${url}/health`, proc, 15_000, 5);
  return {
    url,
    port,
    pid: proc.pid,
    async stop() {
      await stopChild(proc, "SIGTERM", 5_000);
    },
  };
}

/** The argv of `switchyard simulate` with extra flags (no port). */
export function simulateArgv(flags: string[]): string[] {
  return [BINARY, "simulate", ...flags];
}

/** Start `switchyard simulate <flags>` on a free port. */
export function startSimulate(flags: string[]): Promise<Backend> {
  const port = freePort();
  return startBackend(simulateArgv(["--port", String(port), ...flags]), port);
}
