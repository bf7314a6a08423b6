/** The fit router's edge in serve mode: devices declared or detected (reserves applied), the ledger seeded from the state file and from a GGUF guess. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPlacementEdge, placementDevices, type PlacementEdge } from "../../src/cli/placement-edge.ts";
import { createCommandRunner } from "../../src/cli/run-command.ts";
import { loadConfig } from "../../src/config/load.ts";
import { emptyMemoryState, rememberNeed, serializeMemoryState } from "../../src/placement/memory-state.ts";
import type { Measurement } from "../../src/placement/types.ts";
import { dedent } from "../config/helpers.ts";
import { installFakeNvidiaSmi } from "../fixtures/fake-nvidia-smi.ts";
import { tinyModel } from "../fixtures/gguf.ts";
import { waitFor } from "../fixtures/wait.ts";
import { memoryLog } from "../router/fake-supervisor.ts";

const GiB = 1024 ** 3;
const fake = installFakeNvidiaSmi([{ index: 0, uuid: "GPU-00000000-0000-0000-0000-000000000000", name: "Fake GPU", totalMib: 16384, usedMib: 1024 }]);
afterAll(() => fake.remove());
const run = createCommandRunner({ path: fake.binDir });
const fitConfig = (models: string, fit = "") => loadConfig(dedent(`
  routing:
    router:
      use: fit
      settings:
        fit:
          reserve: 1GiB
          stateFile: state.json
  ${fit}
  models:
  ${models}
`), { env: {} }).config;

/** A fit config with declared `devices`, more `fit` lines, and one model `a` with more lines. */
const declaredFit = (devices: string, fit: string[] = [], model: string[] = []) =>
  loadConfig(
    ["routing:", "  router:", "    use: fit", "    settings:", "      fit:", `        devices: ${devices}`, ...fit.map((l) => `        ${l}`), "models:", "  a:", "    cmd: srv --port ${PORT}", ...model.map((l) => `    ${l}`)].join("\n"),
    { env: {} },
  ).config;

describe("placementDevices", () => {
  test("declared devices are used as written", async () => {
    const config = declaredFit("[{ id: 0, memory: 24GiB, reserve: 1GiB }, { id: cpu, memory: 64GiB }]");
    const { devices, lines } = await placementDevices(config, { run });
    expect(devices.map((d) => [d.id, d.kind, d.total, d.reserve, d.source])).toEqual([
      ["0", "gpu", 24 * GiB, 1 * GiB, "declared"],
      ["cpu", "cpu", 64 * GiB, 0, "declared"],
    ]);
    expect(lines[0]).toContain("1.00 GiB reserved");
  });

  test("detected GPUs get the configured reserve; the CPU its own", async () => {
    const { devices } = await placementDevices(fitConfig("  a:\n      cmd: srv --port ${PORT}"), { run });
    const gpu = devices.find((d) => d.id === "0")!;
    expect(gpu).toMatchObject({ kind: "gpu", source: "nvidia-smi", total: 16 * GiB, usedAtStart: 1 * GiB, reserve: 1 * GiB });
    expect(devices.find((d) => d.id === "cpu")).toMatchObject({ kind: "cpu", reserve: 2 * GiB });
  });
});

describe("createPlacementEdge", () => {
  test("a remembered size is used for the same command only; a GGUF model is guessed; a declared one stays declared", async () => {
    const dir = mkdtempSync(join(tmpdir(), "placement-edge-"));
    const gguf = tinyModel({ seed: 1 });
    const config = fitConfig(`  known:
      cmd: srv --port \${PORT} --known
    changed:
      cmd: srv --port \${PORT} --new-flag
    gguf:
      cmd: llama-server --port \${PORT} -m ${gguf} -c 512
    declared:
      cmd: srv --port \${PORT}
      memory: 3GiB`);
    let state = emptyMemoryState();
    state = rememberNeed(state, "known", config.models.known.cmd, { perDevice: { "0": 5 * GiB }, source: "measured" }, 1);
    state = rememberNeed(state, "changed", ["srv", "--port", "5801", "--old-flag"], { perDevice: { "0": 7 * GiB }, source: "measured" }, 1);
    writeFileSync(join(dir, "state.json"), serializeMemoryState(state));
    const log = memoryLog();
    const edge = await createPlacementEdge({ config, configDir: dir, log, run });
    const need = (m: string) => edge.deps.ledger.need(m);
    expect(need("known")).toMatchObject({ source: "measured", any: 5 * GiB });
    expect(need("changed").source).toBe("unknown");
    expect(need("gguf").source).toBe("guessed");
    expect(need("gguf").any).toBeGreaterThan(0);
    expect(need("declared")).toMatchObject({ source: "declared", any: 3 * GiB });
    expect(log.lines.some((l) => l.includes("fit: gguf guessed at"))).toBe(true);
    expect(log.lines.some((l) => l.includes("fit: changed has no memory figure"))).toBe(true);
  });

  test("a damaged state file: one warning, nothing remembered", async () => {
    const dir = mkdtempSync(join(tmpdir(), "placement-edge-"));
    writeFileSync(join(dir, "state.json"), "{ not json");
    const log = memoryLog();
    const edge = await createPlacementEdge({ config: fitConfig("  a:\n      cmd: srv --port ${PORT}"), configDir: dir, log, run });
    expect(edge.deps.ledger.need("a").source).toBe("unknown");
    expect(log.lines.filter((l) => l.startsWith("warn fit:"))).toHaveLength(1);
  });
});

