/**
 * One model's process owner: start (spawn + readiness), stop (graceful, then SIGKILL of the
 * group), crash detection, and the TTL idle signal.
 *
 * Every state change happens here, synchronously, between awaits, and each step re-checks the
 * state it acts on, so no decision rests on a stale snapshot. Events go to subscribers in order,
 * one microtask later, so a listener that calls back into the supervisor never re-enters a
 * transition halfway.
 */
import type { ModelConfig } from "../config/types.ts";
import type { LogHub } from "../log/types.ts";
import { settlesWithin, sleep } from "./abortable-sleep.ts";
import { createLineTail, type LineTail } from "./line-tail.ts";
import { waitForReady, type ProbeTuning } from "./readiness.ts";
import { spawnGroup } from "./spawn.ts";
import { isLocalHost, isPortInUse } from "./spawn-port.ts";
import type { ExitInfo, SpawnedProcess, Spawner } from "./spawner.ts";
import { StartError, type ProcessState, type Supervisor, type SupervisorEvent } from "./types.ts";

/** Dependencies and tuning of one supervisor. */
export interface SupervisorOptions {
  model: ModelConfig;
  logs: LogHub;
  /** Starts a process group (default: spawnGroup, behind the orphan guard). */
  spawn?: Spawner;
  /** Used for readiness probes. */
  fetch?: typeof fetch;
  /** Clock for events and load times (epoch ms). */
  now?: () => number;
  /** "Does host:port already accept connections?" (default: a TCP connect). */
  portInUse?: (host: string, port: number) => Promise<boolean>;
  /** Environment the model's `env` is laid over (default: this process's). */
  env?: Record<string, string | undefined>;
  /** Working directory of the commands (default: this process's). */
  cwd?: string;
  /** Readiness probe tuning. */
  probe?: Partial<ProbeTuning>;
}

const LOAD_HISTORY = 10;
/** How long to wait for the last output after the leader exited (a grandchild may hold the pipe). */
const OUTPUT_SETTLE_MS = 200;
/** How long a SIGKILLed leader may take to be reaped before we report it and move on. */
const KILL_WAIT_MS = 10_000;
/** After the leader exited, how long the rest of the group gets before a direct SIGKILL. */
const GROUP_GRACE_MS = 1_000;
/** How long to wait for a SIGKILLed group before giving up with an error. */
const GROUP_GIVE_UP_MS = 5_000;

function describeExit(info: ExitInfo): string {
  return info.signal ? `was killed by ${info.signal}` : `exited with code ${info.code}`;
}

