/**
 * The fit router's edge (`routing.router.use: fit`): the devices (declared, else detected with
 * nvidia-smi / rocm-smi and /proc/meminfo, reserves applied), the ledger seeded with what the
 * state file remembers and a GGUF guess for models that declare nothing, and a measurement of
 * each model once it turns ready, posted to the router's loop and remembered in the state file.
 */
import { isAbsolute, join } from "node:path";
import type { Config, ModelConfig } from "../config/types.ts";
import { sameValue } from "../config/diff.ts";
import { formatSize } from "../config/size.ts";
import type { Logger } from "../log/types.ts";
import { describeDevice } from "../placement/describe-device.ts";
import { deviceDelta } from "../placement/device-delta.ts";
import { createMemoryLedger } from "../placement/memory-ledger.ts";
import { emptyMemoryState, rememberedNeed, rememberNeed, stableCommand, type MemoryState } from "../placement/memory-state.ts";
import type { Device, Measurement } from "../placement/types.ts";
import type { Supervisor } from "../process/types.ts";
import { declaredDevices, type PlacementDeps } from "../router/swappers/swapper-for.ts";
import { detectDevices } from "./detect-devices.ts";
import { guessGgufNeed } from "./gguf-guess.ts";
import { measureGroup } from "./measure-memory.ts";
import { readMemoryStateFile, writeMemoryStateFile } from "./memory-state-file.ts";
import type { CommandRunner } from "./run-command.ts";
import { selfCommand } from "./self-command.ts";

/** What the serve composition gets. */
export interface PlacementEdge {
  deps: PlacementDeps;
  /** One line per device (and per problem), for the startup log and --check. */
  lines: string[];
  /** A model starts loading: read the GPUs now, for a device delta if its group shows no GPU memory later. */
  starting(model: string): void;
  /** Measure a model that just turned ready (its process group), then `record` it and remember it in the state file. */
  measure(model: string, sup: Pick<Supervisor, "pid" | "placement">, record: (m: Measurement) => void): void;
  /**
   * A config reload: read what the changed and new models need (GGUF headers) now; the function
   * returned switches the edge to `next` and updates the ledger, on the router's loop. A model
   * whose command changed forgets what was measured (its old figure is held until it next starts,
   * while the old process may still run); one whose `memory:` changed is declared anew.
   */
  prepareReload(next: Config): Promise<() => void>;
}

/** Options of the edge (tests inject the tools). */
export interface PlacementEdgeOptions {
  config: Config;
  /** The config file's directory (a relative state file lives there); null: the working directory. */
  configDir: string | null;
  log: Logger;
  run?: CommandRunner;
  procRoot?: string;
  /** What `${SWITCHYARD}` expands to (default: this program's own argv), put back as the macro before a command is hashed. */
  selfCommand?: readonly string[];
}

/** The devices: declared ones as they are; detected ones with the configured reserves. */
export async function placementDevices(config: Config, opts: { run?: CommandRunner; procRoot?: string } = {}): Promise<{ devices: Device[]; lines: string[] }> {
  const declared = declaredDevices(config);
  if (declared.length > 0) return { devices: declared, lines: declared.map((d) => `${describeDevice(d)}, ${formatSize(d.reserve)} reserved`) };
  const fit = config.routing.fit;
  const found = await detectDevices({ run: opts.run, procRoot: opts.procRoot });
  const devices = found.devices.map((d) => ({ ...d, reserve: d.kind === "gpu" ? (fit?.reserve ?? 0) : (fit?.cpuReserve ?? 0) }));
  return { devices, lines: found.lines };
}

