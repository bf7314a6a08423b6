/**
 * No orphans: every model server dies with switchyard, however switchyard ends.
 *
 * Design (POSIX):
 * 1. Each model command is started by spawnGroup as the leader of a new process group (Bun's
 *    `detached: true` = setsid), so one `kill(-pgid, sig)` reaches the server and everything it
 *    forks (unless a descendant deliberately moves to another group or session).
 * 2. Clean exits (SIGINT, SIGTERM, SIGHUP, an uncaught error, a normal exit): installExitHandlers
 *    runs the caller's graceful stopAll() before exiting; the synchronous `exit` hook SIGKILLs any
 *    group still registered, as a last resort.
 * 3. SIGKILL of switchyard (or a crash of the runtime) runs no code of ours, and Bun has no
 *    PR_SET_PDEATHSIG spawn option (docs/runtime-notes.md#spawn-sigkill). So the command is not
 *    exec'd directly: `/bin/sh -c GUARD_SCRIPT` first forks a tiny watcher into the same process
 *    group, then `exec`s the real command (which
 *    keeps the pid, so the server is still the group leader, its exit code is reported unchanged,
 *    and `${PID}` in cmdStop is the server's pid). The watcher ignores TERM/HUP/INT/QUIT and blocks
 *    reading the stdin pipe whose write end only switchyard holds (Bun marks its descriptors
 *    close-on-exec, so no other child inherits it). When switchyard dies for any reason the kernel
 *    closes that end, `read` returns EOF, and the watcher runs `kill -KILL 0`: the whole group,
 *    grandchildren included, dies within milliseconds. The server itself gets /dev/null as stdin.
 * 4. The same pipe doubles as the clean-up path when the leader exits first (crash, or a graceful
 *    stop): Bun closes it once the leader is reaped, and whatever is left of the group is killed.
 *    Rule: a group lives exactly as long as its leader.
 * 5. A server that runs outside its group (`docker run` with `cmdStop: docker stop`) would outlive
 *    a SIGKILL of the group. So spawnGroup also sends the model's cmdStop down the pipe at spawn,
 *    one `w` line per word with `${PID}` already replaced. At EOF, if the leader still runs
 *    (switchyard died first), the watcher runs that command, for at most ORPHAN_STOP_LIMIT_S, and
 *    then kills the group. A leader already gone (its stop or its crash came first) gets no
 *    cmdStop from the watcher. On a forced exit (a second Ctrl-C, the stop's deadline) such a
 *    group is left to its watcher instead of being SIGKILLed from here, so its cmdStop still runs.
 *
 * Why not the alternatives: `--no-orphans` / `setpriv --pdeathsig` kill only the direct child
 * (grandchildren survive, measured), a compiled binary with `--no-orphans` dies with the shell
 * that launched it, and a pid-file sweep at the next start cannot help a user whose GPU is held
 * now. The watcher needs only `/bin/sh` (`read`, `kill` and `trap` are shell built-ins), which a
 * compiled switchyard binary can rely on as much as `bun run` can; without /bin/sh, spawnGroup
 * falls back to an unguarded group and items 1-2 still hold. Limits: a descendant that calls setsid()
 * or setpgid() escapes the group; Windows is not supported.
 */
import type { Logger } from "../log/types.ts";
import type { GroupSignal } from "./types.ts";

/** How long the watcher lets a model's cmdStop run after switchyard is gone, before it kills the group. */
export const ORPHAN_STOP_LIMIT_S = 30;

/**
 * The watcher, run as `/bin/sh -c GUARD_SCRIPT switchyard-guard <argv...>` with stdin a pipe from
 * switchyard. fd 3 keeps the pipe because sh gives a background job /dev/null as stdin. It reads
 * lines until EOF, each `w<word>` a word of the stop command (`set --` reuses the subshell's
 * positional parameters as its argv). At EOF, with the leader still alive (`$$` in a subshell is
 * the shell that exec'd into the server, and the watcher's own membership keeps that pid from being
 * reused), switchyard is gone: run the stop command, bounded, then kill the group.
 */
