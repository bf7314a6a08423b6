/**
 * The fit router (`routing.router.use: fit`) as a Swapper over the pure plan of placement/fit.ts:
 * eviction sets from the devices' budgets and the ledger's figures, the placement of each swap's
 * target (its devices and GPU indices), one log line per decision with its numbers, the admission
 * refusal of a model that fits no device, and the out-of-memory raise (capped at the largest
 * budget; one retry; dropped at the next start when the retry did not turn ready and measured).
 * Every start it commits is placed, even one that fits nowhere.
 */
import { formatSize } from "../../config/size.ts";
import type { Logger } from "../../log/types.ts";
import { budgetOf, planFit, type FitView } from "../../placement/fit.ts";
import type { MemoryLedger, RaiseCap } from "../../placement/memory-ledger.ts";
import type { Device, Need } from "../../placement/types.ts";
import type { Placement, Swapper, SwapView } from "../seams.ts";

/** What the fit swapper reads. */
export interface FitSwapperOptions {
  devices: () => readonly Device[];
  ledger: MemoryLedger;
  persistent: (model: string) => boolean;
  priority: (model: string) => number;
  log?: Logger;
}

/** How much an out-of-memory death raises a model's figure. */
const OOM_FACTOR = 1.5;

const NO_VIEW: SwapView = { inFlight: () => 0, lastUsed: () => 0 };

/** Create the fit swapper. */
export function createFitSwapper(o: FitSwapperOptions): Swapper {
  // The target is planned with what its next start needs; the residents with what they occupy.
  const viewOf = (target: string, v: SwapView | undefined): FitView => {
    const s = v ?? NO_VIEW;
    return { need: (m) => (m === target ? o.ledger.startNeed(m) : o.ledger.need(m)), persistent: o.persistent, priority: o.priority, inFlight: s.inFlight, lastUsed: s.lastUsed, placedOn: (m) => o.ledger.placedOn(m) };
  };
  return {
    evictionFor(target, running, view) {
      const plan = planFit(target, running, o.devices(), viewOf(target, view));
      return plan.kind === "fit" ? plan.evict : [];
    },
    onSwapStart(target, running, view): Placement | void {
      const devices = o.devices();
      const plan = planFit(target, running, devices, viewOf(target, view));
      const dropped = o.ledger.starting(target);
      if (dropped) o.log?.info(`fit: ${target}'s retry at ${formatSize(totalOf(dropped))} did not turn ready and measured; planning with ${formatSize(totalOf(o.ledger.need(target)))} [${o.ledger.need(target).source}] again`);
      if (plan.kind === "never") {
        // Admission refuses what fits nowhere; a figure raised since (a measurement) still gets a place.
        o.log?.warn(`fit: ${plan.message}; starting it anyway on ${plan.devices.map(label).join(", ")}`);
        o.ledger.place(target, plan.devices);
        return placementOf(plan.devices, devices);
      }
      if (plan.kind === "blocked") {
        o.log?.warn(`fit: ${plan.message}; starting it anyway on ${plan.devices.join(", ")}`);
        o.ledger.place(target, plan.devices);
        return placementOf(plan.devices, devices);
      }
      o.ledger.place(target, plan.devices);
      const needs = Object.entries(plan.needs).map(([id, b]) => `${formatSize(b)} on ${label(id)} (${formatSize(plan.free[id])} free)`).join(", ");
      const source = o.ledger.need(target).source;
      const s = view ?? NO_VIEW;
      const evicted = plan.evict.map((m) => {
        const idle = s.lastUsed(m) > 0 ? `, last used ${new Date(s.lastUsed(m)).toISOString()}` : "";
        return `${m} (${formatSize(totalOf(o.ledger.need(m)))}${s.inFlight(m) > 0 ? `, ${s.inFlight(m)} in flight` : ", idle"}${idle})`;
      });
      o.log?.info(`fit: ${target} needs ${needs} [${source}]${evicted.length ? `; evicting ${evicted.join(", ")}` : "; fits beside the residents"}`);
      return placementOf(plan.devices, devices);
    },
    onOutOfMemory(target) {
      const before = o.ledger.need(target);
      if (totalOf(before) === 0) {
        o.log?.warn(`fit: ${target} died of memory with no figure to raise (declare its memory:); not retrying`);
        return false;
      }
      const after = o.ledger.raise(target, OOM_FACTOR, capOf(o.devices()));
      if (after === null) {
        o.log?.warn(`fit: ${target} died of memory at ${formatSize(totalOf(before))} [${before.source}], already as much as the largest device offers; not retrying`);
        return false;
      }
      o.log?.warn(`fit: ${target} died of memory at ${formatSize(totalOf(before))} [${before.source}]; planning with ${formatSize(totalOf(after))} and retrying once`);
      return true;
    },
    refusal(target) {
      const plan = planFit(target, [], o.devices(), viewOf(target, undefined));
      return plan.kind === "never" ? plan.message : null;
    },
  };
}

function label(id: string): string {
  return id === "cpu" ? "cpu" : `GPU ${id}`;
}

/** The most a raise may reach: a one-device figure the largest budget among the GPUs (the CPU without GPUs), a per-device one each device's budget. */
function capOf(devices: readonly Device[]): RaiseCap {
  const gpus = devices.filter((d) => d.kind === "gpu");
  return { any: Math.max(0, ...(gpus.length > 0 ? gpus : devices).map(budgetOf)), perDevice: Object.fromEntries(devices.map((d) => [d.id, budgetOf(d)])) };
}

function totalOf(n: Need): number {
  return (n.any ?? 0) + Object.values(n.perDevice).reduce((a, b) => a + b, 0);
}

function placementOf(ids: readonly string[], devices: readonly Device[]): Placement {
  const gpus = ids.map((id) => devices.find((d) => d.id === id)).filter((d): d is Device => d?.kind === "gpu" && d.index !== null).map((d) => d.index!);
  return { devices: [...ids], gpus, gpusKnown: devices.some((d) => d.kind === "gpu") };
}
