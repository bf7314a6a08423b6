/**
 * End-to-end: the compiled dist/switchyard, started as a user starts it, driven over HTTP.
 * Models are `switchyard simulate` backends started through the ${SWITCHYARD} macro.
 */
import { afterEach, beforeAll, describe, expect, test } from "bun:test";
import { alive, BINARY, ensureBinary, groupMembers, sseData, startBinary, type Running } from "./harness.ts";
import { freePortRange } from "../fixtures/ports.ts";
import { waitFor } from "../fixtures/wait.ts";

const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop("SIGTERM");
});

async function start(config: string): Promise<Running> {
  const r = await startBinary(config);
  running.push(r);
  return r;
}

function chat(url: string, model: string, stream: boolean, extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "hi" }], ...extra }),
  });
}

/** Pids of the running backends, from /running. */
async function backendPids(url: string): Promise<number[]> {
  const body = (await (await fetch(`${url}/running`)).json()) as { running: { pid?: number | null }[] };
  return body.running.map((m) => m.pid).filter((p): p is number => typeof p === "number");
}

const TWO_MODELS = `
healthCheckTimeout: 20
sendLoadingState: true
models:
  alpha:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model alpha --load-ms 300 --tps 200 --tokens 20
  beta:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model beta --load-ms 300 --tps 200 --tokens 20
`;

/** Two models that run side by side; `aFlags` go to model a's simulator. */
function sideBySide(aFlags: string): string {
  return `
routing:
  router:
    settings:
      groups:
        all: { members: [a, b], swap: false }
models:
  a: { cmd: "\${SWITCHYARD} simulate --port \${PORT} --model a ${aFlags}" }
  b: { cmd: "\${SWITCHYARD} simulate --port \${PORT} --model b" }
`;
}

function withPorts(text: string): string {
  // Each test gets its own port range so parallel runs and leftovers cannot collide.
  return `startPort: ${freePortRange(4)}\n${text}`;
}

beforeAll(async () => {
  await ensureBinary();
}, 180_000);

