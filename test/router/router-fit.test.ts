/**
 * The fit router through the whole router over fake supervisors: declared devices, swaps placed
 * on a GPU (the start gets the placement), a measurement posted to the loop (a memory observation)
 * that puts the device over budget unloads the idle least recently used resident, and /running's
 * memory report.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Config } from "../../src/config/types.ts";
import type { ObserveEvent } from "../../src/observe/events.ts";
import { createRouter, type SwitchyardRouter } from "../../src/router/router.ts";
import { waitFor } from "../fixtures/wait.ts";
import { FakeSupervisor, memoryLog, modelConfig, testConfig } from "./fake-supervisor.ts";

const GiB = 1024 ** 3;
const routers: SwitchyardRouter[] = [];
afterEach(async () => {
  for (const r of routers.splice(0)) await r.shutdown();
});

function setup(sizes: Record<string, number>) {
  const base = testConfig(Object.keys(sizes).map((id) => modelConfig(id, { memory: { kind: "any", bytes: sizes[id] * GiB } })));
  const config: Config = { ...base, routing: { ...base.routing, router: "fit", groups: [], fit: { devices: [{ id: "0", memory: 16 * GiB, reserve: 0 }], reserve: 0, cpuReserve: 0, stateFile: null } } };
  const sups = new Map<string, FakeSupervisor>();
  for (const id of Object.keys(sizes)) {
    const s = new FakeSupervisor(id, `http://127.0.0.1:9/${id}/`);
    s.autoReady = true;
    sups.set(id, s);
  }
  const seen: ObserveEvent[] = [];
  const log = memoryLog();
  const router = createRouter({ config, supervisors: sups, log, observe: (e) => void seen.push(e) });
  routers.push(router);
  const use = async (m: string): Promise<void> => (await router.acquire(m, { signal: new AbortController().signal })).done();
  return { router, sups, seen, log, use };
}

describe("the fit router over fake supervisors", () => {
  test("a swap's target starts with its placement; /running's report has the device and the figures", async () => {
    const { router, sups, use } = setup({ a: 6, b: 6 });
    await use("a");
    await use("b");
    expect(sups.get("b")!.placement).toEqual({ devices: ["0"], gpus: [0], gpusKnown: true });
    await router.settled();
    const mem = router.memory!()!;
    expect(mem.devices).toEqual([expect.objectContaining({ id: "0", total: 16 * GiB, usedByModels: 12 * GiB, free: 4 * GiB })]);
    expect(mem.models.a).toMatchObject({ bytes: 6 * GiB, source: "declared", resident: true });
  });

  test("a measurement over the budget: a memory observation, and the idle least recently used resident is unloaded", async () => {
    const { router, sups, seen, log, use } = setup({ a: 6, b: 6, c: 3 });
    await use("a");
    await use("b");
    await use("c");
    router.recordMemory({ model: "c", perDevice: { "0": 8 * GiB }, method: "nvidia-per-process", at: Date.now() });
    await waitFor(() => sups.get("a")!.state === "stopped", 5000, "a unloaded");
    expect(sups.get("b")!.state).toBe("ready");
    expect(seen.find((e) => e.type === "memory")).toMatchObject({ model: "c", bytes: 8 * GiB, source: "measured", raised: true });
    expect(log.lines.some((l) => l.includes("fit: over budget after measuring c; unloading idle a"))).toBe(true);
  });

  test("a model bigger than every device is refused at once", async () => {
    const { router } = setup({ huge: 20 });
    await expect(router.acquire("huge", { signal: new AbortController().signal })).rejects.toMatchObject({ kind: "does_not_fit" });
  });
});
