/**
 * The router's facade, what HTTP and the CLI call: `acquire` turns a request into an event on the
 * run loop's channel and waits for the scheduler's decision; `unload` and `shutdown` are tickets
 * the loop answers once the models are stopped. It assembles the parts: channel → loop →
 * scheduler (fifo or serial, with its swapper) → Effects over the supervisors
 * (`supervisor-effects.ts`). Supervisor TTL and crash signals become events too, so nothing
 * races the loop.
 */
import type { Config } from "../config/types.ts";
import type { Logger } from "../log/types.ts";
import type { ObserveEvent } from "../observe/events.ts";
import type { Supervisor } from "../process/types.ts";
import { createChannel } from "./channel.ts";
import { fifoPolicy } from "./fifo.ts";
import { createLoop, type LoopEvent } from "./loop.ts";
import { createSchedulerCore, type ReconfigurableScheduler } from "./scheduler-core.ts";
import type { Policy } from "./scheduler-state.ts";
import type { Effects, RouteRequest, SchedulerSettings } from "./seams.ts";
import { serialPolicy } from "./serial.ts";
import { schedulerSettings } from "./settings.ts";
import { createSupervisorEffects, type PendingAcquire } from "./supervisor-effects.ts";
import { formatSize } from "../config/size.ts";
import { createMemoryLedger } from "../placement/memory-ledger.ts";
import { memoryStatus } from "../placement/memory-status.ts";
import { relieve } from "../placement/fit.ts";
import type { Measurement, Need } from "../placement/types.ts";
import { declaredDevices, swapperFor, type PlacementDeps } from "./swappers/swapper-for.ts";
import { cancelledBy, type AcquireOptions, type Grant, type ModelStatus, type Router } from "./types.ts";

/** What the router is built from. */
export interface RouterOptions {
  config: Config;
  /**
   * One supervisor per model this router handles, keyed by model ID. A config reload changes
   * this map (adds, replaces, removes), so whoever shares it sees the current supervisors.
   */
  supervisors: Map<string, Supervisor>;
  log: Logger;
  /** Clock (epoch ms); default Date.now. */
  now?: () => number;
  /** Where the loop's observations go (a broadcast that never blocks); default nowhere. */
  observe?: (event: ObserveEvent) => void;
  /** Devices and the ledger of sizes for `routing.router.use: fit` (default: the declared devices and an empty ledger). */
  placement?: PlacementDeps;
}

/** A validated config reload as the router applies it (the models' diff was computed outside). */
export interface RouterReload {
  config: Config;
  /** Supervisors of the new models, and the replacements of the restarted ones (not started). */
  supervisors: ReadonlyMap<string, Supervisor>;
  added: readonly string[];
  removed: readonly string[];
  restarted: readonly string[];
  /** New `ttl`s (seconds) of models whose process stays: set on the running supervisor and on a replacement waiting its turn. */
  ttls?: ReadonlyMap<string, number>;
  /** Runs on the loop in the same step as the switch (the HTTP layer switches its config here). */
  onApplied?(): void;
}

/** The Router contract plus config reloads and a hook for tests and diagnostics. */
export interface SwitchyardRouter extends Router {
  /** Resolves once the run loop has handled every event posted so far. */
  settled(): Promise<void>;
  /**
   * Switch to a new config in one step on the loop: routing, scheduler, limits and drain
   * timeouts at once; new models routable at once; removed ones refuse their waiters and drain;
   * restarted ones drain and start with their new supervisor on their next request. Resolves
   * once the switch is made (the drains run on).
   */
  reconfigure(change: RouterReload): Promise<void>;
  /** Record a model's measured memory in the fit router's ledger, on the loop (then the queue is re-examined). */
  recordMemory(m: Measurement): void;
  /** The fit router's devices and ledger (read-only use outside the loop: status pages). */
  readonly placement: PlacementDeps;
}

/** The scheduling policy the config asks for: serial, or fifo over the config's swapper. */
export function policyFor(config: Config, settings: SchedulerSettings, log: Logger, placement?: PlacementDeps): Policy {
  return config.routing.scheduler === "serial" ? serialPolicy() : fifoPolicy(swapperFor(config, log, placement), (m) => settings.priority(m));
}

/** The scheduler the config asks for, over `effects`. */
export function schedulerFor(config: Config, models: readonly string[], effects: Effects, log: Logger, placement?: PlacementDeps): ReconfigurableScheduler {
  const settings = schedulerSettings(config, models);
  return createSchedulerCore(settings, effects, policyFor(config, settings, log, placement));
}

