/**
 * The router: the run loop, a scheduler (fifo or serial) with its swapper (group or matrix), and
 * `Effects` implemented over the model supervisors. `acquire` turns a request into an event and
 * waits for the scheduler's decision; swaps and stops run outside the loop and post their results
 * back; supervisor TTL and crash signals become events too, so nothing races the loop.
 */
import type { Config } from "../config/types.ts";
import type { Logger } from "../log/types.ts";
import { StartError, type ProcessState, type Supervisor } from "../process/types.ts";
import { createChannel } from "./channel.ts";
import { createFifo } from "./fifo.ts";
import { createLoop, type LoopEvent } from "./loop.ts";
import type { Effects, RouteRequest, Scheduler, SwapOrder, SwapOutcome, Swapper } from "./scheduler.ts";
import { createSerial } from "./serial.ts";
import { schedulerSettings } from "./settings.ts";
import { createGroupSwapper } from "./swappers/group.ts";
import { createMatrixSwapper } from "./swappers/matrix.ts";
import { RouteError, type AcquireOptions, type Grant, type ModelStatus, type Router, type WaitUpdate } from "./types.ts";

/** What the router is built from. */
export interface RouterOptions {
  config: Config;
  /** One supervisor per model this router handles, keyed by model ID. */
  supervisors: ReadonlyMap<string, Supervisor>;
  log: Logger;
  /** Clock (epoch ms); default Date.now. */
  now?: () => number;
}

/** The Router contract plus a hook for tests and diagnostics. */
export interface SwitchyardRouter extends Router {
  /** Resolves once the run loop has handled every event posted so far. */
  settled(): Promise<void>;
}

/** An acquire waiting for the scheduler's decision. */
interface Pending {
  req: RouteRequest;
  signal: AbortSignal;
  onUpdate: ((u: WaitUpdate) => void) | undefined;
  resolve: (g: Grant) => void;
  reject: (e: RouteError) => void;
  unlisten: () => void;
}

/** A grant in flight: what a sever needs. */
interface LiveGrant {
  severed: AbortController;
  end: () => void;
}

/** The eviction policy the config asks for. */
export function swapperFor(config: Config, log: Logger): Swapper {
  const matrix = config.routing.router === "matrix" ? config.routing.matrix : null;
  if (matrix) return createMatrixSwapper({ sets: matrix.expanded, evictCosts: matrix.costById, log });
  return createGroupSwapper(config.routing.groups);
}

/** A start failure as the client should see it: the reason and the last lines of output. */
export function startFailure(model: string, err: unknown): RouteError {
  if (!(err instanceof StartError)) {
    return new RouteError("start_failed", `model ${model} could not start: ${(err as Error)?.message ?? String(err)}`);
  }
  const kind = err.kind === "timeout" ? "health_timeout" : err.kind === "shutdown" ? "shutting_down" : "start_failed";
  const tail = err.lastLines.length > 0 ? `\nlast output:\n${err.lastLines.join("\n")}` : "";
  return new RouteError(kind, `model ${model} could not start: ${err.message}${tail}`);
}

const STOPPED: ReadonlySet<ProcessState> = new Set(["stopped", "shutdown"]);

