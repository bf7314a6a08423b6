import { describe, expect, test } from "bun:test";
import type { ObserveEvent } from "../../src/observe/events.ts";
import { observeSupervisor } from "../../src/observe/supervisor-events.ts";
import type { SupervisorEvent } from "../../src/process/types.ts";

/** A supervisor stand-in whose events the test emits by hand. */
function fakeSupervisor() {
  const listeners = new Set<(ev: SupervisorEvent) => void>();
  return {
    subscribe(fn: (ev: SupervisorEvent) => void) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    emit: (ev: SupervisorEvent) => listeners.forEach((l) => l(ev)),
    get listeners() {
      return listeners.size;
    },
  };
}

describe("observeSupervisor", () => {
  test("a load: state changes, load-start, load-ready with its duration; then a crash and a TTL expiry", () => {
    const sup = fakeSupervisor();
    const got: ObserveEvent[] = [];
    const off = observeSupervisor(sup, (e) => got.push(e));
    sup.emit({ type: "state", model: "a", from: "stopped", to: "starting", at: 100 });
    sup.emit({ type: "state", model: "a", from: "starting", to: "ready", at: 350 });
    sup.emit({ type: "ready", model: "a", loadMs: 250, at: 350 });
    sup.emit({ type: "idle", model: "a", at: 900 });
    sup.emit({ type: "crash", model: "a", exitCode: 1, signal: null, lastLines: ["x"], at: 1000 });
    expect(got).toEqual([
      { type: "model-state", model: "a", from: "stopped", to: "starting", at: 100 },
      { type: "load-start", model: "a", at: 100 },
      { type: "model-state", model: "a", from: "starting", to: "ready", at: 350 },
      { type: "load-ready", model: "a", ms: 250, at: 350 },
      { type: "ttl-unload", model: "a", at: 900 },
      { type: "crash", model: "a", exitCode: 1, signal: null, at: 1000 },
    ]);
    off();
    expect(sup.listeners).toBe(0);
  });

  test("a start that never became ready is a load-failed with the time it took", () => {
    const sup = fakeSupervisor();
    const got: ObserveEvent[] = [];
    observeSupervisor(sup, (e) => got.push(e));
    sup.emit({ type: "state", model: "a", from: "stopped", to: "starting", at: 10 });
    sup.emit({ type: "state", model: "a", from: "starting", to: "stopping", at: 60 });
    sup.emit({ type: "state", model: "a", from: "stopping", to: "stopped", at: 70 });
    expect(got.filter((e) => e.type === "load-failed")).toEqual([{ type: "load-failed", model: "a", ms: 50, at: 60 }]);
  });
});