/** Create the router over the given supervisors. */
export function createRouter(opts: RouterOptions): SwitchyardRouter {
  const { supervisors, log } = opts;
  let config = opts.config;
  const now = opts.now ?? Date.now;
  /** Supervisors waiting to replace a restarted model's current one (installed once it is stopped). */
  const replacements = new Map<string, Supervisor>();
  const channel = createChannel<LoopEvent>();
  // A request or a finished serve is handled at once when nothing is ahead of it (no promise hop
  // through the channel); every other event, and any that finds the loop busy, goes through it.
  const post = (ev: LoopEvent): void => {
    if ((ev.type === "request" || ev.type === "serve-done") && loop.handleNow(ev)) return;
    channel.push(ev);
  };
  const acquires = new Map<number, PendingAcquire>();
  const ticketWaiters = new Map<number, () => void>();
  let nextId = 1;
  let nextTicket = 1;
  let shutdownPromise: Promise<void> | null = null;

  const effects = createSupervisorEffects({
    supervisors,
    acquires,
    post,
    log,
    now,
    observe: opts.observe,
    unloadTimeoutMs: (m) => Math.max(0, config.models[m]?.unloadTimeout ?? config.unloadTimeout) * 1000,
    replaceModel(m) {
      const next = replacements.get(m);
      if (!next) return;
      replacements.delete(m);
      install(m, next);
      log.info(`config reload: ${m} will start with its new settings`);
    },
    retireModel(m) {
      unsubscribe.get(m)?.();
      unsubscribe.delete(m);
      supervisors.delete(m);
      log.info(`config reload: ${m} removed`);
    },
    ticketDone(ticket) {
      const w = ticketWaiters.get(ticket);
      ticketWaiters.delete(ticket);
      w?.();
    },
  });
  const placement: PlacementDeps = opts.placement ?? { devices: () => declaredDevices(config), ledger: createMemoryLedger() };
  const scheduler = schedulerFor(config, [...supervisors.keys()], effects, log, placement);
  const loop = createLoop(channel, scheduler, (err, ev) => log.error(`router: handling a ${ev.type} event failed: ${(err as Error)?.stack ?? err}`));

  /** Each supervisor's TTL and crash signals become loop events. */
  const unsubscribe = new Map<string, () => void>();
  const listen = (s: Supervisor): (() => void) =>
    s.subscribe((ev) => {
      if (ev.type === "idle") {
        // Only a signal: the loop unloads the model if it is still idle when it gets there.
        post({ type: "unload", order: { id: nextTicket++, models: [ev.model], onlyIfIdle: true } });
      } else if (ev.type === "crash") {
        post({ type: "state-change", model: ev.model });
      }
    });
  /** Make `s` the supervisor of `m` (replacing any, which must be stopped). */
  function install(m: string, s: Supervisor): void {
    unsubscribe.get(m)?.();
    supervisors.set(m, s);
    unsubscribe.set(m, listen(s));
  }
  for (const [m, s] of supervisors) unsubscribe.set(m, listen(s));

  /** Post an event carrying a fresh ticket; resolves when the loop answers it. */
  const ticket = (make: (id: number) => LoopEvent): Promise<void> =>
    new Promise<void>((resolve) => {
      const id = nextTicket++;
      ticketWaiters.set(id, resolve);
      post(make(id));
    });

  return {
    acquire(model: string, o: AcquireOptions): Promise<Grant> {
      if (o.signal.aborted) return Promise.reject(cancelledBy(o.signal));
      return new Promise<Grant>((resolve, reject) => {
        const req: RouteRequest = { id: nextId++, model, arrivedAt: now() };
        const onAbort = (): void => post({ type: "cancel", id: req.id });
        let listening = false;
        acquires.set(req.id, {
          req,
          signal: o.signal,
          onUpdate: o.onUpdate,
          resolve,
          reject,
          // Only once the request waits (see PendingAcquire.listen); an abort before that is caught here.
          listen() {
            if (listening) return;
            listening = true;
            if (o.signal.aborted) onAbort();
            else o.signal.addEventListener("abort", onAbort, { once: true });
          },
          unlisten: () => {
            if (listening) o.signal.removeEventListener("abort", onAbort);
          },
        });
        post({ type: "request", req });
      });
    },
    unload(ms?: string[]): Promise<void> {
      return ticket((id) => ({ type: "unload", order: { id, models: ms ?? null, onlyIfIdle: false } }));
    },
    shutdown(): Promise<void> {
      shutdownPromise ??= ticket((id) => ({ type: "shutdown", ticket: id })).then(() => {
        for (const u of unsubscribe.values()) u();
        effects.dispose();
      });
      return shutdownPromise;
    },
    status(): ModelStatus[] {
      return [...supervisors].map(([m, s]) => ({ model: m, state: s.state, ...scheduler.routing(m) }));
    },
    settled: () => loop.settled(),
    placement,
    memory() {
      if (config.routing.router !== "fit") return null;
      const running = [...supervisors].filter(([, s]) => s.state === "starting" || s.state === "ready" || s.state === "stopping").map(([m]) => m);
      return memoryStatus(placement.devices(), [...supervisors.keys()], running, { need: (m) => placement.ledger.need(m), placedOn: (m) => placement.ledger.placedOn(m) });
    },
    recordMemory(m) {
      post({
        type: "memory",
        model: m.model,
        apply() {
          const change = placement.ledger.measure(m);
          const now_ = placement.ledger.need(m.model);
          const bytes = (now_.any ?? 0) + Object.values(now_.perDevice).reduce((a, b) => a + b, 0);
          opts.observe?.({ type: "memory", model: m.model, perDevice: { ...m.perDevice }, bytes, source: now_.source, method: m.method, raised: change?.raised ?? false, at: now() });
          if (change?.raised) log.warn(`fit: ${m.model} uses ${describeNeed(change.after)} (measured, ${m.method}), more than the ${change.before.source} ${describeNeed(change.before)}; planning with the measurement`);
          else if (change) log.info(`fit: ${m.model} measured at ${describeNeed(change.after)} (${m.method})`);
          if (!change?.raised || config.routing.router !== "fit") return;
          // Reality wins: a device now over its budget gets room back from idle residents (least recently used first).
          const running = [...supervisors].filter(([, s]) => s.state === "starting" || s.state === "ready").map(([id]) => id);
          const victims = relieve(running, placement.devices(), {
            need: (id) => placement.ledger.need(id),
            persistent: (id) => config.models[id]?.persistent ?? false,
            priority: () => 0,
            inFlight: (id) => {
              const r = scheduler.routing(id);
              return r.inFlight + r.queued;
            },
            lastUsed: (id) => scheduler.lastUsed?.(id) ?? 0,
            placedOn: (id) => placement.ledger.placedOn(id),
          }, m.model);
          if (victims.length > 0) {
            log.warn(`fit: over budget after measuring ${m.model}; unloading idle ${victims.join(", ")}`);
            post({ type: "unload", order: { id: nextTicket++, models: victims, onlyIfIdle: true } });
          }
        },
      });
    },
    reconfigure(change) {
      return new Promise<void>((resolve) => {
        post({
          type: "reconfigure",
          apply() {
            config = change.config;
            for (const m of change.added) {
              const s = change.supervisors.get(m);
              if (!s) continue;
              // Removed by an earlier reload and not retired yet: its old process may still drain or
              // stop, so the new supervisor waits its turn like a restart's (the scheduler swaps it in).
              if (supervisors.has(m)) replacements.set(m, s);
              else install(m, s);
            }
            for (const m of change.removed) replacements.delete(m);
            for (const m of change.restarted) {
              const s = change.supervisors.get(m);
              if (s) replacements.set(m, s);
            }
            for (const [m, ttl] of change.ttls ?? []) {
              supervisors.get(m)?.setTtl(ttl);
              replacements.get(m)?.setTtl(ttl);
            }
            const models = [...new Set([...Object.keys(change.config.models)])].filter((m) => supervisors.has(m));
            const settings = schedulerSettings(change.config, models);
            change.onApplied?.();
            scheduler.onReconfigure({ settings, policy: policyFor(change.config, settings, log, placement), added: change.added, removed: change.removed, restarted: change.restarted });
            resolve();
          },
        });
      });
    },
  };
}

/** A need for log lines: `6.00 GiB` or `4.00 GiB on GPU 0 + 4.00 GiB on GPU 1`. */
function describeNeed(n: Need): string {
  const parts = Object.entries(n.perDevice).map(([id, b]) => `${formatSize(b)} on ${id === "cpu" ? "cpu" : `GPU ${id}`}`);
  if (n.any !== undefined) parts.unshift(formatSize(n.any));
  return parts.join(" + ") || "nothing known";
}