/** Build the edge: devices, the ledger (remembered, guessed), and the measurement hook. */
export async function createPlacementEdge(o: PlacementEdgeOptions): Promise<PlacementEdge> {
  const { log } = o;
  // The config in force: a reload switches it (remembered sizes are filed under its commands).
  let config = o.config;
  const { devices, lines } = await placementDevices(config, o);
  const ledger = createMemoryLedger();
  const fit = config.routing.fit;
  const statePath = fit?.stateFile ? (isAbsolute(fit.stateFile) ? fit.stateFile : join(o.configDir ?? process.cwd(), fit.stateFile)) : null;
  let state: MemoryState = emptyMemoryState();
  if (statePath) {
    const read = await readMemoryStateFile(statePath);
    state = read.state;
    if (read.warning) log.warn(`fit: ${read.warning}`);
  }
  const gpus = devices.filter((d) => d.kind === "gpu").map((d) => d.id);
  const self = o.selfCommand ?? selfCommand();
  /** A model's command as the state file keys it: its port and `${SWITCHYARD}` as the macros. */
  const keyOf = (m: ModelConfig): string[] => stableCommand(m.cmd, m.port, self);
  const hasCpu = devices.some((d) => d.id === "cpu");

  /**
   * A model's first figures: declared, else what the state file remembers for its command, else a
   * GGUF guess. The slow part (reading the GGUF header) runs here; the ledger is written by the
   * function returned, which runs at start, or on the router's loop for a reload.
   */
  const seed = async (m: ModelConfig): Promise<() => void> => {
    const remembered = rememberedNeed(state, m.id, keyOf(m), m.cmd);
    if (remembered) {
      return () => {
        ledger.declare(m.id, m.memory);
        ledger.measure({ model: m.id, perDevice: remembered.perDevice, method: "rss", at: 0 });
        log.info(`fit: ${m.id} remembered at ${Object.entries(remembered.perDevice).map(([d, b]) => `${formatSize(b)} on ${d}`).join(" + ")}`);
      };
    }
    if (m.memory) return () => ledger.declare(m.id, m.memory);
    // A first guess from the GGUF header: the GPU share when there are GPUs (weights in RAM are
    // mapped pages), else the whole; a model kept off the GPUs (-ngl 0) needs its whole in RAM.
    const guess = await guessGgufNeed(m.cmd, { env: m.env, gpuIds: gpus.slice(0, 1) });
    return () => {
      ledger.declare(m.id, null);
      if (!guess.need) {
        ledger.guess(m.id, null);
        log.info(`fit: ${m.id} has no memory figure (${guess.reason}); placed as needing nothing until it is measured after its first load`);
        return;
      }
      const whole = Object.values(guess.need.perDevice).reduce((a, b) => a + b, 0);
      const onGpu = gpus.length > 0 ? (guess.need.perDevice[gpus[0]] ?? 0) : 0;
      if (gpus.length > 0 && onGpu === 0 && whole > 0 && hasCpu) {
        ledger.guess(m.id, { cpu: whole });
        log.info(`fit: ${m.id} guessed at ${formatSize(whole)} in RAM (no layers on a GPU) from ${guess.path}`);
        return;
      }
      const bytes = gpus.length > 0 ? onGpu : whole;
      ledger.guess(m.id, bytes);
      log.info(`fit: ${m.id} guessed at ${formatSize(bytes)} from ${guess.path}`);
    };
  };
  for (const m of Object.values(config.models)) (await seed(m))();

  let saving = Promise.resolve();
  /** GPU readings taken when a model started loading (for the device delta). */
  const before = new Map<string, Promise<Device[]>>();
  const remember = (model: string, m: Measurement): void => {
    if (!statePath) return;
    const mc = config.models[model];
    if (!mc) return;
    state = rememberNeed(state, model, keyOf(mc), { perDevice: m.perDevice, source: "measured" }, m.at);
    const snapshot = state;
    saving = saving.then(async () => {
      const warning = await writeMemoryStateFile(statePath, snapshot);
      if (warning) log.warn(`fit: ${warning}`);
    });
  };

  return {
    deps: { devices: () => devices, ledger },
    lines,
    starting(id) {
      // Only with detected GPUs (declared ones cannot be read) and only one load at a time would be exact;
      // concurrent loads make the delta an upper bound, which the plan can live with.
      if (!devices.some((d) => d.kind === "gpu" && d.source !== "declared")) return;
      before.set(id, detectDevices({ run: o.run, procRoot: o.procRoot }).then((r) => r.devices));
    },
    measure(id, sup, record) {
      const pgid = sup.pid;
      if (pgid === null) return;
      const placedGpus = sup.placement?.gpus ?? [];
      measureGroup({ model: id, pgid, devices, run: o.run, procRoot: o.procRoot })
        .then(async (m) => {
          // A backend outside our process group (a container) shows no GPU memory of its own: use the device delta.
          const prior = before.get(id);
          before.delete(id);
          const gpuSeen = Object.entries(m.perDevice).some(([d, b]) => d !== "cpu" && b > 0);
          if (!gpuSeen && prior && placedGpus.length > 0) {
            const after = (await detectDevices({ run: o.run, procRoot: o.procRoot })).devices;
            const delta = deviceDelta(id, await prior, after, Date.now());
            if (Object.keys(delta.perDevice).some((d) => d !== "cpu")) return { ...delta, perDevice: Object.fromEntries(Object.entries(delta.perDevice).filter(([d]) => d !== "cpu")), gpusRead: true };
          }
          return m;
        })
        .then(({ gpusRead, ...m }) => {
          const onGpu = Object.entries(m.perDevice).some(([d, b]) => d !== "cpu" && b > 0);
          let perDevice: Record<string, number>;
          if (sup.placement && placedGpus.length === 0) {
            // Placed on the CPU: its RAM is what it needs; GPU memory it holds anyway
            // (a CUDA build at -ngl 0, a GPU its env names) is kept per device beside it.
            perDevice = Object.fromEntries(Object.entries(m.perDevice).filter(([d, b]) => d === "cpu" || b > 0));
          } else if (onGpu || placedGpus.length === 0) {
            // A GPU-placed model's RSS is mostly mapped weights: only its GPU figures count (unplaced: all of it).
            perDevice = onGpu ? Object.fromEntries(Object.entries(m.perDevice).filter(([d]) => d !== "cpu")) : m.perDevice;
          } else if (gpusRead) {
            // nvidia-smi answered and none of its processes holds GPU memory (nor did the GPUs' use
            // grow): a RAM-only backend placed on a GPU. Its RAM is what it needs.
            perDevice = { cpu: m.perDevice.cpu ?? 0 };
            log.info(`fit: ${id} runs on GPU ${placedGpus.join(",")} but holds no GPU memory; filed as ${formatSize(perDevice.cpu)} in RAM`);
          } else {
            // Its GPU memory could not be read (declared devices, AMD, a failing nvidia-smi): the
            // RSS alone would take it off the GPU's books. Keep the figure it has.
            log.info(`fit: ${id} runs on GPU ${placedGpus.join(",")}, whose memory use cannot be read here; its figure stays as it was`);
            return;
          }
          const measured = { ...m, perDevice };
          record(measured);
          remember(id, measured);
        })
        .catch((err: unknown) => log.warn(`fit: measuring ${id} failed: ${(err as Error)?.message ?? err}`));
    },
    async prepareReload(next) {
      const prev = config;
      // What a model's figures come from: its command (the state file, the GGUF path), env and memory:.
      const changed = Object.values(next.models).filter((m) => {
        const was = prev.models[m.id];
        return !was || !sameValue(was.cmd, m.cmd) || !sameValue(was.memory, m.memory) || !sameValue(was.env, m.env);
      });
      const seeds = await Promise.all(
        changed.map(async (m) => {
          const apply = await seed(m);
          const cmdChanged = prev.models[m.id] !== undefined && !sameValue(prev.models[m.id]?.cmd, m.cmd);
          return () => {
            // A new command is a new process: what the old one measured does not carry over. But the
            // old process may still drain and hold its memory: the ledger keeps reporting its figure
            // (to the plans of other models, /running) until the model next starts.
            if (cmdChanged) {
              ledger.hold(m.id);
              ledger.forget(m.id);
            }
            apply();
          };
        }),
      );
      if (!sameValue(prev.routing.fit, next.routing.fit)) {
        log.warn("fit: devices, reserves and the state file are read at start; the change takes effect at the next start");
      }
      return () => {
        config = next;
        for (const apply of seeds) apply();
      };
    },
  };
}
