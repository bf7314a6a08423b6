/**
 * State-machine edge cases of the supervisor against a fake spawner (no processes): what happens
 * when stop, shutdown and listeners interleave with a start.
 */
import { describe, expect, test } from "bun:test";
import { createLogHub } from "../../src/log/log-hub.ts";
import { SpawnError, type ExitInfo, type SpawnedProcess, type Spawner } from "../../src/process/spawn-group.ts";
import type { GroupSignal } from "../../src/process/types.ts";
import { createSupervisor } from "../../src/process/supervisor.ts";
import { isLegalTransition, TRANSITIONS } from "../../src/process/transitions.ts";
import type { ModelConfig } from "../../src/config/types.ts";
import { StartError, type ProcessState, type SupervisorEvent } from "../../src/process/types.ts";
import { simModel } from "../fixtures/sim-model.ts";
import { waitFor } from "../fixtures/wait.ts";

/** A process that dies when signalled (unless it ignores SIGTERM) or when told to exit. */
class FakeProcess implements SpawnedProcess {
  static nextPid = 90_000;
  readonly pid = FakeProcess.nextPid++;
  exitInfo: ExitInfo | null = null;
  readonly signals: GroupSignal[] = [];
  readonly outputDone = Promise.resolve();
  /** It writes nothing, so there is nothing to hand over. */
  flushOutput(): void {}
  readonly exited: Promise<ExitInfo>;
  private resolveExit!: (i: ExitInfo) => void;
  constructor(readonly ignoreTerm = false) {
    this.exited = new Promise((r) => (this.resolveExit = r));
  }
  exit(info: ExitInfo): void {
    if (this.exitInfo) return;
    this.exitInfo = info;
    this.resolveExit(info);
  }
  killGroup(signal: GroupSignal): void {
    this.signals.push(signal);
    if (signal === "SIGTERM" && this.ignoreTerm) return;
    this.exit({ code: null, signal });
  }
  groupAlive(): boolean {
    return this.exitInfo === null;
  }
}

