import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogHub } from "../../src/log/log-hub.ts";
import type { LogHub } from "../../src/log/types.ts";
import { isPidAlive } from "../../src/process/proc-liveness.ts";
import { spawnGroup, type Spawner } from "../../src/process/spawn-group.ts";
import { createSupervisor, type SupervisorOptions } from "../../src/process/supervisor.ts";
import { StartError, type Supervisor, type SupervisorEvent } from "../../src/process/types.ts";
import { simModel } from "../fixtures/sim-model.ts";
import { waitFor } from "../fixtures/wait.ts";
import { CRASH_EXIT_CODE } from "../../src/cli/simulate.ts";
import type { ModelConfig } from "../../src/config/types.ts";

const live: Supervisor[] = [];

afterEach(async () => {
  await Promise.all(live.splice(0).map((s) => s.shutdown(0)));
});

interface Harness {
  sup: Supervisor;
  logs: LogHub;
  events: SupervisorEvent[];
  spawns: number;
}

function harness(model: ModelConfig, over: Partial<SupervisorOptions> = {}): Harness {
  const logs = over.logs ?? createLogHub({ level: "debug", logToStdout: "none" });
  const h: Harness = { sup: undefined as unknown as Supervisor, logs, events: [], spawns: 0 };
  const inner: Spawner = over.spawn ?? spawnGroup;
  const spawn: Spawner = (argv, opts) => {
    h.spawns++;
    return inner(argv, opts);
  };
  h.sup = createSupervisor({ model, logs, ...over, spawn });
  h.sup.subscribe((ev) => h.events.push(ev));
  live.push(h.sup);
  return h;
}

async function startError(p: Promise<void>): Promise<StartError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(StartError);
    return err as StartError;
  }
  throw new Error("start() resolved, expected a StartError");
}

const states = (h: Harness) => h.events.filter((e) => e.type === "state").map((e) => (e as { to: string }).to);

describe("supervisor start", () => {
  test("detects readiness soon after /health first answers 200, and records the load time", async () => {
    const h = harness(simModel(["--load-ms", "400"]));
    await h.sup.start();
    expect(h.sup.state).toBe("ready");
    expect(h.sup.pid).toBeGreaterThan(0);
    await waitFor(() => h.events.some((e) => e.type === "ready"), 1000, "ready event");
    const ready = h.events.find((e) => e.type === "ready") as Extract<SupervisorEvent, { type: "ready" }>;
    const flip = Number(/ready at (\d+)/.exec(h.logs.model("sim").history())![1]);
    const lag = ready.at - flip;
    // The probe gap is at most 50 ms; the bound leaves room for a loaded 2-core machine.
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(250);
    expect(ready.loadMs).toBeGreaterThanOrEqual(400);
    expect(h.sup.loadHistoryMs).toEqual([ready.loadMs]);
    expect(states(h)).toEqual(["starting", "ready"]);
  });

  test("checkEndpoint none is ready at spawn", async () => {
    const h = harness(simModel(["--never-healthy"], { checkEndpoint: "none" }));
    await h.sup.start();
    expect(h.sup.state).toBe("ready");
  });

  test("concurrent start() calls join one spawn", async () => {
    const h = harness(simModel(["--load-ms", "100"]));
    await Promise.all([h.sup.start(), h.sup.start(), h.sup.start()]);
    expect(h.spawns).toBe(1);
    await h.sup.start(); // already ready
    expect(h.spawns).toBe(1);
  });

  test("a backend that exits at start fails at once with its exit code and output", async () => {
    const h = harness(simModel(["--exit-at-start", "3"]));
    const t0 = performance.now();
    const err = await startError(h.sup.start());
    const elapsed = performance.now() - t0;
    expect(err.kind).toBe("exited");
    expect(err.exitCode).toBe(3);
    expect(err.lastLines.join("\n")).toContain("simulated start failure");
    expect(elapsed).toBeLessThan(1000);
    expect(h.sup.state).toBe("stopped");
    expect(states(h)).toEqual(["starting", "stopping", "stopped"]);
  });

  test("a missing binary fails with kind spawn", async () => {
    const h = harness(simModel([], { cmd: ["/nonexistent/llama-server", "--port", "1"] }));
    const err = await startError(h.sup.start());
    expect(err.kind).toBe("spawn");
    expect(err.message).toContain("/nonexistent/llama-server");
    expect(h.sup.state).toBe("stopped");
  });

  test("a port that already accepts connections is refused before spawning", async () => {
    const squatter = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("not yours") });
    try {
      const h = harness(simModel([], { port: squatter.port }));
      const err = await startError(h.sup.start());
      expect(err.kind).toBe("port_in_use");
      expect(err.message).toContain(String(squatter.port));
      expect(h.spawns).toBe(0);
      expect(h.sup.state).toBe("stopped");
    } finally {
      squatter.stop(true);
    }
  });

  test("healthCheckTimeout kills the group and fails with kind timeout", async () => {
    const h = harness(simModel(["--never-healthy", "--spawn-grandchild"], { healthCheckTimeout: 0.6 }));
    const start = h.sup.start();
    await waitFor(() => /grandchild pid \d+/.test(h.logs.model("sim").history()), 5000, "grandchild");
    const gc = Number(/grandchild pid (\d+)/.exec(h.logs.model("sim").history())![1]);
    const leader = h.sup.pid!;
    const err = await startError(start);
    expect(err.kind).toBe("timeout");
    expect(h.sup.state).toBe("stopped");
    expect(isPidAlive(leader)).toBe(false);
    expect(isPidAlive(gc)).toBe(false);
  });

  test("a health-check timeout runs cmdStop before the group is killed (what stops a server outside the group)", async () => {
    const h = harness(
      simModel(["--never-healthy", "--ignore-sigterm"], {
        healthCheckTimeout: 0.6,
        cmdStop: ["sh", "-c", 'echo "cmdStop for $1"; kill -KILL "$1"', "sh", "${PID}"],
      }),
    );
    const start = h.sup.start();
    await waitFor(() => h.sup.pid !== null, 5000, "spawn");
    const leader = h.sup.pid!;
    const err = await startError(start);
    expect(err.kind).toBe("timeout");
    expect(h.sup.state).toBe("stopped");
    expect(isPidAlive(leader)).toBe(false);
    expect(h.logs.model("sim").history()).toContain(`cmdStop for ${leader}`);
    expect(h.logs.proxy.history()).not.toContain("sending SIGKILL");
  });

  test("stop during start aborts the start promptly", async () => {
    const h = harness(simModel(["--load-ms", "60000"]));
    const start = h.sup.start();
    await waitFor(() => h.sup.pid !== null, 5000, "spawn");
    const pid = h.sup.pid!;
    const t0 = performance.now();
    const stop = h.sup.stop(5000);
    const err = await startError(start);
    expect(err.kind).toBe("aborted");
    await stop;
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(h.sup.state).toBe("stopped");
    expect(isPidAlive(pid)).toBe(false);
  });
});

