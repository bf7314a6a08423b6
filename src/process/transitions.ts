/**
 * The supervisor's lifecycle as a table: every legal state change and what causes it. The
 * supervisor's one state-changing function checks each change against it (web-standard).
 *
 *   stopped ──start()──▶ starting ──ready probe──▶ ready ──stop() / crash──▶ stopping ──group gone──▶ stopped
 *   stopped ──shutdown()──▶ shutdown (terminal)
 */
import type { ProcessState } from "./types.ts";

/** For each state, the states it may change to, each with its cause. `shutdown` has no way out. */
export const TRANSITIONS: { readonly [From in ProcessState]: { readonly [To in ProcessState]?: string } } = {
  stopped: {
    starting: "start()",
    shutdown: "shutdown(), once nothing runs any more",
  },
  starting: {
    ready: "the readiness probe answered 200 (at once with checkEndpoint none)",
    stopping:
      "after the spawn: the child exited before it was ready, the health check timed out, " +
      "or stop() / shutdown() aborted the start; the group is torn down",
    stopped:
      "before anything was spawned: the port is in use, the spawn failed, " +
      "or stop() / shutdown() arrived during the port check",
  },
  ready: {
    stopping: "stop() or shutdown(); or the leader exited on its own (crash: torn down with SIGKILL)",
    stopped: "stop() found no process to tear down (defensive: a ready model always has one)",
  },
  stopping: {
    stopped:
      "the group is gone: after cmdStop or SIGTERM, or after SIGKILL once the stop timeout passed " +
      "(a failed start and a crash SIGKILL at once)",
  },
  shutdown: {},
};

/** Whether `from → to` is in TRANSITIONS. */
export function isLegalTransition(from: ProcessState, to: ProcessState): boolean {
  return TRANSITIONS[from][to] !== undefined;
}
