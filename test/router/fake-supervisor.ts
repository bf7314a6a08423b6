/**
 * Test helpers for the router: an in-memory, promise-controlled Supervisor and a resolved Config
 * builder with defaults.
 */
import { baseConfig, baseModelConfig } from "../fixtures/model-config.ts";
import type { Config, GroupConfig, ModelConfig, RoutingConfig } from "../../src/config/types.ts";
import type { Logger } from "../../src/log/types.ts";
import { StartError, type ProcessState, type StartPlacement, type Supervisor, type SupervisorEvent } from "../../src/process/types.ts";

/** A supervisor whose start and stop the test completes by hand (or automatically). */
export class FakeSupervisor implements Supervisor {
  state: ProcessState = "stopped";
  readonly pid = null;
  readonly loadHistoryMs: number[] = [];
  /** The placement of the last start (the fit router's choice). */
  placement: StartPlacement | null = null;
  /** Resolve starts at once. */
  autoReady = false;
  /** Hold stops until `releaseStop()`. */
  holdStops = false;
  starts = 0;
  stops: number[] = [];
  shutdowns = 0;
  /** What the router last said through setBusy. */
  busy = false;
  /** Ordered record of calls, shared between supervisors when given the same array. */
  private start$: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | null = null;
  private stopGate: (() => void)[] = [];
  private listeners = new Set<(ev: SupervisorEvent) => void>();

  constructor(
    readonly model: string,
    readonly baseUrl: string,
    readonly journal: string[] = [],
  ) {}

  start(placement?: StartPlacement): Promise<void> {
    this.placement = placement ?? null;
    if (this.state === "shutdown") return Promise.reject(new StartError("shutdown", `[${this.model}] is shut down`));
    if (this.state === "ready") return Promise.resolve();
    if (this.start$) return this.start$.promise;
    this.starts++;
    this.journal.push(`start ${this.model}`);
    this.state = "starting";
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.start$ = { promise, resolve, reject };
    if (this.autoReady) queueMicrotask(() => this.ready());
    return promise;
  }

  /** Finish the pending start successfully. */
  ready(): void {
    const s = this.start$;
    if (!s) throw new Error(`${this.model}: no start pending`);
    this.start$ = null;
    this.state = "ready";
    s.resolve();
  }

  /** Fail the pending start. */
  fail(err: StartError): void {
    const s = this.start$;
    if (!s) throw new Error(`${this.model}: no start pending`);
    this.start$ = null;
    this.state = "stopped";
    s.reject(err);
  }

  async stop(timeoutMs: number): Promise<void> {
    this.stops.push(timeoutMs);
    this.journal.push(`stop ${this.model}`);
    if (this.start$) this.fail(new StartError("aborted", `[${this.model}] start aborted by a stop`));
    if (this.state !== "stopped" && this.state !== "shutdown") this.state = "stopping";
    if (this.holdStops) await new Promise<void>((r) => this.stopGate.push(r));
    if (this.state !== "shutdown") this.state = "stopped";
  }

  /** Let held stops finish. */
  releaseStop(): void {
    const gate = this.stopGate;
    this.stopGate = [];
    for (const g of gate) g();
  }

  async shutdown(timeoutMs: number): Promise<void> {
    this.shutdowns++;
    await this.stop(timeoutMs);
    this.state = "shutdown";
  }

  /** The TTL a reload set last, seconds. */
  ttl: number | null = null;
  setTtl(seconds: number): void {
    this.ttl = seconds;
  }
  setBusy(busy: boolean): void {
    this.busy = busy;
  }
  subscribe(listener: (ev: SupervisorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(ev: SupervisorEvent): void {
    for (const l of this.listeners) l(ev);
  }
  get listenerCount(): number {
    return this.listeners.size;
  }
}

/** A model config with defaults. */
export function modelConfig(id: string, over: Partial<ModelConfig> = {}): ModelConfig {
  return baseModelConfig(id, { unloadTimeout: 5, healthCheckTimeout: 30, ...over });
}

/** A resolved config over `models` (one `(default)` group unless groups are given). */
export function testConfig(
  models: ModelConfig[],
  routing: Partial<Omit<RoutingConfig, "fifo">> & { fifo?: Partial<RoutingConfig["fifo"]> } = {},
): Config {
  const groups: GroupConfig[] = routing.groups ?? [
    { id: "(default)", members: models.map((m) => m.id), swap: true, exclusive: true, persistent: false },
  ];
  return baseConfig(models, {
    healthCheckTimeout: 30,
    unloadTimeout: 5,
    routing: {
      router: routing.router ?? "group",
      groups,
      matrix: routing.matrix ?? null,
      scheduler: routing.scheduler ?? "fifo",
      fifo: { priority: {}, maxWait: 0, ...routing.fifo },
    },
  });
}

/** A logger that keeps its lines. */
export function memoryLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => {
    lines.push(`${level} ${msg}`);
  };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