describe("createPlacementEdge: measuring", () => {
  test("a model placed on a declared GPU, whose GPU memory cannot be read, keeps its figure (its RSS alone would take it off the GPU)", async () => {
    const config = declaredFit("[{ id: 0, memory: 24GiB }]", ["stateFile: \"\""], ["memory: 10GiB"]);
    const log = memoryLog();
    const edge = await createPlacementEdge({ config, configDir: mkdtempSync(join(tmpdir(), "sy-edge-")), log, run });
    // A stand-in for the model's process group: a child that leads its own.
    const child = Bun.spawn(["sleep", "30"], { detached: true });
    try {
      const recorded: unknown[] = [];
      edge.measure("a", { pid: child.pid, placement: { devices: ["0"], gpus: [0] } }, (m) => void recorded.push(m));
      await waitFor(() => log.lines.some((l) => l.includes("fit: a runs on GPU 0")), 5000, "the measurement skipped");
      expect(recorded).toEqual([]);
      expect(edge.deps.ledger.need("a")).toMatchObject({ any: 10 * GiB, source: "declared" });
    } finally {
      child.kill();
    }
  });
});

describe("createPlacementEdge: guesses and reloads", () => {
  test("a GGUF model kept off the GPUs (-ngl 0) is guessed as RAM, not as nothing on GPU 0", async () => {
    const gguf = tinyModel({ seed: 2 });
    const config = fitConfig(`  ram:
      cmd: llama-server --port \${PORT} -m ${gguf} -c 512 -ngl 0
    gpu:
      cmd: llama-server --port \${PORT} -m ${gguf} -c 512 -ngl 99`);
    const edge = await createPlacementEdge({ config, configDir: mkdtempSync(join(tmpdir(), "placement-edge-")), log: memoryLog(), run });
    const ram = edge.deps.ledger.need("ram");
    expect(ram.source).toBe("guessed");
    expect(ram.any).toBeUndefined();
    expect(ram.perDevice.cpu).toBeGreaterThan(0);
    expect(edge.deps.ledger.need("gpu").any).toBeGreaterThan(0);
  });

  test("a reload: a changed command forgets what was measured, a new model is guessed, a changed memory: is declared anew, and new measurements are remembered under the new commands", async () => {
    const dir = mkdtempSync(join(tmpdir(), "placement-edge-"));
    const gguf = tinyModel({ seed: 3 });
    const config = fitConfig(`  a:
      cmd: srv --port \${PORT} --v1
    d:
      cmd: srv --port \${PORT}
      memory: 3GiB`);
    const edge = await createPlacementEdge({ config, configDir: dir, log: memoryLog(), run });
    edge.deps.ledger.measure({ model: "a", perDevice: { "0": 6 * GiB }, method: "nvidia-per-process", at: 1 });
    expect(edge.deps.ledger.need("a")).toMatchObject({ source: "measured", any: 6 * GiB });
    const next = fitConfig(`  a:
      cmd: srv --port \${PORT} --v2
    d:
      cmd: srv --port \${PORT}
      memory: 5GiB
    n:
      cmd: llama-server --port \${PORT} -m ${gguf} -c 512`);
    const apply = await edge.prepareReload(next);
    // Nothing changes before the switch (it runs on the router's loop).
    expect(edge.deps.ledger.need("a").source).toBe("measured");
    apply();
    // The old process may still drain: its figure is held until a's next start, which plans anew.
    expect(edge.deps.ledger.need("a")).toMatchObject({ source: "measured", any: 6 * GiB });
    expect(edge.deps.ledger.startNeed("a").source).toBe("unknown");
    edge.deps.ledger.starting("a");
    expect(edge.deps.ledger.need("a").source).toBe("unknown");
    expect(edge.deps.ledger.need("d")).toMatchObject({ source: "declared", any: 5 * GiB });
    expect(edge.deps.ledger.need("n").source).toBe("guessed");
    // A measurement of the new model is remembered under its command: a fresh edge finds it.
    const child = Bun.spawn(["sleep", "30"], { detached: true });
    try {
      const recorded: unknown[] = [];
      edge.measure("n", { pid: child.pid, placement: null }, (m) => void recorded.push(m));
      await waitFor(() => recorded.length === 1, 5000, "the measurement");
    } finally {
      child.kill();
    }
    const again = await waitForRemembered(dir, next, "n");
    expect(again.deps.ledger.need("n").source).toBe("measured");
  });
});

/** A fresh edge over the same state file, once it remembers `model` (the file is written behind the measurement). */
async function waitForRemembered(dir: string, config: ReturnType<typeof fitConfig>, model: string) {
  let edge: PlacementEdge | null = null;
  await waitFor(async () => {
    edge = await createPlacementEdge({ config, configDir: dir, log: memoryLog(), run });
    return edge.deps.ledger.need(model).source === "measured";
  }, 5000, `${model} remembered in the state file`);
  return edge!;
}

