/**
 * The start step, up to readiness: refuse a local port that something already listens on, spawn
 * the command, then wait for the health check, the child's exit or the deadline, whichever comes
 * first. It never changes the supervisor's state: it throws StartError and the supervisor decides.
 */
import { settlesWithin } from "./abortable-sleep.ts";
import { localPortOf } from "./port-probe.ts";
import { waitForReady } from "./readiness.ts";
import { describeExit, type SpawnedProcess } from "./spawn-group.ts";
import { cmdStopArgv } from "./terminate-group.ts";
import type { ResolvedOptions } from "./supervisor-options.ts";
import { StartError } from "./types.ts";

/** How long to wait for the last output after the leader exited (a grandchild may hold the pipe). */
const OUTPUT_SETTLE_MS = 200;

/** What the supervisor lends the start step. */
export interface LaunchHooks {
  /** Receives the child's stdout and stderr text. */
  onOutput(text: string): void;
  /** The child was spawned; called synchronously, before any of its output or its exit is seen. */
  onSpawned(p: SpawnedProcess): void;
  /** The last lines of the child's output, for error messages. */
  lastLines(): string[];
}

/** The error a start aborted by stop() or shutdown() rejects with (the abort's reason, if a StartError). */
export function startAborted(id: string, signal: AbortSignal): StartError {
  return signal.reason instanceof StartError ? signal.reason : new StartError("aborted", `[${id}] start aborted`);
}

/** Wait a little for the output of an exited leader to end, so its last lines are in the tail. */
export async function settleOutput(p: SpawnedProcess): Promise<void> {
  await settlesWithin(p.outputDone, OUTPUT_SETTLE_MS);
}

/** Port check, spawn and readiness; resolves with the spawn time (epoch ms) once ready, else throws StartError. */
export async function launchProcess(o: ResolvedOptions, signal: AbortSignal, hooks: LaunchHooks): Promise<number> {
  await refuseTakenPort(o, signal);
  if (signal.aborted) throw startAborted(o.id, signal);
  const p = spawnModel(o, hooks);
  const spawnedAt = o.now();
  o.log.info(`[${o.id}] started pid ${p.pid}: ${o.model.cmd.join(" ")}`);
  hooks.onSpawned(p);
  if (o.checkUrl) await awaitReadiness(o, p, o.checkUrl, spawnedAt, signal, hooks);
  // What it printed while it started is in its log by the time it is announced ready.
  p.flushOutput();
  return spawnedAt;
}

/** A stray server on our port must never be taken for the model we start. */
async function refuseTakenPort(o: ResolvedOptions, signal: AbortSignal): Promise<void> {
  const local = localPortOf(o.baseUrl);
  if (local && (await o.portInUse(local.host, local.port))) {
    if (signal.aborted) throw startAborted(o.id, signal);
    throw new StartError(
      "port_in_use",
      `[${o.id}] port ${local.port} on ${local.host} already accepts connections before ${o.id} was started ` +
        `(a stray server from an earlier run, or another program?); refusing to start`,
    );
  }
}

/** Spawn the model's command with its environment; a spawner failure becomes StartError "spawn". */
function spawnModel(o: ResolvedOptions, hooks: LaunchHooks): SpawnedProcess {
  try {
    const orphanStop = o.model.cmdStop.length > 0 ? (pid: number) => cmdStopArgv(o.model.cmdStop, pid) : undefined;
    return o.spawn(o.model.cmd, { env: o.env, cwd: o.cwd, onOutput: hooks.onOutput, orphanStop });
  } catch (err) {
    throw new StartError("spawn", `[${o.id}] could not start ${JSON.stringify(o.model.cmd[0] ?? "")}: ${(err as Error).message}`);
  }
}

/** The readiness step: the probe loop raced against the child's exit; throws unless it answered 200. */
async function awaitReadiness(
  o: ResolvedOptions,
  p: SpawnedProcess,
  url: string,
  spawnedAt: number,
  signal: AbortSignal,
  hooks: LaunchHooks,
): Promise<void> {
  const outcome = await probeUntilReadyOrExit(o, p, url, spawnedAt, signal);
  if (signal.aborted) throw startAborted(o.id, signal);
  if (outcome === "exited") {
    await settleOutput(p);
    const info = p.exitInfo!;
    throw new StartError("exited", `[${o.id}] ${describeExit(info)} before it became ready`, info.code, info.signal, hooks.lastLines());
  }
  if (outcome === "timeout") {
    p.flushOutput();
    throw new StartError(
      "timeout",
      `[${o.id}] health check timed out after ${o.model.healthCheckTimeout}s (${url})`,
      null,
      null,
      hooks.lastLines(),
    );
  }
}

/** Poll the health check until ready or the deadline, unless the leader exits first. */
async function probeUntilReadyOrExit(
  o: ResolvedOptions,
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
        ...o.probe,
        url,
        fetch: o.fetch,
        signal: probeAbort.signal,
        deadline: spawnedAt + o.model.healthCheckTimeout * 1000,
        now: o.now,
      }),
      p.exited.then(() => "exited" as const),
    ]);
  } finally {
    signal.removeEventListener("abort", relay);
    probeAbort.abort();
  }
}
