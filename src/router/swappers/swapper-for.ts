/** The eviction policy a config asks for: the fit swapper for `router: fit`, the matrix swapper for `router: matrix`, else groups. */
import type { Config } from "../../config/types.ts";
import type { Logger } from "../../log/types.ts";
import type { MemoryLedger } from "../../placement/memory-ledger.ts";
import type { Device } from "../../placement/types.ts";
import type { Swapper } from "../seams.ts";
import { createFitSwapper } from "./fit.ts";
import { createGroupSwapper } from "./group.ts";
import { createMatrixSwapper } from "./matrix.ts";

/** What the fit router needs beyond the config: the devices (detected or declared) and the ledger of sizes. */
export interface PlacementDeps {
  devices: () => readonly Device[];
  ledger: MemoryLedger;
}

/** The devices a config declares (`routing.router.settings.fit.devices`), as Devices; [] when none are declared. */
export function declaredDevices(config: Config): Device[] {
  return (config.routing.fit?.devices ?? []).map((d) => ({
    id: d.id,
    kind: d.id === "cpu" ? "cpu" : "gpu",
    index: d.id === "cpu" ? null : Number(d.id),
    uuid: null,
    name: d.id === "cpu" ? "system RAM (declared)" : `GPU ${d.id} (declared)`,
    vendor: null,
    total: d.memory,
    usedAtStart: 0,
    reserve: d.reserve,
    source: "declared",
  }));
}

/** The swapper for `config` (the matrix was compiled when the config loaded). */
export function swapperFor(config: Config, log: Logger, placement?: PlacementDeps): Swapper {
  if (config.routing.router === "fit" && placement) {
    for (const m of Object.values(config.models)) placement.ledger.declare(m.id, m.memory);
    return createFitSwapper({
      devices: placement.devices,
      ledger: placement.ledger,
      persistent: (m) => config.models[m]?.persistent ?? false,
      priority: (m) => config.routing.fifo.priority[m] ?? 0,
      log,
    });
  }
  const matrix = config.routing.router === "matrix" ? config.routing.matrix : null;
  if (matrix) return createMatrixSwapper({ sets: matrix.compiled, evictCosts: matrix.costById, log });
  return createGroupSwapper(config.routing.groups);
}
