/**
 * The scheduler's `Effects`, carried out on the model supervisors: swaps and stops run outside the
 * loop and post their results back as events; grants resolve the waiting acquires; severs abort
 * the grants' signals; one timer. Nothing here decides anything: the scheduler did.
 */
import type { Logger } from "../log/types.ts";
import type { ObserveEvent } from "../observe/events.ts";
import { StartError, type ProcessState, type Supervisor } from "../process/types.ts";
import { MAX_TIMER_MS } from "../process/abortable-sleep.ts";
import type { LoopEvent } from "./loop.ts";
import type { Effects, RouteRequest, SwapOrder, SwapOutcome } from "./seams.ts";
import { cancelledBy, RouteError, type Grant, type WaitUpdate } from "./types.ts";

/** An acquire waiting for the scheduler's decision (the facade adds it, a grant or refusal takes it). */
export interface PendingAcquire {
  req: RouteRequest;
  signal: AbortSignal;
  onUpdate: ((u: WaitUpdate) => void) | undefined;
  resolve: (g: Grant) => void;
  reject: (e: RouteError) => void;
  /**
   * Start hearing the client's signal (its abort becomes a cancel event). Called when the request
   * is first told it waits (queued or loading): one granted at once never needs the listener, and
   * its abort before the grant is seen by grantServe (issue 16: a listener per request costs).
   */
  listen: () => void;
  /** Stop listening to the client's signal. */
  unlisten: () => void;
}

/** What the effects act on. */
export interface SupervisorEffectsOptions {
  supervisors: ReadonlyMap<string, Supervisor>;
  /** Acquires waiting for a decision, by request id (owned by the facade). */
  acquires: Map<number, PendingAcquire>;
  /** Post an event to the run loop. */
  post(ev: LoopEvent): void;
  /** An unload or shutdown ticket is answered. */
  ticketDone(ticket: number): void;
  /** Where observations go (default: nowhere). Must not block. */
  observe?(event: ObserveEvent): void;
  /** How long a model's stop may take before SIGKILL. */
  unloadTimeoutMs(model: string): number;
  /** Config reload: put `model`'s new supervisor in place (its old one is stopped). */
  replaceModel(model: string): void;
  /** Config reload: drop `model`'s supervisor (removed, stopped). */
  retireModel(model: string): void;
  log: Logger;
  now(): number;
}

