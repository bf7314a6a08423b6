/**
 * `/api/performance` (the system and GPU samples kept in memory, llama-swap's shape, optionally only
 * those after `?after=<RFC3339>`) and `/api/hardware` (the host description detected at start), read
 * from the hardware monitor the composition provides. As llama-swap: 503 `{"enabled":false}` when
 * performance monitoring is off, 400 for a bad `after`, 503 when no host description could be made.
 * Web-standard.
 */
import { parseRfc3339, samplesAfter } from "../observe/hardware.ts";
import type { HardwareMonitor } from "../observe/hardware-snapshot.ts";
import { errorResponse } from "./errors.ts";

/** The two handlers. */
export interface PerformanceRoutes {
  performance(request: Request): Response;
  hardware(): Promise<Response>;
}

/** Create the handlers over a monitor (null: none composed, so both are unavailable). */
export function createPerformanceRoutes(monitor: HardwareMonitor | null): PerformanceRoutes {
  return {
    performance(request) {
      const samples = monitor?.samples() ?? null;
      if (samples === null) return Response.json({ enabled: false }, { status: 503 });
      let { sys, gpu } = samples;
      const after = new URL(request.url).searchParams.get("after");
      if (after !== null && after !== "") {
        const afterMs = parseRfc3339(after);
        if (afterMs === null) return errorResponse(400, "invalid 'after' timestamp, use RFC3339 format", { code: "invalid_query", param: "after" });
        sys = samplesAfter(sys, afterMs);
        gpu = samplesAfter(gpu, afterMs);
      }
      return Response.json({ enabled: true, sys_stats: sys, gpu_stats: gpu, gpu_monitor: samples.gpuMonitor });
    },
    async hardware() {
      const snapshot = monitor === null ? null : await monitor.snapshot();
      if (snapshot === null) return errorResponse(503, "hardware detection unavailable", { code: "hardware_unavailable" });
      return Response.json(snapshot);
    },
  };
}
