import { describe, expect, test } from "bun:test";
import { spawnGroup, resolveExecutable, SpawnError } from "../../src/process/spawn-group.ts";
import { isGroupAlive, isPidAlive } from "../../src/process/proc-liveness.ts";
import { waitFor } from "../fixtures/wait.ts";

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