describe("supervisor stop", () => {
  test("SIGTERM stops a well-behaved backend; stop is idempotent", async () => {
    const h = harness(simModel());
    await h.sup.start();
    const pid = h.sup.pid!;
    const a = h.sup.stop(5000);
    const b = h.sup.stop(5000);
    expect(a).toBe(b);
    await a;
    expect(isPidAlive(pid)).toBe(false);
    expect(h.sup.state).toBe("stopped");
    await h.sup.stop(5000); // stopping a stopped model is a no-op
    await waitFor(() => states(h).length === 4, 1000, "state events");
    expect(states(h)).toEqual(["starting", "ready", "stopping", "stopped"]);
  });

  test("a backend that ignores SIGTERM is SIGKILLed after the timeout", async () => {
    const h = harness(simModel(["--ignore-sigterm"]));
    await h.sup.start();
    const pid = h.sup.pid!;
    const t0 = performance.now();
    await h.sup.stop(400);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(5000);
    expect(isPidAlive(pid)).toBe(false);
    expect(h.logs.model("sim").history()).toContain("SIGTERM received and ignored");
    expect(h.logs.proxy.history()).toContain("sending SIGKILL");
  });

  test("a forking wrapper whose grandchild holds stdout stops without hanging, grandchild included", async () => {
    const h = harness(simModel(["--spawn-grandchild"]));
    await h.sup.start();
    const gc = Number(/grandchild pid (\d+)/.exec(h.logs.model("sim").history())![1]);
    expect(isPidAlive(gc)).toBe(true);
    await h.sup.stop(5000);
    expect(isPidAlive(gc)).toBe(false);
  });

  test("a cmdStop that outlasts the stop timeout is not killed (a docker stop ends a server outside the group): the stop waits for it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sy-cmdstop-"));
    const marker = join(dir, "finished");
    // Ends the server at once, then goes on (as `docker stop` waits for its container) past the 300 ms timeout.
    const h = harness(simModel([], { cmdStop: ["sh", "-c", 'kill -KILL "$1"; sleep 1; echo finished > "$2"', "sh", "${PID}", marker] }));
    await h.sup.start();
    await h.sup.stop(300);
    expect(existsSync(marker)).toBe(true);
    expect(h.sup.state).toBe("stopped");
    expect(h.logs.proxy.history()).toContain("cmdStop still running after the stop deadline: giving it up to 30s more");
  });

  test("cmdStop runs with ${PID} replaced and the model's env", async () => {
    const h = harness(
      simModel([], { cmdStop: ["sh", "-c", 'echo "cmdStop for $1 with $STOP_MARK"; kill -TERM "$1"', "sh", "${PID}"], env: { STOP_MARK: "marked" } }),
    );
    await h.sup.start();
    const pid = h.sup.pid!;
    await h.sup.stop(5000);
    expect(isPidAlive(pid)).toBe(false);
    expect(h.logs.model("sim").history()).toContain(`cmdStop for ${pid} with marked`);
  });

  test("cmdStop runs with the placement's env: its GPUs in ${GPU} env values and the visible devices", async () => {
    const h = harness(
      simModel([], {
        cmdStop: ["sh", "-c", 'echo "cmdStop sees $CUDA_VISIBLE_DEVICES and $MY_GPUS"; kill -TERM "$1"', "sh", "${PID}"],
        env: { MY_GPUS: "gpus=${GPU}" },
      }),
    );
    await h.sup.start({ devices: ["1", "2"], gpus: [1, 2] });
    await h.sup.stop(5000);
    expect(h.logs.model("sim").history()).toContain("cmdStop sees 1,2 and gpus=1,2");
  });

  test("a stop that is queued behind a start-up restarts cleanly afterwards", async () => {
    const h = harness(simModel());
    await h.sup.start();
    const first = h.sup.pid!;
    const stop = h.sup.stop(5000);
    const again = h.sup.start(); // waits for the stop, then starts a fresh process
    await stop;
    await again;
    expect(h.sup.state).toBe("ready");
    expect(h.sup.pid).not.toBe(first);
    expect(isPidAlive(first)).toBe(false);
  });

  test("shutdown is terminal", async () => {
    const h = harness(simModel());
    await h.sup.start();
    await h.sup.shutdown(5000);
    expect(h.sup.state).toBe("shutdown");
    expect((await startError(h.sup.start())).kind).toBe("shutdown");
  });
});

