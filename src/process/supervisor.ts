/**
 * One model's process owner. It holds the model's state and changes it in one place,
 * `transition`, against the table in transitions.ts; the lifecycle's steps are named below and
 * their mechanics live in their own modules: start (launch-process.ts: port check, spawn,
 * readiness), stop (terminate-group.ts: cmdStop or SIGTERM, then SIGKILL), crash handling, and
 * the TTL (idle-timer.ts).
 *
 * Every state change happens here, synchronously, between awaits, and each step re-checks the
 * state it acts on, so no decision rests on a stale snapshot. Events go to subscribers in order,
 * one microtask later (event-bus.ts), so a listener that calls back into the supervisor never
 * re-enters a transition halfway.
 */
import { createEventBus } from "./event-bus.ts";
import { createIdleTimer } from "./idle-timer.ts";
import { launchProcess, settleOutput, startAborted } from "./launch-process.ts";
import { createLineTail, type LineTail } from "./line-tail.ts";
import { describeExit, type ExitInfo, type SpawnedProcess } from "./spawn-group.ts";
import { resolveOptions, type ResolvedOptions, type SupervisorOptions } from "./supervisor-options.ts";
import { terminateGroup } from "./terminate-group.ts";
import { isLegalTransition } from "./transitions.ts";
import { StartError, type ProcessState, type StartPlacement, type Supervisor, type SupervisorEvent } from "./types.ts";

/** Dependencies and tuning of one supervisor (defined in supervisor-options.ts). */
export type { SupervisorOptions } from "./supervisor-options.ts";

const LOAD_HISTORY = 10;
/**
 * How long cmdStop gets after a failed start before SIGKILL (llama-swap's 5 s). Without cmdStop a
 * failed start is SIGKILLed at once; with it, cmdStop may be what ends a server outside the group
 * (`docker stop` for a `docker run` cmd), so it runs first.
 */
const FAILED_START_STOP_MS = 5_000;

