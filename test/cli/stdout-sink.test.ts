/**
 * The log's echo on stdout: a reader that went away (EPIPE) stops the echo, said once, and never
 * throws into the process; a reader that stopped reading gets at most the budget held, then a
 * marker for what was dropped. Unit tests over a stand-in stream, and the real binary whose stdout
 * reader closes.
 */
import { expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { createStdoutSink } from "../../src/cli/stdout-sink.ts";
import { BINARY, ensureBinary } from "../e2e/harness.ts";
import { freePort } from "../fixtures/ports.ts";
import { waitFor } from "../fixtures/wait.ts";

/** A stand-in stdout: records writes, answers `full` while the pipe is full, throws when told. */
function fakeOut() {
  const e = new EventEmitter() as EventEmitter & { written: string[]; full: boolean; throws: Error | null; write(t: string): boolean };
  e.written = [];
  e.full = false;
  e.throws = null;
  e.write = (t: string) => {
    if (e.throws) throw e.throws;
    e.written.push(t);
    return !e.full;
  };
  return e;
}

test("an EPIPE stops the echo, told once; later lines are not written and nothing throws", () => {
  const out = fakeOut();
  const told: unknown[] = [];
  const sink = createStdoutSink(out as unknown as Writable, { onBroken: (err) => void told.push(err) });
  sink("one\n");
  out.emit("error", Object.assign(new Error("broken pipe"), { code: "EPIPE" }));
  sink("two\n");
  out.emit("error", Object.assign(new Error("broken pipe"), { code: "EPIPE" }));
  expect(out.written).toEqual(["one\n"]);
  expect(told.map((e) => (e as { code: string }).code)).toEqual(["EPIPE"]);
  // A write that throws at once is the same.
  const out2 = fakeOut();
  const told2: unknown[] = [];
  const sink2 = createStdoutSink(out2 as unknown as Writable, { onBroken: (err) => void told2.push(err) });
  out2.throws = Object.assign(new Error("i/o error"), { code: "EIO" });
  expect(() => sink2("x\n")).not.toThrow();
  sink2("y\n");
  expect(told2).toHaveLength(1);
});

test("a reader that stops reading: text is held up to the budget, the rest dropped, and a marker says how much once it drains", () => {
  const out = fakeOut();
  const sink = createStdoutSink(out as unknown as Writable, { budgetBytes: 10 });
  out.full = true;
  sink("first\n"); // written: the pipe then says it is full
  sink("held\n");
  sink("also\n"); // 5 + 5 = 10: still within the budget
  sink("dropped line\n");
  expect(out.written).toEqual(["first\n"]);
  out.full = false;
  out.emit("drain");
  expect(out.written).toEqual(["first\n", "held\nalso\n[... 13 bytes of log dropped: stdout was not being read ...]\n"]);
  sink("after\n");
  expect(out.written.at(-1)).toBe("after\n");
});

test("the binary keeps serving when its stdout reader goes away (| head), and says so on stderr", async () => {
  await ensureBinary();
  const dir = mkdtempSync(join(tmpdir(), "switchyard-epipe-"));
  writeFileSync(join(dir, "config.yaml"), "models: {}\n");
  const port = freePort();
  const proc = Bun.spawn([BINARY, "--config", "config.yaml", "--listen", `127.0.0.1:${port}`], { cwd: dir, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let err = "";
  void (async () => {
    const r = proc.stderr.getReader();
    for (let c = await r.read(); !c.done; c = await r.read()) err += new TextDecoder().decode(c.value);
  })();
  try {
    // Read the first bytes, then close our end of the pipe, as `| head -c 1` does.
    const reader = proc.stdout.getReader();
    await reader.read();
    await reader.cancel();
    const url = `http://127.0.0.1:${port}`;
    // Every request writes an access-log line to the closed pipe.
    await waitFor(async () => {
      await (await fetch(`${url}/v1/models`)).text();
      return err.includes("stdout failed");
    }, 10_000, "the stdout failure to be noticed");
    expect(err).toMatch(/switchyard: stdout failed \((EPIPE|EIO|[A-Z]+)\)/);
    expect(err).not.toContain("unhandled rejection");
    for (let i = 0; i < 5; i++) expect((await fetch(`${url}/v1/models`)).status).toBe(200);
    expect(proc.exitCode).toBeNull();
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}, 30_000);
