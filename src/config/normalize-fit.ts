/**
 * Placement by memory (`routing.router.use: fit`): declared devices with their sizes, the reserves
 * kept free on detected ones, the state file of measured sizes; and a model's `memory:`.
 */
import type { PathSeg } from "./errors.ts";
import type { ConfigInput, ModelInput, NormalizeContext } from "./normalize-context.ts";
import { parseSize } from "./size.ts";
import type { DeclaredDevice, FitConfig, ModelMemory } from "./types.ts";

type FitInput = NonNullable<NonNullable<NonNullable<NonNullable<ConfigInput["routing"]>["router"]>["settings"]>["fit"]>;

const DEFAULT_GPU_RESERVE = 512 * 1024 ** 2;
const DEFAULT_CPU_RESERVE = 2 * 1024 ** 3;
const PATH: PathSeg[] = ["routing", "router", "settings", "fit"];

/** Bytes of a size the schema already checked (its pattern), or 0 after reporting. */
function size(text: string, path: PathSeg[], ctx: NormalizeContext): number {
  const bytes = parseSize(text);
  if (bytes === null) {
    ctx.report(path, `${JSON.stringify(text)} is not a size (write e.g. 7.5GiB, 512MiB or 24GB)`);
    return 0;
  }
  return bytes;
}

/** The fit settings. */
export function normalizeFit(input: FitInput | undefined, ctx: NormalizeContext): FitConfig {
  let devices: DeclaredDevice[] | null = null;
  if (input?.devices !== undefined) {
    devices = [];
    const seen = new Set<string>();
    input.devices.forEach((d, i) => {
      const at: PathSeg[] = [...PATH, "devices", i];
      const id = String(d.id);
      if (seen.has(id)) ctx.report([...at, "id"], `device ${id} is listed twice`);
      seen.add(id);
      const memory = size(d.memory, [...at, "memory"], ctx);
      const reserve = d.reserve !== undefined ? size(d.reserve, [...at, "reserve"], ctx) : 0;
      if (reserve >= memory && memory > 0) ctx.report([...at, "reserve"], "must be smaller than memory");
      devices!.push({ id, memory, reserve });
    });
    if (devices.length === 0) ctx.report([...PATH, "devices"], "lists no device (leave it out to detect them)");
  }
  return {
    devices,
    reserve: input?.reserve !== undefined ? size(input.reserve, [...PATH, "reserve"], ctx) : DEFAULT_GPU_RESERVE,
    cpuReserve: input?.cpuReserve !== undefined ? size(input.cpuReserve, [...PATH, "cpuReserve"], ctx) : DEFAULT_CPU_RESERVE,
    stateFile: input?.stateFile === undefined ? "switchyard-memory.json" : input.stateFile === "" ? null : input.stateFile,
  };
}

/** A model's `memory:`, or null when absent. */
export function normalizeModelMemory(m: ModelInput, path: PathSeg[], ctx: NormalizeContext): ModelMemory | null {
  const mem = m.memory;
  if (mem === undefined) return null;
  if (typeof mem === "string") return { kind: "any", bytes: size(mem, path, ctx) };
  const perDevice: Record<string, number> = {};
  for (const [id, text] of Object.entries(mem)) {
    if (id !== "cpu" && !/^[0-9]+$/.test(id)) ctx.report([...path, id], `${JSON.stringify(id)} is not a device ID (a GPU index such as 0, or cpu)`);
    perDevice[id] = size(text, [...path, id], ctx);
  }
  if (Object.keys(perDevice).length === 0) ctx.report(path, "lists no device");
  return { kind: "devices", perDevice };
}