/** Effects plus what the facade needs at shutdown. */
export interface SupervisorEffects extends Effects {
  /** Cancel the timer. */
  dispose(): void;
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
const why = (err: unknown): string => String((err as Error)?.message ?? err);

/** Out-of-memory words of llama.cpp (CUDA, ROCm, Metal, CPU), PyTorch/vLLM and the C++ runtime. */
const OOM = /out of memory|cudaMalloc failed|failed to allocate|unable to allocate|std::bad_alloc|cannot allocate memory|OutOfMemoryError|hipErrorOutOfMemory|ErrorOutOfDeviceMemory/i;

/** Whether a failed start died of memory: its output says so, or the kernel's OOM killer sent SIGKILL. */
export function diedOfMemory(err: unknown): boolean {
  if (!(err instanceof StartError)) return false;
  return err.lastLines.some((l) => OOM.test(l)) || OOM.test(err.message) || (err.kind === "exited" && err.signal === "SIGKILL");
}

/** Create the Effects over the given supervisors. */
export function createSupervisorEffects(o: SupervisorEffectsOptions): SupervisorEffects {
  const { supervisors, acquires, post, log, now } = o;
  /**
   * Sever handles of the grants in flight, by request id: not a count (the scheduler's in-flight
   * set is the only one); what `sever` needs to cut a request the scheduler gave up on.
   */
  const severHandles = new Map<number, AbortController>();
  /** Whether anybody still waits on a swap under way (the scheduler says so through setSwapWanted). */
  const swapWanted = new Map<number, boolean>();
  let timer: ReturnType<typeof setTimeout> | null = null;

  const sup = (m: string): Supervisor => {
    const s = supervisors.get(m);
    if (!s) throw new Error(`router: no supervisor for ${m}`);
    return s;
  };

  /** Take the acquire out of the table; it is resolved by the caller. */
  const take = (id: number): PendingAcquire | undefined => {
    const p = acquires.get(id);
    if (!p) return undefined;
    acquires.delete(id);
    p.unlisten();
    return p;
  };

  /** Stop the evictees, then start the target; the outcome goes back to the loop. */
  async function runSwap(order: SwapOrder): Promise<void> {
    const { id, target, evict } = order;
    const finish = (outcome: SwapOutcome): void => {
      swapWanted.delete(id);
      post({ type: "swap-done", swapId: id, outcome });
    };
    const abandoned = (): void => {
      log.info(`swap: nobody waits for ${target} any more; not loading it`);
      finish({ kind: "abandoned" });
    };
    try {
      // Every waiter may have left before anything was stopped (its cancel event may still be
      // queued behind the event that started this swap): then nothing is stopped or started.
      const gone = order.requests.every((r) => acquires.get(r)?.signal.aborted ?? true);
      if (!swapWanted.get(id) || gone) return abandoned();
      log.info(evict.length > 0 ? `swap: loading ${target}, stopping ${evict.join(", ")}` : `swap: loading ${target}`);
      await Promise.all(evict.map((m) => sup(m).stop(o.unloadTimeoutMs(m)).catch((err: unknown) => log.warn(`swap: stopping ${m} failed: ${why(err)}`))));
      if (!swapWanted.get(id)) return abandoned();
      await sup(target).start(order.placement);
      finish({ kind: "ready" });
    } catch (err) {
      const error = startFailure(target, err);
      log.error(`swap: ${error.message}`);
      finish({ kind: "failed", error, ...(diedOfMemory(err) ? { outOfMemory: true } : {}) });
    }
  }

  return {
    modelState: (m) => supervisors.get(m)?.state ?? null,
    runningModels() {
      // One pass, no intermediate array: the router asks on every routed request.
      const out: string[] = [];
      for (const [m, s] of supervisors) if (!STOPPED.has(s.state)) out.push(m);
      return out;
    },
    startSwap(order) {
      swapWanted.set(order.id, true);
      void runSwap(order);
    },
    setSwapWanted(swapId, wanted) {
      if (swapWanted.has(swapId)) swapWanted.set(swapId, wanted);
    },
    grantServe(req, model) {
      const p = take(req.id);
      if (!p) return false;
      if (p.signal.aborted) {
        p.reject(cancelledBy(p.signal));
        return false;
      }
      const severed = new AbortController();
      severHandles.set(req.id, severed);
      let doneCalled = false;
      p.resolve({
        model,
        baseUrl: sup(model).baseUrl.replace(/\/+$/, ""),
        severed: severed.signal,
        sever: (reason) => severed.abort(reason),
        done() {
          if (doneCalled) return;
          doneCalled = true;
          severHandles.delete(req.id);
          post({ type: "serve-done", id: req.id });
        },
      });
      return true;
    },
    grantError(req, error) {
      const p = take(req.id);
      // The scheduler knows only that the signal aborted; the signal knows who aborted it.
      p?.reject(error.kind === "cancelled" && p.signal.aborted ? cancelledBy(p.signal) : error);
    },
    publish(req, update) {
      const p = acquires.get(req.id);
      if (!p) return;
      p.listen();
      if (!p.onUpdate) return;
      try {
        p.onUpdate(update);
      } catch (err) {
        log.warn(`router: an onUpdate listener threw: ${why(err)}`);
      }
    },
    modelBusy(model, busy) {
      sup(model).setBusy(busy);
    },
    sever(model, reqs, error) {
      for (const r of reqs) {
        const h = severHandles.get(r.id);
        if (!h) continue;
        severHandles.delete(r.id);
        h.abort(error);
      }
      log.warn(`drain: ${model} did not finish in time; severed ${reqs.length} request(s) in flight (${error.message})`);
    },
    stopModels(ms, reason) {
      log.info(`${reason === "shutdown" ? "shutdown" : "unload"}: stopping ${ms.join(", ")}`);
      for (const m of ms) {
        const s = sup(m);
        const stopping = reason === "shutdown" ? s.shutdown(o.unloadTimeoutMs(m)) : s.stop(o.unloadTimeoutMs(m));
        stopping.catch((err: unknown) => log.warn(`${reason}: stopping ${m} failed: ${why(err)}`)).finally(() => post({ type: "unload-done", model: m }));
      }
    },
    unloadFinished: (ticket) => o.ticketDone(ticket),
    observe: o.observe ?? (() => {}),
    setTimer(atMs) {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      if (atMs === null) return;
      timer = setTimeout(
        () => {
          timer = null;
          post({ type: "timer" });
        },
        // Capped at a timer's reach (a longer delay fires at once and would spin): an early timer
        // event only makes the loop look again and set the next one.
        Math.min(MAX_TIMER_MS, Math.max(0, atMs - now())),
      );
    },
    now,
    replaceModel: (m) => o.replaceModel(m),
    abortStart(m) {
      log.info(`config reload: ${m} was removed while it loaded; stopping the load`);
      sup(m).stop(o.unloadTimeoutMs(m)).catch((err: unknown) => log.warn(`stopping ${m} failed: ${why(err)}`));
    },
    retireModel: (m) => o.retireModel(m),
    dispose() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
