/**
 * The stop step's mechanics: ask a process group to end (cmdStop, else SIGTERM), SIGKILL it when
 * the stop timeout passes, and wait until no live member is left. It never changes the
 * supervisor's state; the supervisor is `stopping` while this runs.
 */
import { settlesWithin, sleep } from "./abortable-sleep.ts";
import { ORPHAN_STOP_LIMIT_S } from "./orphan-guard.ts";
import { describeExit, type SpawnedProcess } from "./spawn-group.ts";
import type { ResolvedOptions } from "./supervisor-options.ts";

/** How long a SIGKILLed leader may take to be reaped before we report it and move on. */
const KILL_WAIT_MS = 10_000;
/** After the leader exited, how long the rest of the group gets before a direct SIGKILL. */
const GROUP_GRACE_MS = 1_000;
/** How long to wait for a SIGKILLed group before giving up with an error. */
const GROUP_GIVE_UP_MS = 5_000;

/**
 * End `p`'s group: SIGKILL at once with `force`, else cmdStop or SIGTERM, then SIGKILL after
 * `timeoutMs`. Resolves when the group is gone (or, after an error line, given up on).
 */
export async function terminateGroup(o: ResolvedOptions, p: SpawnedProcess, timeoutMs: number, force: boolean): Promise<void> {
  const { id, log } = o;
  const deadline = o.now() + timeoutMs;
  let stopper: SpawnedProcess | null = null;
  if (p.exitInfo === null) {
    if (force) p.killGroup("SIGKILL");
    else if (o.model.cmdStop.length > 0) stopper = runCmdStop(o, p);
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
  await waitGroupGone(o, p);
  if (stopper) {
    // A cmdStop may be what ends a server outside the group (`docker stop` for `docker run`), and
    // it may need longer than the stop timeout (docker's own 10 s is the default unloadTimeout).
    // Killing it would leave that server running for good, so it gets ORPHAN_STOP_LIMIT_S more,
    // the bound the orphan guard gives it too; the model stays `stopping` meanwhile (its memory
    // may still be held).
    if (!(await settlesWithin(stopper.exited, Math.max(0, deadline - o.now())))) {
      log.warn(`[${id}] cmdStop still running after the stop deadline: giving it up to ${ORPHAN_STOP_LIMIT_S}s more`);
      if (!(await settlesWithin(stopper.exited, ORPHAN_STOP_LIMIT_S * 1000))) {
        log.warn(`[${id}] cmdStop still running ${ORPHAN_STOP_LIMIT_S}s after the stop deadline: killing it`);
        stopper.killGroup("SIGKILL");
      }
    }
    await waitGroupGone(o, stopper);
  }
}

/** Wait until no live process is left in the group (the guard kills stragglers when the leader exits). */
async function waitGroupGone(o: ResolvedOptions, p: SpawnedProcess): Promise<void> {
  const start = o.now();
  let delay = 2;
  let killed = false;
  while (p.groupAlive()) {
    const waited = o.now() - start;
    if (!killed && waited >= GROUP_GRACE_MS) {
      p.killGroup("SIGKILL");
      killed = true;
    }
    if (waited >= GROUP_GRACE_MS + GROUP_GIVE_UP_MS) {
      o.log.error(`[${o.id}] process group ${p.pid} still has live members after SIGKILL; giving up on it`);
      return;
    }
    await sleep(delay);
    delay = Math.min(50, delay * 2);
  }
}

/** cmdStop's argv for the server with this pid (`${PID}` replaced). */
export function cmdStopArgv(cmdStop: readonly string[], pid: number): string[] {
  return cmdStop.map((a) => a.replaceAll("${PID}", String(pid)));
}

/** Run cmdStop with `${PID}` replaced; if it cannot run, SIGTERM the group instead (and return null). */
function runCmdStop(o: ResolvedOptions, p: SpawnedProcess): SpawnedProcess | null {
  const { id, log } = o;
  const argv = cmdStopArgv(o.model.cmdStop, p.pid);
  log.info(`[${id}] stopping with cmdStop: ${argv.join(" ")}`);
  try {
    const stopper = o.spawn(argv, { env: o.env, cwd: o.cwd, onOutput: (t) => o.output.write(t) });
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