export const GUARD_SCRIPT = [
  "exec 3<&0",
  "(",
  "  trap '' TERM HUP INT QUIT",
  "  set --",
  "  while IFS= read -r l <&3; do",
  "    case $l in",
  '      w*) set -- "$@" "${l#w}" ;;',
  "    esac",
  "  done",
  "  if [ $# -gt 0 ] && kill -0 $$ 2>/dev/null; then",
  '    "$@" &',
  "    s=$!",
  `    ( sleep ${ORPHAN_STOP_LIMIT_S} && kill -KILL $s ) &`,
  "    wait $s",
  "  fi",
  "  kill -KILL 0",
  ") </dev/null >/dev/null 2>&1 &",
  'exec "$@" 3<&- </dev/null',
].join("\n");

/** What the watcher is told at spawn: the stop command's words, one line each (empty without one). */
export function guardStopLines(stopArgv: readonly string[]): string {
  return stopArgv.map((w) => `w${w}\n`).join("");
}

/** Running groups, and whether each one's watcher runs a stop command when switchyard dies. */
const liveGroups = new Map<number, boolean>();

/** Remember a running group so the exit hook can kill it (spawnGroup calls this). */
export function trackGroup(pgid: number, watcherStops = false): void {
  liveGroups.set(pgid, watcherStops);
}

/** Forget a group whose leader has exited (spawnGroup calls this). */
export function untrackGroup(pgid: number): void {
  liveGroups.delete(pgid);
}

/**
 * Signal every group whose leader still runs, synchronously (for exit paths). A group whose
 * watcher runs a cmdStop is spared: switchyard's exit closes the pipe, and the watcher stops the
 * server and then kills the group itself.
 */
export function killAllGroupsNow(signal: GroupSignal = "SIGKILL"): void {
  for (const [pgid, watcherStops] of liveGroups) {
    if (watcherStops) continue;
    try {
      process.kill(-pgid, signal);
    } catch {
      // already gone
    }
  }
}

/** Options of installExitHandlers. */
export interface ExitHandlerOptions {
  /** How to end the process (default process.exit). */
  exit?: (code: number) => void;
  /** Where to report fatal errors (they also go to stderr). */
  log?: Logger;
  /** SIGKILL every group and exit if stopAll() takes longer than this (ms); 0 = wait for it. */
  forceAfterMs?: number;
  /** SIGHUP reloads the config instead of stopping (serve mode, as llama-swap). */
  onHangup?: () => void;
}

/**
 * Make every exit path stop the children first: SIGINT/SIGTERM/SIGHUP run stopAll() then exit 0
 * (a second signal kills all groups and exits 1 at once); an uncaught exception or unhandled
 * rejection runs stopAll() then exits 1; a plain process exit SIGKILLs whatever is still
 * registered. Returns a function that removes the handlers.
 */
export function installExitHandlers(stopAll: () => Promise<void>, opts: ExitHandlerOptions = {}): () => void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let shuttingDown = false;

  const force = (code: number) => {
    killAllGroupsNow("SIGKILL");
    exit(code);
  };

  /** `signal`: a second one forces the exit. An error while already stopping is only reported: the stop goes on. */
  const shutdown = (code: number, from: "signal" | "error" = "signal") => {
    if (shuttingDown) return from === "signal" ? force(1) : undefined;
    shuttingDown = true;
    const timer = opts.forceAfterMs ? setTimeout(() => force(code || 1), opts.forceAfterMs) : null;
    stopAll()
      .catch((err: unknown) => report("error while stopping models", err))
      .finally(() => {
        if (timer) clearTimeout(timer);
        killAllGroupsNow("SIGKILL");
        exit(code);
      });
  };

  const report = (what: string, err: unknown) => {
    const text = `switchyard: ${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    console.error(text);
    opts.log?.error(text);
  };

  const onSignal = () => shutdown(0);
  const onUncaught = (err: unknown) => {
    report("uncaught error", err);
    shutdown(1, "error");
  };
  const onRejection = (reason: unknown) => {
    report("unhandled rejection", reason);
    shutdown(1, "error");
  };
  const onExit = () => killAllGroupsNow("SIGKILL");

  const signals = opts.onHangup ? (["SIGINT", "SIGTERM"] as const) : (["SIGINT", "SIGTERM", "SIGHUP"] as const);
  for (const s of signals) process.on(s, onSignal);
  const onHangup = opts.onHangup;
  if (onHangup) process.on("SIGHUP", onHangup);
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onRejection);
  process.on("exit", onExit);
  return () => {
    for (const s of signals) process.off(s, onSignal);
    if (onHangup) process.off("SIGHUP", onHangup);
    process.off("uncaughtException", onUncaught);
    process.off("unhandledRejection", onRejection);
    process.off("exit", onExit);
  };
}
