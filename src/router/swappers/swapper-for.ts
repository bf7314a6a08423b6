/** The eviction policy a config asks for: the matrix swapper for `router: matrix`, else groups. */
import type { Config } from "../../config/types.ts";
import type { Logger } from "../../log/types.ts";
import type { Swapper } from "../seams.ts";
import { createGroupSwapper } from "./group.ts";
import { createMatrixSwapper } from "./matrix.ts";

/** The swapper for `config` (the matrix was compiled when the config loaded). */
export function swapperFor(config: Config, log: Logger): Swapper {
  const matrix = config.routing.router === "matrix" ? config.routing.matrix : null;
  if (matrix) return createMatrixSwapper({ sets: matrix.expanded, evictCosts: matrix.costById, log });
  return createGroupSwapper(config.routing.groups);
}
