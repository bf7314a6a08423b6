/**
 * The supervisors' own events, told again as observations: every state change, a load's start,
 * readiness (with its duration) or failure, a TTL expiry and a crash (web-standard).
 */
import type { Supervisor, SupervisorEvent } from "../process/types.ts";
import type { ObserveEvent } from "./events.ts";

/** Translate one supervisor's events into `publish`; returns the unsubscribe function. */
export function observeSupervisor(sup: Pick<Supervisor, "subscribe">, publish: (ev: ObserveEvent) => void): () => void {
  let loadStartedAt: number | null = null;
  return sup.subscribe((ev: SupervisorEvent) => {
    for (const out of translate(ev)) publish(out);
  });

  function translate(ev: SupervisorEvent): ObserveEvent[] {
    switch (ev.type) {
      case "state": {
        const out: ObserveEvent[] = [{ type: "model-state", model: ev.model, from: ev.from, to: ev.to, at: ev.at }];
        if (ev.to === "starting") {
          loadStartedAt = ev.at;
          out.push({ type: "load-start", model: ev.model, at: ev.at });
        } else if (ev.from === "starting" && ev.to !== "ready" && loadStartedAt !== null) {
          out.push({ type: "load-failed", model: ev.model, ms: ev.at - loadStartedAt, at: ev.at });
          loadStartedAt = null;
        }
        return out;
      }
      case "ready":
        loadStartedAt = null;
        return [{ type: "load-ready", model: ev.model, ms: ev.loadMs, at: ev.at }];
      case "idle":
        return [{ type: "ttl-unload", model: ev.model, at: ev.at }];
      case "crash":
        return [{ type: "crash", model: ev.model, exitCode: ev.exitCode, signal: ev.signal, at: ev.at }];
    }
  }
}
