/**
 * End-to-end harness: builds dist/switchyard once (when missing or older than the sources),
 * starts it from a temporary directory with a config beside it, and drives it over HTTP.
 */
import { mkdtempSync, writeFileSync, statSync, readdirSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "../fixtures/ports.ts";
import { waitFor } from "../fixtures/wait.ts";

const ROOT = resolve(import.meta.dir, "../..");
/** Absolute path of the compiled binary. */
export const BINARY = join(ROOT, "dist", "switchyard");

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

let built: Promise<void> | null = null;
/** Build the binary unless an up-to-date one exists. */
export function ensureBinary(): Promise<void> {
  built ??= (async () => {
    if (existsSync(BINARY) && statSync(BINARY).mtimeMs > newestSource(join(ROOT, "src"))) return;
    const proc = Bun.spawn([process.execPath, "scripts/build.ts"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    if (code !== 0) throw new Error(`build failed (${code}):\n${out}\n${err}`);
  })();
  return built;
}

/** A running switchyard binary. */
export interface Running {
  url: string;
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  dir: string;
  /** Everything the process wrote so far (stdout + stderr). */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/** How the harness talks to the binary. */
export interface StartOptions {
  /** The binary serves HTTPS (started with TLS flags) with a certificate this PEM CA vouches for. */
  httpsCa?: string;
}

/** Start the binary with `configText` written as config.yaml in a fresh temp directory. */
export function startBinary(configText: string, extraArgs: string[] = [], env?: Record<string, string | undefined>, opts: StartOptions = {}): Promise<Running> {
  return startBinaryIn(mkdtempSync(join(tmpdir(), "switchyard-e2e-")), configText, extraArgs, env, opts);
}

/** Start the binary in `dir` (kept: a restart sees the files an earlier run left), with `configText` as its config.yaml. */
export async function startBinaryIn(dir: string, configText: string, extraArgs: string[] = [], env?: Record<string, string | undefined>, opts: StartOptions = {}): Promise<Running> {
  await ensureBinary();
  writeFileSync(join(dir, "config.yaml"), configText);
  const port = freePort();
  const proc = Bun.spawn([BINARY, "--config", "config.yaml", "--listen", `127.0.0.1:${port}`, ...extraArgs], {
    cwd: dir,
    // Bun.spawn does not see later changes to process.env (e.g. PATH): pass the environment explicitly.
    env: env ?? process.env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const drain = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    const reader = s.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      out += dec.decode(value, { stream: true });
    }
  };
  void drain(proc.stdout);
  void drain(proc.stderr);
  const url = `${opts.httpsCa ? "https" : "http"}://127.0.0.1:${port}`;
  let exited = false;
  const healthyOrExited = async (): Promise<boolean> => {
    if (proc.exitCode !== null) return (exited = true);
    try {
      return (await fetch(`${url}/health`, opts.httpsCa ? { tls: { ca: opts.httpsCa } } : {})).ok;
    } catch {
      return false;
    }
  };
  try {
    await waitFor(healthyOrExited, 10_000, "switchyard to answer /health");
  } catch (e) {
    throw new Error(`${(e as Error).message}:\n${out}`);
  }
  if (exited) throw new Error(`switchyard exited ${proc.exitCode}:\n${out}`);
  return {
    url,
    proc,
    dir,
    output: () => out,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (proc.exitCode === null) proc.kill(signal);
      return proc.exited;
    },
  };
}

/** True while a pid exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Read a whole SSE response and return the `data:` payloads. */
export async function sseData(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split("\n")
    .filter((l) => l.startsWith("data:"))
    .map((l) => l.slice(5).trim());
}

/** Live (non-zombie) pids whose process group is `pgid` (a backend and its grandchildren). */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // fields[0] is the state, fields[2] the process group id
      if (fields[0] !== "Z" && Number(fields[2]) === pgid) out.push(Number(name));
    } catch {}
  }
  return out;
}