function fakeSetup(
  opts: {
    portInUse?: (h: string, p: number) => Promise<boolean>;
    ignoreTerm?: boolean;
    model?: Partial<ModelConfig>;
    fetch?: typeof fetch;
  } = {},
) {
  const procs: FakeProcess[] = [];
  const spawn: Spawner = () => {
    const p = new FakeProcess(opts.ignoreTerm);
    procs.push(p);
    return p;
  };
  const events: SupervisorEvent[] = [];
  const logs = createLogHub({ level: "info", logToStdout: "none" });
  const sup = createSupervisor({
    model: simModel([], { checkEndpoint: "none", ...opts.model }),
    logs,
    spawn,
    portInUse: opts.portInUse ?? (async () => false),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  sup.subscribe((e) => events.push(e));
  return { sup, procs, events, logs };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("supervisor state machine", () => {
  test("stop during the port check: the start is aborted and nothing is ever spawned", async () => {
    let release!: (v: boolean) => void;
    const { sup, procs } = fakeSetup({ portInUse: () => new Promise((r) => (release = r)) });
    const start = sup.start();
    expect(sup.state).toBe("starting");
    await sup.stop(1000);
    expect(sup.state).toBe("stopped");
    release(false);
    await expect(start).rejects.toMatchObject({ kind: "aborted" });
    expect(procs.length).toBe(0);
    expect(sup.state).toBe("stopped");
  });

  test("a start issued after an aborted start owns the state; the stale one does not touch it", async () => {
    const releases: ((v: boolean) => void)[] = [];
    const { sup, procs } = fakeSetup({ portInUse: () => new Promise((r) => releases.push(r)) });
    const first = sup.start();
    await sup.stop(1000);
    const second = sup.start();
    releases[0]!(false); // the stale start resumes: must not spawn
    await expect(first).rejects.toBeInstanceOf(StartError);
    releases[1]!(false);
    await second;
    expect(procs.length).toBe(1);
    expect(sup.state).toBe("ready");
  });

  test("shutdown during a start rejects it with kind shutdown", async () => {
    let release!: (v: boolean) => void;
    const { sup } = fakeSetup({ portInUse: () => new Promise((r) => (release = r)) });
    const start = sup.start();
    await sup.shutdown(1000);
    release(false);
    await expect(start).rejects.toMatchObject({ kind: "shutdown" });
    expect(sup.state).toBe("shutdown");
  });

  test("a listener that restarts the model on 'stopped' never re-enters a transition", async () => {
    const { sup, procs, events } = fakeSetup();
    sup.subscribe((e) => {
      if (e.type === "state" && e.to === "stopped" && procs.length === 1) void sup.start();
    });
    await sup.start();
    await sup.stop(1000);
    await waitFor(() => sup.state === "ready", 1000, "restart");
    expect(procs.length).toBe(2);
    const seq = events.filter((e) => e.type === "state").map((e) => `${(e as { from: string }).from}>${(e as { to: string }).to}`);
    expect(seq).toEqual(["stopped>starting", "starting>ready", "ready>stopping", "stopping>stopped", "stopped>starting", "starting>ready"]);
  });

  test("SIGTERM, then SIGKILL after the timeout, for a process that ignores SIGTERM", async () => {
    const { sup, procs } = fakeSetup({ ignoreTerm: true });
    await sup.start();
    await sup.stop(50);
    expect(procs[0]!.signals).toEqual(["SIGTERM", "SIGKILL"]);
  });

  test("stop with a zero timeout still asks politely first", async () => {
    const { sup, procs } = fakeSetup();
    await sup.start();
    await sup.stop(0);
    expect(procs[0]!.signals).toEqual(["SIGTERM"]);
  });

  test("a spawner that throws is a spawn failure and leaves the model stopped", async () => {
    const sup = createSupervisor({
      model: simModel([], { checkEndpoint: "none" }),
      logs: createLogHub({ level: "info", logToStdout: "none" }),
      spawn: () => {
        throw new SpawnError("no such file", "ENOENT");
      },
      portInUse: async () => false,
    });
    await expect(sup.start()).rejects.toMatchObject({ kind: "spawn" });
    expect(sup.state).toBe("stopped");
  });

  test("a crash while ready emits crash then ends stopped; unsubscribed listeners hear nothing", async () => {
    const { sup, procs, events } = fakeSetup();
    let heard = 0;
    const off = sup.subscribe(() => heard++);
    await sup.start();
    await waitFor(() => heard === 3, 1000, "events"); // starting, ready (state), ready (event)
    off();
    procs[0]!.exit({ code: 139, signal: null });
    await waitFor(() => sup.state === "stopped", 1000, "stopped");
    await waitFor(() => events.some((e) => e.type === "crash"), 1000, "crash");
    const crash = events.find((e) => e.type === "crash") as Extract<SupervisorEvent, { type: "crash" }>;
    expect(crash.exitCode).toBe(139);
    // the crash is heard after the model is already stopped
    const stoppedAt = events.findIndex((e) => e.type === "state" && e.to === "stopped");
    expect(stoppedAt).toBeGreaterThanOrEqual(0);
    expect(events.indexOf(crash)).toBeGreaterThan(stoppedAt);
    expect(heard).toBe(3);
  });
});

describe("supervisor lifecycle table", () => {
  test("every state change follows TRANSITIONS, and every non-defensive row is reachable", async () => {
    const seen = new Set<string>();
    const illegal: string[] = [];
    const record = (events: SupervisorEvent[], logs: { proxy: { history(): string } }) => {
      for (const e of events) if (e.type === "state") seen.add(`${e.from}>${e.to}`);
      if (logs.proxy.history().includes("illegal state change")) illegal.push(logs.proxy.history());
    };

    // start, stop (ready → stopping → stopped), shutdown
    const a = fakeSetup();
    await a.sup.start();
    await a.sup.stop(100);
    await a.sup.shutdown(100);
    // crash: ready → stopping → stopped
    const b = fakeSetup();
    await b.sup.start();
    b.procs[0]!.exit({ code: 139, signal: null });
    await waitFor(() => b.events.some((e) => e.type === "crash"), 1000, "crash");
    // port in use: starting → stopped
    const c = fakeSetup({ portInUse: async () => true });
    await expect(c.sup.start()).rejects.toMatchObject({ kind: "port_in_use" });
    // the child exits before it is ready: starting → stopping → stopped
    const d = fakeSetup({ model: { checkEndpoint: "/health" }, fetch: (async () => new Response("", { status: 503 })) as unknown as typeof fetch });
    const dStart = d.sup.start();
    await waitFor(() => d.procs.length === 1, 1000, "spawn");
    d.procs[0]!.exit({ code: 1, signal: null });
    await expect(dStart).rejects.toMatchObject({ kind: "exited" });

    await pause(10); // let the last events arrive
    for (const s of [a, b, c, d]) record(s.events, s.logs);
    expect(illegal).toEqual([]);
    for (const pair of seen) {
      const [from, to] = pair.split(">") as [ProcessState, ProcessState];
      expect(isLegalTransition(from, to)).toBe(true);
    }
    const rows = Object.entries(TRANSITIONS).flatMap(([from, tos]) => Object.keys(tos).map((to) => `${from}>${to}`));
    expect([...seen].sort()).toEqual(rows.filter((r) => r !== "ready>stopped").sort());
    expect(TRANSITIONS.shutdown).toEqual({});
  });
});

describe("supervisor setBusy", () => {
  test("idempotent: a repeated value neither restarts nor cancels the idle period", async () => {
    const { sup, events } = fakeSetup({ model: { ttl: 0.1 } });
    const idles = () => events.filter((e) => e.type === "idle").length;
    sup.setBusy(true); // busy before ready: no idle period starts at ready
    await sup.start();
    await pause(250);
    expect(idles()).toBe(0);
    sup.setBusy(true);
    await pause(250);
    expect(idles()).toBe(0);
    sup.setBusy(false);
    await waitFor(() => idles() === 1, 2000, "idle event");
    sup.setBusy(false); // not busy already: no new idle period
    await pause(250);
    expect(idles()).toBe(1);
    sup.setBusy(true);
    sup.setBusy(false);
    await waitFor(() => idles() === 2, 2000, "second idle event");
    await sup.shutdown(100);
  });

  test("leaving ready cancels the idle period; a new ready starts one", async () => {
    const { sup, events } = fakeSetup({ model: { ttl: 0.1 } });
    const idles = () => events.filter((e) => e.type === "idle").length;
    await sup.start();
    await sup.stop(100);
    await pause(250);
    expect(idles()).toBe(0);
    await sup.start();
    await waitFor(() => idles() === 1, 2000, "idle event");
    await sup.shutdown(100);
  });
});