describe("supervisor crash", () => {
  test("a crash while ready goes to stopped with a crash event; the next start starts it again", async () => {
    const h = harness(simModel(["--crash-after", "2"]));
    await h.sup.start();
    const res = await fetch(`${h.sup.baseUrl}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    await res.text().catch(() => "");
    await waitFor(() => h.events.some((e) => e.type === "crash"), 5000, "crash event");
    const crash = h.events.find((e) => e.type === "crash") as Extract<SupervisorEvent, { type: "crash" }>;
    expect(crash.exitCode).toBe(CRASH_EXIT_CODE);
    expect(crash.lastLines.join("\n")).toContain("crashing after 2 tokens");
    await waitFor(() => h.sup.state === "stopped", 5000, "stopped");
    expect(states(h)).toEqual(["starting", "ready", "stopping", "stopped"]);
    await h.sup.start();
    expect(h.sup.state).toBe("ready");
  });
});

describe("supervisor TTL", () => {
  test("idle fires once per idle period, never while a request is in flight", async () => {
    const h = harness(simModel([], { ttl: 0.3 }));
    const idles = () => h.events.filter((e) => e.type === "idle").length;
    await h.sup.start();
    h.sup.setBusy(true);
    // Well past the TTL with a request in flight: nothing.
    await new Promise((r) => setTimeout(r, 700));
    expect(idles()).toBe(0);
    const ended = Date.now();
    h.sup.setBusy(false);
    await waitFor(() => idles() === 1, 3000, "idle event");
    const idle = h.events.find((e) => e.type === "idle")!;
    expect(idle.at - ended).toBeGreaterThanOrEqual(290);
    // Once per idle period: no second event without a new request.
    await new Promise((r) => setTimeout(r, 700));
    expect(idles()).toBe(1);
    // A new request and its end start a new period.
    h.sup.setBusy(true);
    h.sup.setBusy(false);
    await waitFor(() => idles() === 2, 3000, "second idle event");
  });

  test("no TTL, no idle event", async () => {
    const h = harness(simModel([], { ttl: 0 }));
    await h.sup.start();
    h.sup.setBusy(true);
    h.sup.setBusy(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.events.some((e) => e.type === "idle")).toBe(false);
  });
});

describe("supervisor logs", () => {
  test("10,000 lines of backend output stay within the ring bound", async () => {
    const ringBytes = 64 * 1024;
    const logs = createLogHub({ level: "info", logToStdout: "none", ringBytes });
    const h = harness(simModel(["--print-lines", "10000"]), { logs });
    await h.sup.start();
    await waitFor(() => h.logs.model("sim").history().includes("log line 10000 of 10000"), 5000, "last line");
    const bytes = new TextEncoder().encode(h.logs.model("sim").history()).length;
    expect(bytes).toBeLessThanOrEqual(ringBytes);
    expect(new TextEncoder().encode(h.logs.upstream.history()).length).toBeLessThanOrEqual(ringBytes);
  });
});