/** Create the router over the given supervisors. */
export function createRouter(opts: RouterOptions): SwitchyardRouter {
  const { config, supervisors, log } = opts;
  const now = opts.now ?? Date.now;
  const models = [...supervisors.keys()];
  const channel = createChannel<LoopEvent>();
  const pending = new Map<number, Pending>();
  const grants = new Map<number, LiveGrant>();
  const swapWanted = new Map<number, boolean>();
  const ticketWaiters = new Map<number, () => void>();
  let nextId = 1;
  let nextTicket = 1;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let shutdownPromise: Promise<void> | null = null;

  const unloadMs = (m: string): number => Math.max(0, config.models[m]?.unloadTimeout ?? config.unloadTimeout) * 1000;
  const sup = (m: string): Supervisor => {
    const s = supervisors.get(m);
    if (!s) throw new Error(`router: no supervisor for ${m}`);
    return s;
  };
  const post = (ev: LoopEvent): void => channel.push(ev);

  async function runSwap(order: SwapOrder): Promise<void> {
    const { id, target, evict } = order;
    const finish = (outcome: SwapOutcome): void => {
      swapWanted.delete(id);
      post({ type: "swap-done", swapId: id, outcome });
    };
    try {
      // Every waiter may have left before anything was stopped (its cancel event may still be
      // queued behind the event that started this swap): then nothing is stopped or started.
      const gone = order.requests.every((r) => pending.get(r)?.signal.aborted ?? true);
      if (!swapWanted.get(id) || gone) {
        log.info(`swap: nobody waits for ${target} any more; not loading it`);
        return finish({ kind: "abandoned" });
      }
      log.info(evict.length > 0 ? `swap: loading ${target}, stopping ${evict.join(", ")}` : `swap: loading ${target}`);
      await Promise.all(
        evict.map((m) =>
          sup(m)
            .stop(unloadMs(m))
            .catch((err: unknown) => log.warn(`swap: stopping ${m} failed: ${(err as Error)?.message ?? err}`)),
        ),
      );
      if (!swapWanted.get(id)) {
        log.info(`swap: nobody waits for ${target} any more; not loading it`);
        return finish({ kind: "abandoned" });
      }
      await sup(target).start();
      finish({ kind: "ready" });
    } catch (err) {
      const error = startFailure(target, err);
      log.error(`swap: ${error.message}`);
      finish({ kind: "failed", error });
    }
  }

  const effects: Effects = {
    modelState: (m) => supervisors.get(m)?.state ?? null,
    runningModels: () => models.filter((m) => !STOPPED.has(sup(m).state)),
    startSwap(order) {
      swapWanted.set(order.id, true);
      void runSwap(order);
    },
    setSwapWanted(swapId, wanted) {
      if (swapWanted.has(swapId)) swapWanted.set(swapId, wanted);
    },
    grantServe(req, model) {
      const p = pending.get(req.id);
      if (!p) return false;
      pending.delete(req.id);
      p.unlisten();
      if (p.signal.aborted) {
        p.reject(new RouteError("cancelled", "the client went away"));
        return false;
      }
      const s = sup(model);
      const severed = new AbortController();
      let ended = false;
      let doneCalled = false;
      const end = (): void => {
        if (ended) return;
        ended = true;
        s.requestEnded();
      };
      s.requestStarted();
      grants.set(req.id, { severed, end });
      p.resolve({
        model,
        baseUrl: s.baseUrl.replace(/\/+$/, ""),
        severed: severed.signal,
        done() {
          if (doneCalled) return;
          doneCalled = true;
          grants.delete(req.id);
          end();
          post({ type: "serve-done", id: req.id });
        },
      });
      return true;
    },
    grantError(req, error) {
      const p = pending.get(req.id);
      if (!p) return;
      pending.delete(req.id);
      p.unlisten();
      p.reject(error);
    },
    publish(req, update) {
      const p = pending.get(req.id);
      if (!p?.onUpdate) return;
      try {
        p.onUpdate(update);
      } catch (err) {
        log.warn(`router: an onUpdate listener threw: ${(err as Error)?.message ?? err}`);
      }
    },
    sever(model, reqs, error) {
      for (const r of reqs) {
        const g = grants.get(r.id);
        if (!g) continue;
        grants.delete(r.id);
        g.end();
        g.severed.abort(error);
      }
      log.warn(`drain: ${model} did not finish in time; severed ${reqs.length} request(s) in flight (${error.message})`);
    },
    stopModels(ms, reason) {
      log.info(`${reason === "shutdown" ? "shutdown" : "unload"}: stopping ${ms.join(", ")}`);
      for (const m of ms) {
        const s = sup(m);
        const stopping = reason === "shutdown" ? s.shutdown(unloadMs(m)) : s.stop(unloadMs(m));
        stopping
          .catch((err: unknown) => log.warn(`${reason}: stopping ${m} failed: ${(err as Error)?.message ?? err}`))
          .finally(() => post({ type: "unload-done", model: m }));
      }
    },
    unloadFinished(ticket) {
      const w = ticketWaiters.get(ticket);
      if (!w) return;
      ticketWaiters.delete(ticket);
      w();
    },
    setTimer(atMs) {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      if (atMs === null) return;
      timer = setTimeout(
        () => {
          timer = null;
          post({ type: "timer" });
        },
        Math.max(0, atMs - now()),
      );
    },
    now,
  };

  const settings = schedulerSettings(config, models);
  const scheduler: Scheduler =
    config.routing.scheduler === "serial"
      ? createSerial(settings, effects)
      : createFifo(settings, swapperFor(config, log), effects);
  const loop = createLoop(channel, scheduler, (err, ev) =>
    log.error(`router: handling a ${ev.type} event failed: ${(err as Error)?.stack ?? err}`),
  );

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

  const ticket = (make: (id: number) => LoopEvent): Promise<void> =>
    new Promise<void>((resolve) => {
      const id = nextTicket++;
      ticketWaiters.set(id, resolve);
      post(make(id));
    });

  return {
    acquire(model: string, o: AcquireOptions): Promise<Grant> {
      if (o.signal.aborted) return Promise.reject(new RouteError("cancelled", "the client went away"));
      return new Promise<Grant>((resolve, reject) => {
        const req: RouteRequest = { id: nextId++, model, arrivedAt: now() };
        const onAbort = (): void => post({ type: "cancel", id: req.id });
        o.signal.addEventListener("abort", onAbort, { once: true });
        pending.set(req.id, {
          req,
          signal: o.signal,
          onUpdate: o.onUpdate,
          resolve,
          reject,
          unlisten: () => o.signal.removeEventListener("abort", onAbort),
        });
        post({ type: "request", req });
      });
    },
    unload(ms?: string[]): Promise<void> {
      return ticket((id) => ({ type: "unload", order: { id, models: ms ?? null, onlyIfIdle: false } }));
    },
    shutdown(): Promise<void> {
      shutdownPromise ??= ticket((id) => ({ type: "shutdown", ticket: id })).then(() => {
        for (const u of unsubscribe) u();
        if (timer !== null) clearTimeout(timer);
        timer = null;
      });
      return shutdownPromise;
    },
    status(): ModelStatus[] {
      return models.map((m) => ({ model: m, state: sup(m).state, ...scheduler.routing(m) }));
    },
    settled: () => loop.settled(),
  };
}