describe("createPlacementEdge: what a measurement is filed as", () => {
  const MiB = 1024 ** 2;
  /** Measure a stand-in process group (a detached sleep) placed as `placement`, holding `gpuMib` on GPU 0 as the fake nvidia-smi reports; the recorded measurement also enters the ledger. */
  async function measureStandIn(edge: PlacementEdge, model: string, placement: { devices: string[]; gpus: number[] }, gpuMib: number) {
    const child = Bun.spawn(["sleep", "30"], { detached: true });
    const declaration = join(fake.appsDir, String(child.pid));
    if (gpuMib > 0) writeFileSync(declaration, `${child.pid} ${gpuMib} 0\n`);
    try {
      const recorded: Measurement[] = [];
      edge.measure(model, { pid: child.pid, placement }, (m) => {
        recorded.push(m);
        edge.deps.ledger.measure(m);
      });
      await waitFor(() => recorded.length === 1, 5000, "the measurement");
      return recorded[0]!;
    } finally {
      child.kill();
      rmSync(declaration, { force: true });
    }
  }

  test("a model placed on the CPU that holds a little GPU memory (a CUDA build at -ngl 0) keeps its RAM figure, the GPU's beside it", async () => {
    const edge = await createPlacementEdge({ config: fitConfig("  ram:\n      cmd: srv --port ${PORT}"), configDir: mkdtempSync(join(tmpdir(), "sy-edge-")), log: memoryLog(), run });
    const m = await measureStandIn(edge, "ram", { devices: ["cpu"], gpus: [] }, 300);
    expect(m.perDevice.cpu).toBeGreaterThan(0);
    expect(m.perDevice["0"]).toBe(300 * MiB);
    // Not re-filed as "300 MiB on any GPU": it stays where it was placed.
    const need = edge.deps.ledger.need("ram");
    expect(need.any).toBeUndefined();
    expect(need.perDevice.cpu).toBe(m.perDevice.cpu);
  });

  test("a model placed on a GPU that nvidia-smi reads, holding no GPU memory, is filed by its RAM instead of staying at nothing", async () => {
    const log = memoryLog();
    const edge = await createPlacementEdge({ config: fitConfig("  cpuonly:\n      cmd: srv --port ${PORT}"), configDir: mkdtempSync(join(tmpdir(), "sy-edge-")), log, run });
    expect(edge.deps.ledger.need("cpuonly").source).toBe("unknown");
    const m = await measureStandIn(edge, "cpuonly", { devices: ["0"], gpus: [0] }, 0);
    expect(Object.keys(m.perDevice)).toEqual(["cpu"]);
    expect(edge.deps.ledger.need("cpuonly")).toEqual({ perDevice: { cpu: m.perDevice.cpu }, source: "measured" });
    expect(log.lines.some((l) => l.includes("fit: cpuonly runs on GPU 0 but holds no GPU memory; filed as"))).toBe(true);
  });
});

describe("createPlacementEdge: the state file's keys", () => {
  const withSelf = (models: string, self: string[]) =>
    loadConfig(["routing:", "  router:", "    use: fit", "    settings:", "      fit:", "        stateFile: state.json", "models:", models].join("\n"), { env: {}, selfCommand: self }).config;

  test("a size is still recalled when an added model shifts the ports and ${SWITCHYARD} expands to another program", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sy-edge-"));
    const models = (ids: string[]) => ids.map((id) => `  ${id}:\n    cmd: \${SWITCHYARD} simulate --port \${PORT} --model ${id}`).join("\n");
    const first = withSelf(models(["b", "c"]), ["/opt/sy/switchyard"]);
    const edge = await createPlacementEdge({ config: first, configDir: dir, log: memoryLog(), run, selfCommand: ["/opt/sy/switchyard"] });
    const child = Bun.spawn(["sleep", "30"], { detached: true });
    try {
      const recorded: unknown[] = [];
      edge.measure("c", { pid: child.pid, placement: { devices: ["cpu"], gpus: [] } }, (m) => void recorded.push(m));
      await waitFor(() => recorded.length === 1, 5000, "the measurement");
    } finally {
      child.kill();
    }
    // "a" sorts first and takes the first port: c's moves. And the program now runs from source.
    const second = withSelf(models(["a", "b", "c"]), ["/usr/local/bin/bun", "/srv/sy/src/main.ts"]);
    expect(second.models.c!.port).not.toBe(first.models.c!.port);
    let again: PlacementEdge | null = null;
    await waitFor(async () => {
      again = await createPlacementEdge({ config: second, configDir: dir, log: memoryLog(), run, selfCommand: ["/usr/local/bin/bun", "/srv/sy/src/main.ts"] });
      return again.deps.ledger.need("c").source === "measured";
    }, 5000, "c recalled after the port shift");
    expect(again!.deps.ledger.need("b").source).toBe("unknown");
  });
});