/** Create the supervisor of one model; it starts in `stopped`. */
export function createSupervisor(opts: SupervisorOptions): Supervisor {
  const o = resolveOptions(opts);
  const { id, model: m, log, now } = o;

  let state: ProcessState = "stopped";
  let proc: SpawnedProcess | null = null;
  let tail: LineTail = createLineTail();
  let starting: { promise: Promise<void>; abort: AbortController } | null = null;
  let stopping: Promise<void> | null = null;
  let shuttingDown = false;
  let placement: StartPlacement | null = null;
  // Seeded by a config reload that replaced this model's supervisor but kept its command.
  const loadHistoryMs: number[] = [...(opts.loadHistoryMs ?? [])].slice(-LOAD_HISTORY);
  let ttl = m.ttl;
  const events = createEventBus<SupervisorEvent>((err) => log.error(`[${id}] event listener failed: ${(err as Error).message}`));
  const emit = events.emit;
  const idle = createIdleTimer({
    ttlSeconds: m.ttl,
    isReady: () => state === "ready",
    onIdle() {
      log.info(`[${id}] idle for ${ttl}s (ttl): asking for an unload`);
      emit({ type: "idle", model: id, at: now() });
    },
  });

  // ---- the one place the state changes

  /** Change the state (a no-op if it already is `to`), checked against TRANSITIONS; publish it. */
  function transition(to: ProcessState): void {
    if (state === to) return;
    const from = state;
    // An illegal change is a bug here; it is logged, not thrown, so it can never wedge a model.
    if (!isLegalTransition(from, to)) log.error(`[${id}] illegal state change ${from} -> ${to} (a supervisor bug)`);
    state = to;
    if (to !== "ready") idle.cancel();
    log.debug(`[${id}] ${from} -> ${to}`);
    emit({ type: "state", model: id, from, to, at: now() });
  }

  // ---- start: stopped → starting → ready (or → stopping/stopped on failure)

  async function runStart(signal: AbortSignal, where: StartPlacement | undefined): Promise<void> {
    transition("starting");
    placement = where ?? null;
    let spawned: SpawnedProcess | null = null;
    try {
      const spawnedAt = await launchProcess(placed(o, where), signal, {
        onOutput,
        onSpawned(p) {
          tail = createLineTail();
          spawned = p;
          proc = p;
          void p.exited.then((info) => handleCrash(p, info));
        },
        lastLines: () => tail.lines(),
      });
      if (signal.aborted) throw startAborted(id, signal);
      becomeReady(now() - spawnedAt);
    } catch (err) {
      await failStart(err, signal, spawned);
    }
  }

  function onOutput(text: string): void {
    o.output.write(text);
    tail.push(text);
  }

  /** The readiness probe passed: record the load time, publish it, start the TTL's idle period. */
  function becomeReady(loadMs: number): void {
    loadHistoryMs.push(loadMs);
    if (loadHistoryMs.length > LOAD_HISTORY) loadHistoryMs.shift();
    transition("ready");
    emit({ type: "ready", model: id, loadMs, at: now() });
    log.info(`[${id}] ready after ${loadMs} ms`);
    idle.restart();
  }

  /** A start failed: tear down what it spawned (or go back to stopped) and reject with StartError. */
  async function failStart(err: unknown, signal: AbortSignal, spawned: SpawnedProcess | null): Promise<never> {
    // An abort means stop() or shutdown() took over the state; only report it.
    if (signal.aborted) throw startAborted(id, signal);
    const e = err instanceof StartError ? err : new StartError("spawn", `[${id}] ${(err as Error).message}`);
    log.error(e.lastLines.length ? `${e.message}; last output:\n  ${e.lastLines.join("\n  ")}` : e.message);
    if (spawned && proc === spawned) {
      if (m.cmdStop.length > 0) await stopInternal(FAILED_START_STOP_MS, false);
      else await stopInternal(0, true);
    } else if (state === "starting") transition("stopped");
    throw e;
  }

  // ---- crash: ready → stopping → stopped, then a crash event

  function handleCrash(p: SpawnedProcess, info: ExitInfo): void {
    if (p !== proc || state !== "ready" || stopping) return;
    log.warn(`[${id}] upstream process ${describeExit(info)} unexpectedly`);
    // The crash event follows the `stopped` state event, so a listener that looks at the state
    // when it hears of the crash sees the model already stopped (and restartable).
    void stopInternal(0, true, () => settleOutput(p)).then(() =>
      emit({ type: "crash", model: id, exitCode: info.code, signal: info.signal, lastLines: tail.lines(), at: now() }),
    );
  }

  // ---- stop: (starting | ready) → stopping → stopped

  /** Tear the current process down (joining a teardown under way) and end in `stopped`. */
  function stopInternal(timeoutMs: number, force: boolean, beforeStopped?: () => Promise<void>): Promise<void> {
    if (stopping) return stopping;
    const p = proc;
    if (!p) {
      if (state === "starting" || state === "ready") transition("stopped");
      return Promise.resolve();
    }
    transition("stopping");
    const run = (async () => {
      try {
        // cmdStop runs with the env its process started with (the placement's GPUs and visible devices).
        await terminateGroup(placed(o, placement ?? undefined), p, timeoutMs, force);
        if (beforeStopped) await beforeStopped();
      } finally {
        if (proc === p) proc = null;
        if (state === "stopping") transition("stopped");
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

  // ---- the contract

  function start(where?: StartPlacement): Promise<void> {
    if (shuttingDown || state === "shutdown") {
      return Promise.reject(new StartError("shutdown", `[${id}] is shut down`));
    }
    if (state === "ready" && !stopping) return Promise.resolve();
    if (starting) return starting.promise;
    if (stopping) return stopping.then(() => start(where), () => start(where));
    const abort = new AbortController();
    const promise = runStart(abort.signal, where);
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

  // ---- shutdown: → stopped → shutdown (terminal)

  async function shutdown(timeoutMs: number): Promise<void> {
    shuttingDown = true;
    abortStart(new StartError("shutdown", `[${id}] start aborted by shutdown`));
    await stopInternal(timeoutMs, false);
    idle.cancel();
    transition("shutdown");
  }

  return {
    model: id,
    config: m,
    baseUrl: o.baseUrl,
    get state() {
      return state;
    },
    get pid() {
      return proc && proc.exitInfo === null ? proc.pid : null;
    },
    get loadHistoryMs() {
      return loadHistoryMs;
    },
    get placement() {
      return placement;
    },
    start,
    stop,
    shutdown,
    setBusy: idle.setBusy,
    setTtl(seconds) {
      ttl = seconds;
      idle.setTtl(seconds);
    },
    subscribe: events.subscribe,
  };
}

const VISIBLE_DEVICES = ["CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES"] as const;

/**
 * The options with a placement applied: `${GPU}` in the command and the model's env becomes the
 * GPU indices ("0", "0,1"; "" on the CPU), and each *_VISIBLE_DEVICES the model's env does not set
 * is set to them; "" for a model placed on the CPU alone, so it grabs no GPU memory.
 */
export function placed(o: ResolvedOptions, where: StartPlacement | undefined): ResolvedOptions {
  if (!where) return o;
  const gpu = where.gpus.join(",");
  const env: Record<string, string | undefined> = { ...o.env };
  for (const [k, v] of Object.entries(o.model.env)) env[k] = v.replaceAll("${GPU}", gpu);
  // On the CPU: hide the GPUs only when there are GPUs the plan knew of. With none detected (no
  // nvidia-smi on PATH, a container without the tool), the host's GPUs are left to the model.
  if (where.gpus.length > 0 || where.gpusKnown) for (const k of VISIBLE_DEVICES) if (!Object.hasOwn(o.model.env, k)) env[k] = gpu;
  return { ...o, env, model: { ...o.model, cmd: o.model.cmd.map((a) => a.replaceAll("${GPU}", gpu)) } };
}