describe("dist/switchyard", () => {
  test("--version prints the build stamp", async () => {
    const proc = Bun.spawn([BINARY, "--version"], { stdout: "pipe" });
    const out = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    expect(out).toMatch(/^version: \d+\.\d+\.\d+ \([0-9a-f]+\), built at \d{4}-/);
  });

  test("a bad config exits 2 with the error on stderr and no stack trace", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "switchyard-bad-"));
    writeFileSync(join(dir, "config.yaml"), "models:\n  a:\n    cmd: x --port ${PORT}\n    ttl: soon\n");
    const proc = Bun.spawn([BINARY, "--config", "config.yaml"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    const err = await new Response(proc.stderr).text();
    expect(await proc.exited).toBe(2);
    expect(err).toContain("models.a.ttl");
    expect(err).toContain(":4:");
    expect(err).not.toContain("    at ");
  });

  test("a taken listen port exits 1 with a clear message and no stack trace", async () => {
    const squatter = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    try {
      const { mkdtempSync, writeFileSync } = await import("node:fs");
      const { join } = await import("node:path");
      const { tmpdir } = await import("node:os");
      const dir = mkdtempSync(join(tmpdir(), "switchyard-port-"));
      writeFileSync(join(dir, "config.yaml"), withPorts(TWO_MODELS));
      const proc = Bun.spawn([BINARY, "--config", "config.yaml", "--listen", `127.0.0.1:${squatter.port}`], {
        cwd: dir,
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      expect(code).toBe(1);
      expect(err).toContain(`cannot listen on 127.0.0.1:${squatter.port}`);
      expect(out + err).not.toContain("    at ");
    } finally {
      squatter.stop(true);
    }
  }, 30_000);

  test("--listen :PORT answers on IPv4 and IPv6 alike, as llama-swap's Go listener does; an IPv4 client is logged as its IPv4 address", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "switchyard-dual-"));
    writeFileSync(join(dir, "config.yaml"), withPorts(TWO_MODELS));
    const port = freePortRange(1);
    const proc = Bun.spawn([BINARY, "--config", "config.yaml", "--listen", `:${port}`], { cwd: dir, stdout: "pipe", stderr: "ignore" });
    const out = new Response(proc.stdout).text();
    try {
      const ok = async (url: string) => {
        try {
          return (await fetch(url)).ok;
        } catch {
          return false;
        }
      };
      await waitFor(() => ok(`http://127.0.0.1:${port}/health`), 10_000, "IPv4");
      expect(await ok(`http://[::1]:${port}/health`)).toBe(true);
      expect(await ok(`http://127.0.0.1:${port}/api/version`)).toBe(true);
      expect(await ok(`http://[::1]:${port}/api/version`)).toBe(true);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
    // The dual-stack socket sees ::ffff:127.0.0.1; the access log names the client as llama-swap does.
    const log = await out;
    expect(log).toContain('Request 127.0.0.1 "GET /api/version HTTP/1.1" 200');
    expect(log).toContain('Request ::1 "GET /api/version HTTP/1.1" 200');
  }, 30_000);

  test("cold start streams loading progress, then the answer", async () => {
    const r = await start(withPorts(TWO_MODELS));
    const res = await chat(r.url, "alpha", true);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const data = await sseData(res);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as { choices: { delta: Record<string, string> }[] });
    const reasoning = chunks.map((c) => c.choices[0]?.delta?.reasoning_content ?? "").join("");
    const content = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    expect(reasoning).toContain("alpha");
    expect(content.length).toBeGreaterThan(0);
    expect(data.some((d) => d.includes('"error"'))).toBe(false);
  }, 30_000);

  test("swap between two models, unknown model 404, unload API", async () => {
    const r = await start(withPorts(TWO_MODELS));
    const a = await chat(r.url, "alpha", false);
    expect(a.status).toBe(200);
    expect(((await a.json()) as { model: string }).model).toBe("alpha");
    const b = await chat(r.url, "beta", false);
    expect(b.status).toBe(200);
    expect(((await b.json()) as { model: string }).model).toBe("beta");
    const run = (await (await fetch(`${r.url}/running`)).json()) as { running: { model: string; state: string }[] };
    expect(run.running.filter((m) => m.state === "ready").map((m) => m.model)).toEqual(["beta"]);

    const missing = await chat(r.url, "gamma", false);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toContain("gamma");

    const pids = await backendPids(r.url);
    expect(pids.length).toBe(1);
    const un = await fetch(`${r.url}/api/models/unload`, { method: "POST" });
    expect(un.status).toBe(200);
    await waitFor(() => !alive(pids[0]!), 5000, "the unloaded backend to exit");
    const after = (await (await fetch(`${r.url}/running`)).json()) as { running: { state: string }[] };
    expect(after.running.filter((m) => m.state === "ready")).toEqual([]);
  }, 30_000);

  test("20 clients alternating streaming traffic over 2 models: no failed or truncated response", async () => {
    // 20 clients may all want one model at once: lift the default limit of 10 per model.
    const r = await start(withPorts(TWO_MODELS.replaceAll("--tokens 20\n", "--tokens 20\n    concurrencyLimit: 20\n")));
    const one = async (i: number, j: number): Promise<string> => {
      const model = (i + j) % 2 === 0 ? "alpha" : "beta";
      const res = await chat(r.url, model, true, { max_tokens: 10 });
      if (res.status !== 200) return `status ${res.status}`;
      const data = await sseData(res);
      if (data.at(-1) !== "[DONE]") return "truncated";
      if (data.some((d) => d.includes('"error"'))) return "error event";
      const content = data
        .slice(0, -1)
        .map((d) => JSON.parse(d) as { choices: { delta?: { content?: string } }[] })
        .map((c) => c.choices[0]?.delta?.content ?? "")
        .join("");
      return content.length > 0 ? "ok" : "empty";
    };
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const out: string[] = [];
        for (let j = 0; j < 3; j++) out.push(await one(i, j));
        return out;
      }),
    );
    const flat = results.flat();
    expect(flat.filter((x) => x !== "ok")).toEqual([]);
    expect(flat.length).toBe(60);
  }, 120_000);

  test("a swap lets a long stream finish; a stalled one is severed in-band after drainTimeout", async () => {
    const r = await start(
      withPorts(`
drainTimeout: 1
routing:
  scheduler:
    settings:
      fifo: { maxWait: 0.2 }
models:
  long:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model long --tps 40 --tokens 30
  stall:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model stall --stall-after 3
  next:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model next --load-ms 200
`),
    );
    // 1. A 30-token stream at 40 tokens/s (~0.75 s) survives a swap request arriving mid-way,
    //    because the swap waits for it (it ends well within maxWait + drainTimeout).
    const longRes = await chat(r.url, "long", true);
    const longData = sseData(longRes);
    await Bun.sleep(100);
    const afterLong = await chat(r.url, "next", false);
    const data = await longData;
    expect(data.at(-1)).toBe("[DONE]");
    expect(data.some((d) => d.includes('"error"'))).toBe(false);
    const content = data
      .slice(0, -1)
      .map((d) => (JSON.parse(d) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta?.content ?? "")
      .join("");
    expect(content.length).toBeGreaterThan(30);
    expect(afterLong.status).toBe(200);

    // 2. A stream that stalls forever is severed after maxWait + drainTimeout, with an in-band
    //    error event and [DONE], and the next model is served.
    const stallRes = await chat(r.url, "stall", true);
    expect(stallRes.status).toBe(200);
    const stallData = sseData(stallRes);
    await Bun.sleep(100);
    const t0 = Date.now();
    const next = await chat(r.url, "next", false);
    const waited = Date.now() - t0;
    expect(next.status).toBe(200);
    expect(waited).toBeLessThan(8000);
    const cut = await stallData;
    expect(cut.at(-1)).toBe("[DONE]");
    const err = JSON.parse(cut.at(-2)!) as { error: { message: string } };
    expect(err.error.message).toMatch(/drain|sever/i);
  }, 30_000);

  test("300 concurrent streams all start before any ends (no hidden fetch limit)", async () => {
    // Bun's fetch runs 256 requests at once unless BUN_CONFIG_MAX_HTTP_REQUESTS says otherwise;
    // switchyard raises it at start, so stream 257 must not wait for stream 1 to finish.
    const r = await start(
      withPorts(`
logToStdout: none
models:
  m:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model m --tps 5 --tokens 8
    concurrencyLimit: 400
`),
    );
    expect((await chat(r.url, "m", false, { max_tokens: 1 })).status).toBe(200);
    const client = Bun.spawn([process.execPath, `${import.meta.dir}/many-streams.ts`, r.url, "300"], {
      env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: "1024" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(client.stdout).text(), new Response(client.stderr).text(), client.exited]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ late: 0 });
  }, 60_000);

  test("concurrency limit answers 429 with Retry-After", async () => {
    const r = await start(
      withPorts(`
models:
  slow:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model slow --tps 20 --tokens 40
    concurrencyLimit: 2
`),
    );
    const first = [chat(r.url, "slow", false), chat(r.url, "slow", false)];
    // Wait until both are counted, then a third must be refused at once.
    await waitFor(
      async () => {
        const run = (await (await fetch(`${r.url}/running`)).json()) as { running: { inFlight?: number; queued?: number }[] };
        return run.running.reduce((n, m) => n + (m.inFlight ?? 0) + (m.queued ?? 0), 0) >= 2;
      },
      10_000,
      "both requests counted",
    );
    const third = await chat(r.url, "slow", false);
    expect(third.status).toBe(429);
    expect(third.headers.get("retry-after")).toMatch(/^\d+$/);
    for (const p of await Promise.all(first)) expect(p.status).toBe(200);
  }, 30_000);

  test("hooks.on_startup.preload loads a model without a request", async () => {
    const r = await start(withPorts(`${TWO_MODELS}hooks:\n  on_startup:\n    preload: [beta]\n`));
    await waitFor(
      async () => {
        const run = (await (await fetch(`${r.url}/running`)).json()) as { running: { model: string; state: string }[] };
        return run.running.some((m) => m.model === "beta" && m.state === "ready");
      },
      10_000,
      "beta preloaded and ready",
    );
  }, 20_000);

  test("TTL unloads an idle model", async () => {
    const r = await start(
      withPorts(`
models:
  brief:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model brief
    ttl: 1
`),
    );
    expect((await chat(r.url, "brief", false)).status).toBe(200);
    const pids = await backendPids(r.url);
    expect(pids.length).toBe(1);
    await waitFor(() => !alive(pids[0]!), 8000, "the idle backend to exit by ttl");
  }, 20_000);

  test("SIGTERM stops every backend and exits 0", async () => {
    const r = await startBinary(withPorts(sideBySide("")));
    expect((await chat(r.url, "a", false)).status).toBe(200);
    expect((await chat(r.url, "b", false)).status).toBe(200);
    const pids = await backendPids(r.url);
    expect(pids.length).toBe(2);
    expect(await r.stop("SIGTERM")).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  }, 30_000);

  test("kill -9 of the binary leaves no backend alive after 5 s", async () => {
    const r = await startBinary(withPorts(sideBySide("--spawn-grandchild")));
    expect((await chat(r.url, "a", false)).status).toBe(200);
    expect((await chat(r.url, "b", false)).status).toBe(200);
    const pids = await backendPids(r.url);
    expect(pids.length).toBe(2);
    // Backends lead their own process groups; model a's group also holds its grandchild.
    expect(groupMembers(pids[0]!).length + groupMembers(pids[1]!).length).toBeGreaterThanOrEqual(3);
    await r.stop("SIGKILL");
    await waitFor(() => pids.every((p) => groupMembers(p).length === 0), 5000, "every backend process group empty");
  }, 30_000);
});
