import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatTable, runCheck, type CheckIO } from "../../src/cli/check.ts";

const dir = mkdtempSync(join(tmpdir(), "switchyard-check-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function capture(env: Record<string, string> = {}): CheckIO & { stdout: string; stderr: string } {
  const io = { stdout: "", stderr: "", env, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

const GOOD = `
startPort: 6000
macros:
  sim: \${SWITCHYARD} simulate --port \${PORT}
models:
  chat:
    cmd: \${sim} --model \${MODEL_ID}
    aliases: [fast, quick]
    ttl: 30
    timeouts: {connect: 5, idleConn: 5}
  fixed:
    cmd: server --port 9000
    proxy: http://127.0.0.1:9000
groups:
  pair: {members: [chat], swap: false}
peers:
  box: {proxy: "http://10.0.0.2", models: [a, b]}
`;

describe("runCheck", () => {
  test("a good config: exit 0, warnings and the resolved model table on stdout", async () => {
    const path = file("good.yaml", GOOD);
    const io = capture();
    expect(await runCheck({ config: path }, ["/opt/sw bin/switchyard"], io)).toBe(0);
    expect(io.stderr).toBe("");
    const lines = io.stdout.split("\n");
    expect(lines[0]).toBe(`${path}: OK: 2 model(s), 1 peer(s), router group, scheduler fifo`);
    expect(io.stdout).toContain(`  ${path}:10: models.chat.timeouts.idleConn: has no effect in switchyard (Bun's fetch manages its own connections); accepted for llama-swap compatibility`);
    const header = lines.find((l) => l.startsWith("ID "))!;
    expect(header.split(/\s{2,}/)).toEqual(["ID", "PORT", "PROXY", "TTL", "GROUP", "ALIASES", "ARGV"]);
    const row = (id: string) => lines.find((l) => l.startsWith(`${id} `))!.split(/\s{2,}/);
    expect(row("chat")).toEqual(["chat", "6000", "http://localhost:6000", "30s", "pair", "fast,quick", "'/opt/sw bin/switchyard' simulate --port 6000 --model chat"]);
    expect(row("fixed")).toEqual(["fixed", "-", "http://127.0.0.1:9000", "never", "(default)", "-", "server --port 9000"]);
    expect(io.stdout).toContain("box   http://10.0.0.2  a,b");
  });

  test("a matrix config lists each model's sets", async () => {
    const path = file("matrix.yaml", "models:\n  a: {cmd: 's --port ${PORT}'}\n  b: {cmd: 's --port ${PORT}'}\nmatrix:\n  sets:\n    duo: a & b\n    solo: a\n");
    const io = capture();
    expect(await runCheck({ config: path }, ["sw"], io)).toBe(0);
    const row = io.stdout.split("\n").find((l) => l.startsWith("a "))!;
    expect(row.split(/\s{2,}/)[4]).toBe("duo,solo");
  });

  test("a bad config: exit 2, one line per error on stderr, no stack trace, nothing on stdout", async () => {
    const path = file("bad.yaml", "models:\n  a:\n    cmd: srv\n    ttl: soon\n");
    const io = capture();
    expect(await runCheck({ config: path }, ["sw"], io)).toBe(2);
    expect(io.stdout).toBe("");
    expect(io.stderr.split("\n")).toEqual([
      `${path}:2:3: models.a.proxy: no proxy is set and cmd does not use \${PORT}: add \${PORT} to cmd, or set proxy to the URL the server listens on`,
      `${path}:4:5: models.a.ttl: must be a whole number, got "soon"`,
      `${path}: 2 error(s); the config was not loaded`,
      "",
    ]);
  });

  test("environment variables come from the injected env", async () => {
    const path = file("env.yaml", "apiKeys: [\"${env.SW_KEY}\"]\n");
    expect(await runCheck({ config: path }, ["sw"], capture({ SW_KEY: "k" }))).toBe(0);
    const io = capture();
    expect(await runCheck({ config: path }, ["sw"], io)).toBe(2);
    expect(io.stderr).toContain("environment variable SW_KEY is not set");
  });

  test("a missing file: exit 2 with a one-line reason", async () => {
    const io = capture();
    expect(await runCheck({ config: join(dir, "nope.yaml") }, ["sw"], io)).toBe(2);
    expect(io.stderr).toStartWith(`switchyard: cannot read config "${join(dir, "nope.yaml")}":`);
    expect(io.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("formatTable pads every column but the last", () => {
    expect(formatTable([["a", "bb", "c"], ["ccc", "d", "e"]])).toBe("a    bb  c\nccc  d   e");
  });
});

describe("switchyard --check (real process)", () => {
  test("exit codes and streams of the CLI", async () => {
    const good = file("cli-good.yaml", GOOD);
    const bad = file("cli-bad.yaml", "startPort: 0\n");
    const run = async (config: string) => {
      const proc = Bun.spawn([process.execPath, fileURLToPath(new URL("../../src/main.ts", import.meta.url)), "--config", config, "--check"], { stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      return { stdout, stderr, code };
    };
    const ok = await run(good);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("OK: 2 model(s)");
    const ko = await run(bad);
    expect(ko.code).toBe(2);
    expect(ko.stderr).toContain(`${bad}:1:1: startPort: must be >= 1, got 0`);
    expect(ko.stderr).not.toContain("    at ");
  });
});
