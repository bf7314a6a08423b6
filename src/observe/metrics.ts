/**
 * switchyard's Prometheus metrics: what happens inside the router, where nobody else can see.
 * Per model: requests by status, in flight, queue depth, queue wait, load time, swaps by reason,
 * drains, severed and cancelled requests, time to first token, prompt and completion tokens.
 * Process: uptime and RSS. llama-swap's `llamaswap_*` system gauges where it has them (memory,
 * load average), and the gauges model-aware front doors read to pick a node, in vLLM's names
 * and meaning (`vllm:num_requests_waiting`, `vllm:num_requests_running`,
 * `vllm:lora_requests_info`), so llm-d's endpoint picker can route a fleet of switchyards.
 *
 * Fed synchronously with every observation (each one an O(1) update: observing never slows
 * serving); the gauges read the router's status at scrape time. Web-standard.
 */
import type { MemoryStatus } from "../placement/memory-status.ts";
import type { ActivityRecord } from "./activity.ts";
import type { ObserveEvent, SwapReason } from "./events.ts";
import { CONTENT_TYPE, createRegistry } from "./metrics-registry.ts";

/** A model's routing counters as the router reports them. */
export interface ModelGauge {
  model: string;
  state: string;
  inFlight: number;
  queued: number;
}

/** The machine's figures llama-swap exports (read at scrape time at the edge). */
export interface SystemFigures {
  memTotalBytes: number;
  memFreeBytes: number;
  load: [number, number, number];
}

/** What the metrics read at scrape time. */
export interface MetricsSources {
  /** Every local model with its routing counters. */
  models(): ModelGauge[];
  /** Resident set size of this process, bytes. */
  rssBytes(): number;
  /** Memory and load average of the machine, or null where unknown. */
  system(): SystemFigures | null;
  /** Clock, epoch ms. */
  now(): number;
  /** The fit router's memory report, or null (other routers); absent: none. */
  memory?(): MemoryStatus | null;
}

/** The metrics of this process. */
export interface SwitchyardMetrics {
  /** Count one observation. */
  observe(ev: ObserveEvent): void;
  /** The exposition text. */
  render(): string;
  /** Its content type. */
  readonly contentType: string;
}

const WAIT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const LOAD_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];
const SWAP_REASONS: readonly SwapReason[] = ["cold-start", "evict"];
const DRAIN_CAUSES: readonly Extract<ObserveEvent, { type: "drain-start" }>["cause"][] = ["evict", "unload", "reload", "shutdown"];
/** The router's refusals a configured model can meet (its RouteErrorKinds; an unknown name's model_not_found is not one). */
const REFUSALS: readonly string[] = ["concurrency_limit", "start_failed", "health_timeout", "unloaded", "model_removed", "shutting_down", "does_not_fit"];
const TTFT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

