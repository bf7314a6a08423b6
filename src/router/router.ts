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
import { createFifo } from "./fifo.ts";
import { createLoop, type LoopEvent } from "./loop.ts";
import type { Effects, RouteRequest, Scheduler } from "./seams.ts";
import { createSerial } from "./serial.ts";
import { schedulerSettings } from "./settings.ts";
import { createSupervisorEffects, type PendingAcquire } from "./supervisor-effects.ts";
import { swapperFor } from "./swappers/swapper-for.ts";
import { cancelledBy, RouteError, type AcquireOptions, type Grant, type ModelStatus, type Router } from "./types.ts";

/** What the router is built from. */
export interface RouterOptions {
  config: Config;
  /** One supervisor per model this router handles, keyed by model ID. */
  supervisors: ReadonlyMap<string, Supervisor>;
  log: Logger;
  /** Clock (epoch ms); default Date.now. */
  now?: () => number;
  /** Where the loop's observations go (a broadcast that never blocks); default nowhere. */
  observe?: (event: ObserveEvent) => void;
}

/** The Router contract plus a hook for tests and diagnostics. */
export interface SwitchyardRouter extends Router {
  /** Resolves once the run loop has handled every event posted so far. */
  settled(): Promise<void>;
}

/** The scheduler the config asks for, over `effects`. */
export function schedulerFor(config: Config, models: readonly string[], effects: Effects, log: Logger): Scheduler {
  const settings = schedulerSettings(config, models);
  return config.routing.scheduler === "serial" ? createSerial(settings, effects) : createFifo(settings, swapperFor(config, log), effects);
}

/** Create the router over the given supervisors. */
export function createRouter(opts: RouterOptions): SwitchyardRouter {
  const { config, supervisors, log } = opts;
  const now = opts.now ?? Date.now;
  const models = [...supervisors.keys()];
  const channel = createChannel<LoopEvent>();
  const post = (ev: LoopEvent): void => channel.push(ev);
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
    ticketDone(ticket) {
      const w = ticketWaiters.get(ticket);
      ticketWaiters.delete(ticket);
      w?.();
    },
  });
  const scheduler = schedulerFor(config, models, effects, log);
  const loop = createLoop(channel, scheduler, (err, ev) => log.error(`router: handling a ${ev.type} event failed: ${(err as Error)?.stack ?? err}`));

  const unsubscribe = [...supervisors.values()].map((s) =>
    s.subscribe((ev) => {
      if (ev.type === "idle") {
        // Only a signal: the loop unloads the model if it is still idle when it gets there.
        post({ type: "unload", order: { id: nextTicket++, models: [ev.model], onlyIfIdle: true } });
      } else if (ev.type === "crash") {
        post({ type: "state-change", model: ev.model });
      }
    }),
  );

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
        o.signal.addEventListener("abort", onAbort, { once: true });
        acquires.set(req.id, { req, signal: o.signal, onUpdate: o.onUpdate, resolve, reject, unlisten: () => o.signal.removeEventListener("abort", onAbort) });
        post({ type: "request", req });
      });
    },
    unload(ms?: string[]): Promise<void> {
      return ticket((id) => ({ type: "unload", order: { id, models: ms ?? null, onlyIfIdle: false } }));
    },
    shutdown(): Promise<void> {
      shutdownPromise ??= ticket((id) => ({ type: "shutdown", ticket: id })).then(() => {
        for (const u of unsubscribe) u();
        effects.dispose();
      });
      return shutdownPromise;
    },
    status(): ModelStatus[] {
      return models.map((m) => ({ model: m, state: supervisors.get(m)!.state, ...scheduler.routing(m) }));
    },
    settled: () => loop.settled(),
  };
}
