/**
 * End-to-end: `store: { path }` keeps the activity records of dist/switchyard in a SQLite file
 * across restarts (graceful and kill -9), and a store that cannot be opened stops the start.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, ensureBinary, startBinaryIn, type Running } from "./harness.ts";
import { freePortRange } from "../fixtures/ports.ts";

/** The store's batch size (src/store/sqlite-activity-store.ts, DEFAULT_BATCH_SIZE). */
const BATCH_SIZE = 64;

const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop("SIGTERM");
});

const dirs: string[] = [];
/** A fresh directory for one test's config and store (removed after the file). */
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "switchyard-store-e2e-"));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

beforeAll(async () => {
  await ensureBinary();
}, 180_000);

function config(): string {
  return `
startPort: ${freePortRange(2)}
store:
  path: ./activity.db
models:
  m:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model m --tokens 3
`;
}

async function start(dir: string): Promise<Running> {
  const r = await startBinaryIn(dir, config());
  running.push(r);
  return r;
}

/** `count` chat completions, one after another (each record is finished before the next request). */
async function send(url: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: `hi ${i}` }] }),
    });
    expect(res.status).toBe(200);
    await res.text();
  }
}

interface Page {
  data: { id: number; model: string; resp_status_code: number }[];
  total: number;
}

async function activity(url: string): Promise<Page> {
  const res = await fetch(`${url}/api/metrics/activity?limit=999&order=asc`);
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

describe("store: activity records survive a restart", () => {
  test("graceful restart (SIGTERM): every record is there, and new ids continue", async () => {
    const N = 20;
    const dir = tempDir();
    const first = await start(dir);
    await send(first.url, N);
    // No read before the stop: the records still in the batch are written by the shutdown path.
    expect(await first.stop("SIGTERM")).toBe(0);

    const second = await start(dir);
    const page = await activity(second.url);
    expect(page.total).toBe(N);
    expect(page.data.map((r) => r.id)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(page.data.every((r) => r.model === "m" && r.resp_status_code === 200)).toBe(true);
    await send(second.url, 2);
    const after = await activity(second.url);
    expect(after.data.map((r) => r.id).slice(-3)).toEqual([N, N + 1, N + 2]);
    // The stats read the store too.
    const stats = (await (await fetch(`${second.url}/api/metrics/stats`)).json()) as { total_requests: number };
    expect(stats.total_requests).toBe(N + 2);
  }, 60_000);

  test("kill -9 right after the requests: at most the last unflushed batch is lost", async () => {
    // What a kill -9 may lose: the records not yet written, i.e. the batch still in memory. A batch
    // is written when it reaches batchSize (64, on the next turn of the event loop) or batchMs
    // (250 ms) after its first record, whichever comes first; every written transaction survives
    // (WAL, synchronous=NORMAL: only an OS crash could undo a commit). The requests here are
    // sequential, so at most BATCH_SIZE records (the newest ones) wait at any moment: at least
    // N - BATCH_SIZE must be there after the restart, and what is there is a prefix 1..k.
    const N = 150;
    const dir = tempDir();
    const first = await start(dir);
    await send(first.url, N);
    first.proc.kill("SIGKILL");
    expect(await first.proc.exited).not.toBe(0);

    const second = await start(dir);
    const page = await activity(second.url);
    expect(page.total).toBeGreaterThanOrEqual(N - BATCH_SIZE);
    expect(page.total).toBeLessThanOrEqual(N);
    expect(page.data.map((r) => r.id)).toEqual(Array.from({ length: page.total }, (_, i) => i + 1));
    // New ids continue after the last one stored (ids of lost records may be given again).
    await send(second.url, 1);
    const after = await activity(second.url);
    expect(after.data.at(-1)!.id).toBe(page.total + 1);
  }, 60_000);
});

describe("store: cannot open", () => {
  test("a corrupt store file: exit 1, one line with the path and the reason, no stack trace", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "config.yaml"), config());
    writeFileSync(join(dir, "activity.db"), Uint8Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) & 0xff));
    const proc = Bun.spawn([BINARY, "--config", "config.yaml", "--listen", "127.0.0.1:0"], { cwd: dir, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    expect(code).toBe(1);
    expect(err).toBe(`switchyard: cannot open the activity store "./activity.db": not a SQLite database, or corrupt (file is not a database)\n`);
    expect(out).toBe("");
  }, 30_000);

  test("a store path under a file: exit 1 naming the path", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "afile"), "x");
    writeFileSync(join(dir, "config.yaml"), config().replace("./activity.db", "./afile/activity.db"));
    const proc = Bun.spawn([BINARY, "--config", "config.yaml", "--listen", "127.0.0.1:0"], { cwd: dir, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    expect(code).toBe(1);
    expect(err).toBe(`switchyard: cannot open the activity store "./afile/activity.db": ${join(dir, "afile")} is a file, not a directory\n`);
  }, 30_000);
});