/** Create the metrics over their scrape-time sources. */
export function createMetrics(src: MetricsSources): SwitchyardMetrics {
  const reg = createRegistry();
  const startedAt = src.now();
  const requests = reg.counter("switchyard_requests", "Proxied model requests that ended, by model, HTTP status and outcome.", ["model", "status", "outcome"]);
  const queueWait = reg.histogram("switchyard_queue_wait_seconds", "Time from admission to grant, loads included, per model.", ["model"], WAIT_BUCKETS);
  const loadTime = reg.histogram("switchyard_load_seconds", "Time from spawn to ready of a model's server.", ["model"], LOAD_BUCKETS);
  const loadFailures = reg.counter("switchyard_load_failures", "Starts of a model's server that never became ready.", ["model"]);
  const swaps = reg.counter("switchyard_swaps", "Swaps committed, by the model loaded and the reason.", ["model", "reason"]);
  const drains = reg.counter("switchyard_drains", "Drains begun, by model and cause.", ["model", "cause"]);
  const severed = reg.counter("switchyard_severed_requests", "Requests cut in-band at a drain deadline.", ["model"]);
  const cancelled = reg.counter("switchyard_cancelled_requests", "Requests whose client left before they were served.", ["model"]);
  const refused = reg.counter("switchyard_refused_requests", "Requests the router refused (unknown model, over the limit, failed start, unloaded, shutting down).", ["model", "reason"]);
  const crashes = reg.counter("switchyard_crashes", "Model servers that exited on their own while ready.", ["model"]);
  const ttlUnloads = reg.counter("switchyard_ttl_unloads", "Idle unloads asked for by a model's ttl.", ["model"]);
  const ttft = reg.histogram("switchyard_time_to_first_token_seconds", "Arrival to the first generated token of streamed answers.", ["model"], TTFT_BUCKETS);
  const promptTokens = reg.counter("switchyard_prompt_tokens", "Prompt tokens the backends reported.", ["model"]);
  const completionTokens = reg.counter("switchyard_completion_tokens", "Completion tokens the backends reported.", ["model"]);

  reg.gaugeFn("switchyard_requests_in_flight", "Requests granted and not yet finished, per model.", ["model"], () => src.models().map((m) => [{ model: m.model }, m.inFlight] as const));
  reg.gaugeFn("switchyard_queue_depth", "Requests queued or waiting for a load, per model.", ["model"], () => src.models().map((m) => [{ model: m.model }, m.queued] as const));
  reg.gaugeFn("switchyard_model_state", "1 for the state each model's server is in.", ["model", "state"], () => src.models().map((m) => [{ model: m.model, state: m.state }, 1] as const));
  reg.gaugeFn("switchyard_uptime_seconds", "Seconds since switchyard started.", [], () => [[{}, (src.now() - startedAt) / 1000]]);
  reg.gaugeFn("process_resident_memory_bytes", "Resident memory of the switchyard process.", [], () => [[{}, src.rssBytes()]]);
  reg.gaugeFn("llamaswap_memory_total_bytes", "Total memory in bytes (llama-swap's name).", [], () => sys((s) => s.memTotalBytes));
  reg.gaugeFn("llamaswap_memory_used_bytes", "Used memory in bytes (llama-swap's name).", [], () => sys((s) => s.memTotalBytes - s.memFreeBytes));
  reg.gaugeFn("llamaswap_memory_free_bytes", "Free memory in bytes (llama-swap's name).", [], () => sys((s) => s.memFreeBytes));
  reg.gaugeFn("llamaswap_load_average", "Load average (llama-swap's name).", ["interval"], () => {
    const s = src.system();
    return s ? (["1m", "5m", "15m"] as const).map((interval, i) => [{ interval }, s.load[i]!] as const) : [];
  });
  // vLLM's names, as the Gateway API Inference Extension's endpoint picker reads them.
  reg.gaugeFn("vllm:num_requests_waiting", "Requests queued or waiting on a swap (vLLM's meaning: not yet running).", ["model_name"], () => src.models().map((m) => [{ model_name: m.model }, m.queued] as const));
  reg.gaugeFn("vllm:num_requests_running", "Requests being served.", ["model_name"], () => src.models().map((m) => [{ model_name: m.model }, m.inFlight] as const));
  reg.gaugeFn("vllm:lora_requests_info", "Models loaded (running_lora_adapters) and loading (waiting_lora_adapters); the value is the scrape time in seconds, as vLLM's.", ["running_lora_adapters", "waiting_lora_adapters", "max_lora"], () => {
    const ms = src.models();
    const running = ms.filter((m) => m.state === "ready").map((m) => m.model);
    const waiting = ms.filter((m) => m.state === "starting").map((m) => m.model);
    return [[{ running_lora_adapters: running.join(","), waiting_lora_adapters: waiting.join(","), max_lora: ms.length }, src.now() / 1000]];
  });

  // The fit router: each model's figure (and where it came from), each device's budget and use.
  reg.gaugeFn("switchyard_model_memory_bytes", "(fit router) Memory each model needs by its figure, with the figure's source (declared, guessed, measured, unknown) and whether it is resident.", ["model", "source", "resident"], () =>
    Object.entries(src.memory?.()?.models ?? {}).map(([model, m]) => [{ model, source: m.source, resident: m.resident ? "true" : "false" }, m.bytes] as const),
  );
  reg.gaugeFn("switchyard_device_memory_bytes", "(fit router) Each device's memory: total, used by others at start, reserve, used by resident models, free budget.", ["device", "kind"], () =>
    (src.memory?.()?.devices ?? []).flatMap((d) =>
      (["total", "used_by_others", "reserve", "used_by_models", "free"] as const).map((kind) => {
        const v = { total: d.total, used_by_others: d.usedByOthers, reserve: d.reserve, used_by_models: d.usedByModels, free: d.free }[kind];
        return [{ device: d.id, kind }, v] as const;
      }),
    ),
  );

  function sys(pick: (s: SystemFigures) => number): [Record<never, never>, number][] {
    const s = src.system();
    return s ? [[{}, pick(s)]] : [];
  }

  /** Admission time of each request not yet granted or ended (for the queue wait). */
  const admittedAt = new Map<number, number>();

  function activity(r: ActivityRecord): void {
    requests.labels({ model: r.model, status: r.resp_status_code, outcome: r.outcome }).inc();
    if (r.ttft_ms !== null) ttft.labels({ model: r.model }).observe(r.ttft_ms / 1000);
    if (r.usage.promptTokens) promptTokens.labels({ model: r.model }).inc(r.usage.promptTokens);
    if (r.usage.completionTokens) completionTokens.labels({ model: r.model }).inc(r.usage.completionTokens);
  }

  /**
   * Every local model's counters and histograms exist at 0 from its first scrape, not from its
   * first event: Prometheus' rate() and increase() see no step from "absent" to 1, so a model's
   * first crash, swap or load (often its only one) would never show on a dashboard.
   */
  const seeded = new Set<string>();
  function seed(model: string): void {
    seeded.add(model);
    requests.labels({ model, status: 200, outcome: "ok" });
    for (const h of [queueWait, loadTime, ttft]) h.labels({ model });
    for (const c of [loadFailures, severed, cancelled, crashes, ttlUnloads, promptTokens, completionTokens]) c.labels({ model });
    for (const reason of SWAP_REASONS) swaps.labels({ model, reason });
    for (const cause of DRAIN_CAUSES) drains.labels({ model, cause });
    for (const reason of REFUSALS) refused.labels({ model, reason });
  }

  return {
    contentType: CONTENT_TYPE,
    render() {
      for (const m of src.models()) if (!seeded.has(m.model)) seed(m.model);
      return reg.render();
    },
    observe(ev) {
      switch (ev.type) {
        case "request":
          if (ev.phase === "admitted") admittedAt.set(ev.id, ev.at);
          else if (ev.phase === "granted") {
            const t = admittedAt.get(ev.id);
            if (t !== undefined) queueWait.labels({ model: ev.model }).observe((ev.at - t) / 1000);
            admittedAt.delete(ev.id);
          } else {
            admittedAt.delete(ev.id);
            if (ev.phase === "severed") severed.labels({ model: ev.model }).inc();
            else if (ev.phase === "cancelled") cancelled.labels({ model: ev.model }).inc();
            else if (ev.phase === "refused") refused.labels({ model: ev.model, reason: ev.error?.kind ?? "unknown" }).inc();
          }
          return;
        case "swap-start":
          return swaps.labels({ model: ev.target, reason: ev.reason }).inc();
        case "drain-start":
          return drains.labels({ model: ev.model, cause: ev.cause }).inc();
        case "load-ready":
          return loadTime.labels({ model: ev.model }).observe(ev.ms / 1000);
        case "load-failed":
          return loadFailures.labels({ model: ev.model }).inc();
        case "crash":
          return crashes.labels({ model: ev.model }).inc();
        case "ttl-unload":
          return ttlUnloads.labels({ model: ev.model }).inc();
        case "activity":
          return activity(ev.record);
        default:
          return;
      }
    },
  };
}
