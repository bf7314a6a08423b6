/**
 * llama.cpp's own model swapper, for comparison: `llama-server` in router mode (`--models-dir`),
 * started by the bench in a temp dir whose models/ holds symlinks to the GGUF files (the router
 * names a model after its file, minus `.gguf`, and follows symlinks). It spawns one child
 * llama-server per loaded model and passes its own other flags (-c, -np, ...) on to each child.
 */
import { mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LineLog } from "./lines.ts";
import { freePort } from "./ports.ts";
import { spawnServer } from "./switchyard.ts";

/** A running router. */
export interface LlamaRouter {
  url: string;
  /** The router's pid (its children are the model processes). */
  pid: number;
  /** Its stdout and stderr (its children's output too, prefixed with their port). */
  log: LineLog;
  /** SIGTERM (it stops its children), then wait; removes the temp directory. */
  stop(): Promise<void>;
}

/** The line the router prints each time it starts a model's child process. */
export const ROUTER_LOAD = /\bspawning server instance with name=\S+ on port/;

/** Model loads so far, from the router's log. */
export function routerLoads(log: LineLog): number {
  return log.lines.filter((l) => ROUTER_LOAD.test(l.text)).length;
}

/** Start the router on `models` (id -> GGUF path) with `childArgs`; resolves once /v1/models lists every id. */
export async function startLlamaRouter(bin: string, models: Record<string, string>, childArgs: string[], max = 1): Promise<LlamaRouter> {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-bench-router-"));
  const modelsDir = join(dir, "models");
  mkdirSync(modelsDir);
  for (const [id, path] of Object.entries(models)) symlinkSync(path, join(modelsDir, `${id}.gguf`));
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const argv = [bin, "--models-dir", modelsDir, "--models-max", String(max), "--host", "127.0.0.1", "--port", String(port), ...childArgs];
  const server = await spawnServer(argv, dir, `${url}/health`, 30_000);
  const stop = () => server.stop(15_000);
  try {
    const listed = (await (await fetch(`${url}/v1/models`)).json()) as { data?: { id?: unknown }[] };
    const ids = new Set((listed.data ?? []).map((m) => m.id));
    const missing = Object.keys(models).filter((id) => !ids.has(id));
    if (missing.length > 0) throw new Error(`router does not list ${missing.join(", ")}: ${JSON.stringify(listed).slice(0, 500)}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, pid: server.proc.pid, log: server.log, stop };
}