/** Create the supervisor of one model; it starts in `stopped`. */
export function createSupervisor(opts: SupervisorOptions): Supervisor {
  const m = opts.model;
  const id = m.id;
  const spawn = opts.spawn ?? spawnGroup;
  const fetchFn = opts.fetch ?? fetch;
  const now = opts.now ?? Date.now;
  const portInUse = opts.portInUse ?? isPortInUse;
  const env: Record<string, string | undefined> = { ...(opts.env ?? process.env), ...m.env };
  const cwd = opts.cwd;
  const log = opts.logs.log;
  const output = opts.logs.model(id);
  const baseUrl = m.proxy.replace(/\/+$/, "");
  const checkUrl = m.checkEndpoint === "none" ? null : baseUrl + (m.checkEndpoint.startsWith("/") ? "" : "/") + m.checkEndpoint;

  let state: ProcessState = "stopped";
  let proc: SpawnedProcess | null = null;
  let tail: LineTail = createLineTail();
  let starting: { promise: Promise<void>; abort: AbortController } | null = null;
  let stopping: Promise<void> | null = null;
  let shuttingDown = false;
  let inFlight = 0;
  let idleTimer: ReturnType<typeof setTimeout> | null = null;
  const listeners = new Set<(ev: SupervisorEvent) => void>();
  const loadHistoryMs: number[] = [];

  // ---- events and state

  function emit(ev: SupervisorEvent): void {
    if (listeners.size === 0) return;
    const targets = [...listeners];
    queueMicrotask(() => {
      for (const l of targets) {
        if (!listeners.has(l)) continue;
        try {
          l(ev);
        } catch (err) {
          log.error(`[${id}] event listener failed: ${(err as Error).message}`);
        }
      }
    });
  }

  function setState(to: ProcessState): void {
    if (state === to) return;
    const from = state;
    state = to;
    if (to !== "ready") clearIdle();
    log.debug(`[${id}] ${from} -> ${to}`);
    emit({ type: "state", model: id, from, to, at: now() });
  }

  // ---- TTL

  function clearIdle(): void {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
  }

  /** A new idle period starts (ready, or the last request ended): arm the TTL timer once. */
  function newIdlePeriod(): void {
    clearIdle();
    if (m.ttl <= 0 || state !== "ready" || inFlight > 0) return;
    idleTimer = setTimeout(() => {
      idleTimer = null;
      if (state !== "ready" || inFlight > 0) return;
      log.info(`[${id}] idle for ${m.ttl}s (ttl): asking for an unload`);
      emit({ type: "idle", model: id, at: now() });
    }, m.ttl * 1000);
  }

  // ---- start

  function aborted(signal: AbortSignal): StartError {
    return signal.reason instanceof StartError ? signal.reason : new StartError("aborted", `[${id}] start aborted`);
  }

  function localPort(): { host: string; port: number } | null {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      return null;
    }
    if (!isLocalHost(url.hostname)) return null;
    const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
    return { host: url.hostname, port };
  }

  function onOutput(text: string): void {
    output.write(text);
    tail.push(text);
  }

  async function runStart(signal: AbortSignal): Promise<void> {
    setState("starting");
    let p: SpawnedProcess | null = null;
    try {
      const local = localPort();
      if (local && (await portInUse(local.host, local.port))) {
        if (signal.aborted) throw aborted(signal);
        throw new StartError(
          "port_in_use",
          `[${id}] port ${local.port} on ${local.host} already accepts connections before ${id} was started ` +
            `(a stray server from an earlier run, or another program?); refusing to start`,
        );
      }
      if (signal.aborted) throw aborted(signal);
      tail = createLineTail();
      try {
        p = spawn(m.cmd, { env, cwd, onOutput });
      } catch (err) {
        throw new StartError("spawn", `[${id}] could not start ${JSON.stringify(m.cmd[0] ?? "")}: ${(err as Error).message}`);
      }
      proc = p;
      const spawned = p;
      const spawnedAt = now();
      log.info(`[${id}] started pid ${p.pid}: ${m.cmd.join(" ")}`);
      void p.exited.then((info) => onLeaderExit(spawned, info));

      if (checkUrl) {
        const outcome = await waitUntilReady(p, checkUrl, spawnedAt, signal);
        if (signal.aborted) throw aborted(signal);
        if (outcome === "exited") {
          await settlesWithin(p.outputDone, OUTPUT_SETTLE_MS);
          const info = p.exitInfo!;
          throw new StartError("exited", `[${id}] ${describeExit(info)} before it became ready`, info.code, info.signal, tail.lines());
        }
        if (outcome === "timeout") {
          throw new StartError("timeout", `[${id}] health check timed out after ${m.healthCheckTimeout}s (${checkUrl})`, null, null, tail.lines());
        }
      }
      if (signal.aborted) throw aborted(signal);
      const loadMs = now() - spawnedAt;
      loadHistoryMs.push(loadMs);
      if (loadHistoryMs.length > LOAD_HISTORY) loadHistoryMs.shift();
      setState("ready");
      emit({ type: "ready", model: id, loadMs, at: now() });
      log.info(`[${id}] ready after ${loadMs} ms`);
      newIdlePeriod();
    } catch (err) {
      // An abort means stop() or shutdown() took over the state; only report it.
      if (signal.aborted) throw aborted(signal);
      const e = err instanceof StartError ? err : new StartError("spawn", `[${id}] ${(err as Error).message}`);
      log.error(e.lastLines.length ? `${e.message}; last output:\n  ${e.lastLines.join("\n  ")}` : e.message);
      if (p && proc === p) await stopInternal(0, true);
      else if (state === "starting") setState("stopped");
      throw e;
    }
  }

  async function waitUntilReady(
    p: SpawnedProcess,
    url: string,
    spawnedAt: number,
    signal: AbortSignal,
  ): Promise<"ready" | "timeout" | "exited"> {
    const probeAbort = new AbortController();
    const relay = () => probeAbort.abort(signal.reason);
    signal.addEventListener("abort", relay, { once: true });
    try {
      return await Promise.race([
        waitForReady({
          ...opts.probe,
          url,
          fetch: fetchFn,
          signal: probeAbort.signal,
          deadline: spawnedAt + m.healthCheckTimeout * 1000,
          now,
        }),
        p.exited.then(() => "exited" as const),
      ]);
    } finally {
      signal.removeEventListener("abort", relay);
      probeAbort.abort();
    }
  }

  // ---- exit, stop

  function onLeaderExit(p: SpawnedProcess, info: ExitInfo): void {
    if (p !== proc || state !== "ready" || stopping) return;
    log.warn(`[${id}] upstream process ${describeExit(info)} unexpectedly`);
    // The crash event follows the `stopped` state event, so a listener that looks at the state
    // when it hears of the crash sees the model already stopped (and restartable).
    const settle = async () => void (await settlesWithin(p.outputDone, OUTPUT_SETTLE_MS));
    void stopInternal(0, true, settle).then(() =>
      emit({ type: "crash", model: id, exitCode: info.code, signal: info.signal, lastLines: tail.lines(), at: now() }),
    );
  }

  /** Tear the current process down (joining a teardown under way) and end in `stopped`. */
  function stopInternal(timeoutMs: number, force: boolean, beforeStopped?: () => Promise<void>): Promise<void> {
    if (stopping) return stopping;
    const p = proc;
    if (!p) {
      if (state === "starting" || state === "ready") setState("stopped");
      return Promise.resolve();
    }
    setState("stopping");
    const run = (async () => {
      try {
        await terminate(p, timeoutMs, force);
        if (beforeStopped) await beforeStopped();
      } finally {
        if (proc === p) proc = null;
        if (state === "stopping") setState("stopped");
      }
    })();
    // Callers get the promise that has also cleared `stopping`, so when they resume, a new
    // start() or stop() sees the settled state.
    const promise: Promise<void> = run.finally(() => {
      if (stopping === promise) stopping = null;
    });
    stopping = promise;
    return promise;
  }

  async function terminate(p: SpawnedProcess, timeoutMs: number, force: boolean): Promise<void> {
    const deadline = now() + timeoutMs;
    let stopper: SpawnedProcess | null = null;
    if (p.exitInfo === null) {
      if (force) p.killGroup("SIGKILL");
      else if (m.cmdStop.length > 0) stopper = runCmdStop(p);
      else p.killGroup("SIGTERM");
      if (!force && !(await settlesWithin(p.exited, timeoutMs))) {
        log.warn(`[${id}] still running ${timeoutMs} ms after the stop request: sending SIGKILL to its process group`);
        p.killGroup("SIGKILL");
      }
      if (!(await settlesWithin(p.exited, KILL_WAIT_MS))) {
        log.error(`[${id}] pid ${p.pid} survived SIGKILL for ${KILL_WAIT_MS} ms (uninterruptible?); giving up on it`);
        return;
      }
    }
    await waitGroupGone(p);
    if (stopper) {
      if (!(await settlesWithin(stopper.exited, Math.max(0, deadline - now())))) {
        log.warn(`[${id}] cmdStop still running after the stop deadline: killing it`);
        stopper.killGroup("SIGKILL");
      }
      await waitGroupGone(stopper);
    }
  }

  /** Wait until no live process is left in the group (the guard kills stragglers when the leader exits). */
  async function waitGroupGone(p: SpawnedProcess): Promise<void> {
    const start = now();
    let delay = 2;
    let killed = false;
    while (p.groupAlive()) {
      const waited = now() - start;
      if (!killed && waited >= GROUP_GRACE_MS) {
        p.killGroup("SIGKILL");
        killed = true;
      }
      if (waited >= GROUP_GRACE_MS + GROUP_GIVE_UP_MS) {
        log.error(`[${id}] process group ${p.pid} still has live members after SIGKILL; giving up on it`);
        return;
      }
      await sleep(delay);
      delay = Math.min(50, delay * 2);
    }
  }

  function runCmdStop(p: SpawnedProcess): SpawnedProcess | null {
    const argv = m.cmdStop.map((a) => a.replaceAll("${PID}", String(p.pid)));
    log.info(`[${id}] stopping with cmdStop: ${argv.join(" ")}`);
    try {
      const stopper = spawn(argv, { env, cwd, onOutput: (t) => output.write(t) });
      void stopper.exited.then((info) => {
        if (info.code !== 0) log.warn(`[${id}] cmdStop ${describeExit(info)}`);
      });
      return stopper;
    } catch (err) {
      log.warn(`[${id}] cmdStop could not run (${(err as Error).message}): sending SIGTERM to the group instead`);
      p.killGroup("SIGTERM");
      return null;
    }
  }

  // ---- the contract

  function start(): Promise<void> {
    if (shuttingDown || state === "shutdown") {
      return Promise.reject(new StartError("shutdown", `[${id}] is shut down`));
    }
    if (state === "ready" && !stopping) return Promise.resolve();
    if (starting) return starting.promise;
    if (stopping) return stopping.then(start, start);
    const abort = new AbortController();
    const promise = runStart(abort.signal);
    const entry = { promise, abort };
    starting = entry;
    const clear = () => {
      if (starting === entry) starting = null;
    };
    promise.then(clear, clear);
    return promise;
  }

  /** Abort a start under way; a later start() must begin afresh, not join the aborted one. */
  function abortStart(reason: StartError): void {
    if (!starting || state !== "starting") return;
    starting.abort.abort(reason);
    starting = null;
  }

  function stop(timeoutMs: number): Promise<void> {
    if (stopping) return stopping;
    abortStart(new StartError("aborted", `[${id}] start aborted by a stop`));
    return stopInternal(timeoutMs, false);
  }

  async function shutdown(timeoutMs: number): Promise<void> {
    shuttingDown = true;
    abortStart(new StartError("shutdown", `[${id}] start aborted by shutdown`));
    await stopInternal(timeoutMs, false);
    clearIdle();
    setState("shutdown");
  }

  return {
    model: id,
    baseUrl,
    get state() {
      return state;
    },
    get pid() {
      return proc && proc.exitInfo === null ? proc.pid : null;
    },
    get loadHistoryMs() {
      return loadHistoryMs;
    },
    start,
    stop,
    shutdown,
    requestStarted() {
      inFlight++;
      clearIdle();
    },
    requestEnded() {
      if (inFlight > 0) inFlight--;
      if (inFlight === 0) newIdlePeriod();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
