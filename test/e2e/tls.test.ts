/**
 * End-to-end TLS: dist/switchyard with --tls-cert-file and --tls-key-file and a self-signed
 * certificate made here with openssl, in front of a simulated model. /health, a streamed chat
 * with the official `openai` client and a WebSocket (wss) over HTTPS; unreadable or bad files
 * stop the start with one line naming them. Without openssl: a failing test in CI, else skipped.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { freePort, freePortRange } from "../fixtures/ports.ts";
import { openSocket } from "../fixtures/ws-client.ts";
import { BINARY, ensureBinary, startBinary, type Running } from "./harness.ts";

const OPENSSL = Bun.which("openssl");
if (!OPENSSL) {
  if (process.env.CI) {
    test("TLS end-to-end tests: openssl is available", () => {
      throw new Error("openssl is missing, and CI must run the TLS tests: install it (apt-get install -y openssl)");
    });
  } else {
    console.warn("skipping the TLS end-to-end tests: no openssl here (apt-get install -y openssl)");
  }
}

const CONFIG = `
startPort: ${freePortRange(1)}
models:
  chat:
    cmd: \${SWITCHYARD} simulate --port \${PORT} --model chat --tokens 5
`;

describe.skipIf(!OPENSSL)("--tls-cert-file and --tls-key-file", () => {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-tls-"));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  let cert = "";
  let sy: Running;

  beforeAll(async () => {
    const proc = Bun.spawn(
      [OPENSSL!, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "1", "-keyout", keyFile, "-out", certFile],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    if (code !== 0) throw new Error(`openssl failed (${code}): ${err}`);
    cert = readFileSync(certFile, "utf8");
    sy = await startBinary(CONFIG, ["--tls-cert-file", certFile, "-tls-key-file", keyFile], undefined, { httpsCa: cert });
  });
  afterAll(async () => {
    await sy?.stop("SIGTERM");
  });

  test("serves HTTPS: /health, and the log says https", async () => {
    expect(sy.url).toStartWith("https://");
    const res = await fetch(`${sy.url}/health`, { tls: { ca: cert } });
    expect(await res.text()).toBe("OK");
    expect(sy.output()).toContain(`listening on ${sy.url}/`);
    // The certificate is checked: a client that does not trust it is refused.
    await expect(fetch(`${sy.url}/health`)).rejects.toThrow();
  });

  test("a streamed chat with the official openai client", async () => {
    const client = new OpenAI({
      baseURL: `${sy.url}/v1`,
      apiKey: "none",
      // Bun's fetch trusts an extra CA through its `tls` option.
      fetch: (url: RequestInfo | URL, init?: RequestInit) => fetch(url, { ...init, tls: { ca: cert } }),
    });
    const stream = await client.chat.completions.create({ model: "chat", stream: true, messages: [{ role: "user", content: "hi" }] });
    let text = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe("stop");
  });

  test("WebSockets over wss", async () => {
    const s = await openSocket(`${sy.url.replace("https:", "wss:")}/upstream/chat/ws`, { ca: cert });
    s.send("secure hello");
    expect(await s.next()).toBe("secure hello");
    s.ws.close(1000);
    expect((await s.closed).code).toBe(1000);
  });

  /** Run the binary to its exit (it must not start) and return its code and output. */
  async function failedStart(args: string[]): Promise<{ code: number; out: string }> {
    await ensureBinary();
    const cwd = mkdtempSync(join(tmpdir(), "switchyard-tls-bad-"));
    writeFileSync(join(cwd, "config.yaml"), CONFIG);
    const proc = Bun.spawn([BINARY, "--config", "config.yaml", "--listen", `127.0.0.1:${freePort()}`, ...args], { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    return { code, out: out + err };
  }

  test("an unreadable certificate or key stops the start with one line naming the file", async () => {
    const missing = join(dir, "missing-key.pem");
    const r = await failedStart(["--tls-cert-file", certFile, "--tls-key-file", missing]);
    expect(r.code).toBe(1);
    expect(r.out.trim().split("\n")).toEqual([expect.stringContaining(`switchyard: cannot read TLS key file "${missing}"`)]);
    const c = await failedStart(["--tls-cert-file", join(dir, "nope.pem"), "--tls-key-file", keyFile]);
    expect(c.code).toBe(1);
    expect(c.out).toContain(`cannot read TLS certificate file "${join(dir, "nope.pem")}"`);
  });

  test("a file that is not PEM stops the start, naming both files", async () => {
    const junk = join(dir, "junk.pem");
    writeFileSync(junk, "not a certificate\n");
    const r = await failedStart(["--tls-cert-file", junk, "--tls-key-file", keyFile]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`with TLS (${junk}, ${keyFile})`);
  });

  test("one TLS flag without the other is a usage error (exit 2)", async () => {
    const r = await failedStart(["--tls-cert-file", certFile]);
    expect(r.code).toBe(2);
    expect(r.out).toContain("both --tls-cert-file and --tls-key-file must be given for TLS");
  });
});
