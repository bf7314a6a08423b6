import { describe, expect, test } from "bun:test";
import { spawnGroup, resolveExecutable, SpawnError } from "../../src/process/spawn-group.ts";
import { isGroupAlive, isPidAlive } from "../../src/process/proc-liveness.ts";
import { waitFor } from "../fixtures/wait.ts";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";

const env = { ...process.env };

describe("spawnGroup", () => {
  test("drains stdout and stderr and reports the exit code", async () => {
    let out = "";
    const p = spawnGroup(["sh", "-c", "echo out; echo err >&2; printf 'é€🚀'; exit 7"], { env, onOutput: (t) => (out += t) });
    expect(await p.exited).toEqual({ code: 7, signal: null });
    await p.outputDone;
    expect(out).toContain("out\n");
    expect(out).toContain("err\n");
    expect(out).toContain("é€🚀");
    expect(p.exitInfo).toEqual({ code: 7, signal: null });
  });

  for (const via of ["fifo", "pipe"] as const) {
    test(`output via ${via}: whole, in order, UTF-8 split across writes, the last line read when the leader exits`, async () => {
      let out = "";
      // é is written as its two bytes apart, 30 ms between them.
      const script = "for i in 1 2 3; do echo line$i; done; printf '\\303'; sleep 0.03; printf '\\251\\n'; echo last >&2";
      const p = spawnGroup(["sh", "-c", script], { env, onOutput: (t) => (out += t), outputVia: via });
      await p.exited;
      await p.outputDone;
      expect(out).toBe("line1\nline2\nline3\né\nlast\n");
    });

    test(`output via ${via}: a child that writes 4 MiB at once (64 reads of a full FIFO) finishes, and every byte arrives`, async () => {
      let bytes = 0;
      const p = spawnGroup(["sh", "-c", "head -c 4194304 /dev/zero | tr '\\0' x; echo"], { env, onOutput: (t) => (bytes += t.length), outputVia: via });
      expect((await p.exited).code).toBe(0);
      await p.outputDone;
      expect(bytes).toBe(4 * 1024 * 1024 + 1);
    });
  }

  test("output via fifo: a listener that throws loses that text only; the reading goes on and nothing escapes", async () => {
    let out = "";
    let calls = 0;
    const onOutput = (t: string): void => {
      if (calls++ === 0) throw new Error("listener bug");
      out += t;
    };
    const marker = `${tmpdir()}/switchyard-throw-${process.pid}`;
    rmSync(marker, { force: true });
    // The second line waits until the first was delivered, so the two never share a read.
    const script = `echo first; while [ ! -e ${marker} ]; do sleep 0.01; done; echo second`;
    const p = spawnGroup(["sh", "-c", script], { env, onOutput, outputVia: "fifo" });
    await waitFor(() => calls >= 1, 5000, "the first line delivered");
    writeFileSync(marker, "");
    await p.exited;
    await p.outputDone;
    rmSync(marker, { force: true });
    expect([calls, out]).toEqual([2, "second\n"]);
  });

  test("flushOutput hands over what the child wrote without waiting for the next batch", async () => {
    let out = "";
    const marker = `${tmpdir()}/switchyard-flush-${process.pid}`;
    rmSync(marker, { force: true });
    const p = spawnGroup(["sh", "-c", `echo written; touch ${marker}; exec sleep 30`], { env, onOutput: (t) => (out += t), outputVia: "fifo" });
    await waitFor(() => existsSync(marker), 5000, "the child wrote its line");
    p.flushOutput();
    expect(out).toBe("written\n");
    p.killGroup("SIGKILL");
    await p.exited;
    rmSync(marker, { force: true });
  });

  test("the command is the group leader and keeps its pid behind the guard", async () => {
    let out = "";
    const p = spawnGroup(["sh", "-c", "echo pid=$$; exec sleep 30"], { env, onOutput: (t) => (out += t) });
    await waitFor(() => out.includes("pid="), 5000, "pid line");
    expect(out).toContain(`pid=${p.pid}\n`);
    p.killGroup("SIGTERM");
    expect(await p.exited).toEqual({ code: null, signal: "SIGTERM" });
  });

  test("a missing binary is a SpawnError, not an exit", () => {
    expect(() => spawnGroup(["/nonexistent/llama-server", "-m", "x"], { env })).toThrow(SpawnError);
    expect(() => spawnGroup(["no-such-binary-switchyard"], { env })).toThrow(/not found/);
    expect(() => spawnGroup([], { env })).toThrow(SpawnError);
  });

  test("resolveExecutable searches PATH and honours relative paths", () => {
    expect(resolveExecutable("sh", process.env.PATH, "/")).toMatch(/\/sh$/);
    expect(resolveExecutable("./sh", undefined, "/bin")).toBe("/bin/sh");
    expect(resolveExecutable("definitely-missing", process.env.PATH, "/")).toBeNull();
  });

  test("killGroup reaches grandchildren", async () => {
    let out = "";
    const p = spawnGroup(["sh", "-c", "sleep 30 & echo gc=$!; wait"], { env, onOutput: (t) => (out += t) });
    await waitFor(() => /gc=\d+/.test(out), 5000, "grandchild pid");
    const gc = Number(/gc=(\d+)/.exec(out)![1]);
    expect(isPidAlive(gc)).toBe(true);
    p.killGroup("SIGKILL");
    await p.exited;
    await waitFor(() => !isPidAlive(gc), 5000, "grandchild gone");
    await waitFor(() => !isGroupAlive(p.pid), 5000, "group gone");
  });

  test("when the leader exits, the guard kills what is left of its group", async () => {
    let out = "";
    // The leader forks a grandchild that ignores SIGTERM and holds stdout, then exits.
    const p = spawnGroup(["sh", "-c", "trap '' TERM; sleep 30 & echo gc=$!; exit 0"], { env, onOutput: (t) => (out += t) });
    expect((await p.exited).code).toBe(0);
    await waitFor(() => /gc=\d+/.test(out), 5000, "grandchild pid");
    const gc = Number(/gc=(\d+)/.exec(out)![1]);
    await waitFor(() => !isPidAlive(gc), 5000, "grandchild killed by the guard");
    expect(p.groupAlive()).toBe(false);
    p.killGroup("SIGKILL"); // a gone group is not an error
  });
});
