/**
 * The resolved configuration: what the loader hands to the rest of switchyard.
 * Every default is filled in, every macro expanded, every command split into argv.
 * Nothing downstream reads raw YAML.
 */

/** Request rewrites applied to JSON bodies on model routes (llama-swap `filters`). */
export interface ModelFilters {
  /** JSON keys removed from the body (sorted, deduped; `model` is never stripped). */
  stripParams: string[];
  /** Keys set or overwritten in the body (dotted keys address nested fields). */
  setParams: Record<string, unknown>;
  /** Per requested ID (model ID or alias), keys applied after `setParams`. */
  setParamsByID: Record<string, Record<string, unknown>>;
}

/** A modality of llama-swap's `capabilities.in` / `capabilities.out`. */
export type Modality = "text" | "audio" | "image";

/** What a model can do (llama-swap's `capabilities`), as /v1/models tells clients. All empty = not declared. */
export interface ModelCapabilities {
  /** Input modalities, as written. */
  in: Modality[];
  /** Output modalities, as written. */
  out: Modality[];
  /** Supports tool calls. */
  tools: boolean;
  /** Is a reranker. */
  reranker: boolean;
  /** Context length in tokens; 0 = not given. */
  context: number;
}

/**
 * Proxy timeouts of a model or peer (llama-swap's `timeouts`), in whole seconds; 0 = no limit.
 * Only connect and responseHeader act; the others are kept as written (Bun's fetch has no such knobs).
 */
export interface ProxyTimeouts {
  connect: number;
  responseHeader: number;
  keepalive: number;
  tlsHandshake: number;
  expectContinue: number;
  idleConn: number;
}

/** Compatibility settings for a model's server (llama-swap's `compat`). */
export interface ModelCompat {
  /** WebSocket upgrades take no grant: they never load the model (409 unless ready) and never keep it busy. */
  ignoreWebsockets: boolean;
}

/** One model as the rest of the program sees it. */
export interface ModelConfig {
  /** The model ID (the key under `models:`). */
  id: string;
  /** Declared memory (`memory:`), or null. */
  memory: ModelMemory | null;
  /** Never evicted by the fit router. */
  persistent: boolean;
  /** Start command as argv (comment lines dropped, continuations joined, shell-word split). */
  cmd: string[];
  /** Stop command as argv; may contain the literal `${PID}`, replaced at stop time. Empty = signal the group. */
  cmdStop: string[];
  /** Upstream base URL, without a trailing slash. */
  proxy: string;
  /** The port handed out by `${PORT}`, or null when the model's cmd does not use it. */
  port: number | null;
  /** Extra names that route to this model (includes setParamsByID keys other than the ID). */
  aliases: string[];
  /** Extra environment for cmd and cmdStop. */
  env: Record<string, string>;
  /** Readiness path (e.g. `/health`), or `none` for ready-at-spawn. */
  checkEndpoint: string;
  /** Idle seconds before unload; 0 = never. Already resolved against `globalTTL`. */
  ttl: number;
  /** Seconds to wait for a graceful stop on unload before SIGKILL. Resolved against the global value. */
  unloadTimeout: number;
  /** Seconds an evicted model waits for in-flight requests before severing them. 0 = sever at once. */
  drainTimeout: number;
  /** Hidden from `/v1/models`, still routable. */
  unlisted: boolean;
  /** Rewrite the `model` value sent upstream; empty = leave as is. */
  useModelName: string;
  /** Display name in `/v1/models`; empty = omitted. */
  name: string;
  /** Description in `/v1/models`; empty = omitted. */
  description: string;
  /** Max requests reserved for this model (queued + waiting + serving). */
  concurrencyLimit: number;
  /** Stream loading progress to streaming chat clients (resolved against the global flag). */
  sendLoadingState: boolean;
  filters: ModelFilters;
  /** Free-form, macro-expanded; shown under `meta.llamaswap` in `/v1/models`. */
  metadata: Record<string, unknown>;
  /** Seconds to wait for readiness (the global `healthCheckTimeout`, copied for convenience). */
  healthCheckTimeout: number;
  /** What the model can do, for /v1/models. */
  capabilities: ModelCapabilities;
  /** Proxy timeouts for requests to the model's server. */
  timeouts: ProxyTimeouts;
  /** Compatibility settings (forced on for `comfyui_auto`). */
  compat: ModelCompat;
}

/** One group of the group router. */
export interface GroupConfig {
  id: string;
  members: string[];
  /** Only one member runs at a time (default true). */
  swap: boolean;
  /** Starting a member evicts models of other non-persistent groups (default true). */
  exclusive: boolean;
  /** Never evicted by other groups (default false). */
  persistent: boolean;
}

/** One concrete combination of models allowed to run together (or its projection onto a few models). */
export interface ExpandedSet {
  /** The set's name (several entries share it when the expression has alternatives). */
  set: string;
  /** The set's expression as written. */
  dsl: string;
  /** Real model IDs that may run together (no duplicates, in first-mention order). */
  models: string[];
}

/** A compiled matrix expression: real model IDs, `+set` references kept by name. */
export type MatrixExpr = { kind: "model"; id: string } | { kind: "ref"; set: string } | { kind: "and" | "or"; children: MatrixExpr[] };

/** One matrix set, compiled (config/matrix-dsl): its expression tree and every model it mentions. */
export interface CompiledMatrixSet {
  set: string;
  /** The expression as written. */
  dsl: string;
  /** Every real model ID in some combination of the set (first-mention order; through references too). */
  models: string[];
  expr: MatrixExpr;
}

/** Matrix router settings: as written, plus the sets and costs compiled once at load. */
export interface MatrixConfig {
  /** Short name → real model ID. */
  vars: Record<string, string>;
  /** Var or model ID → cost of evicting it (default 1). */
  evictCosts: Record<string, number>;
  /** Ordered list of named set expressions, in definition order. */
  sets: { name: string; dsl: string }[];
  /** The sets compiled by config/matrix-dsl when the config loads, in compiled order (not expanded: projectMatrix does that per decision). */
  compiled: CompiledMatrixSet[];
  /** Evict costs keyed by real model ID (a var's cost applies to the model it names). */
  costById: Record<string, number>;
}

/** A remote OpenAI-compatible server whose models we forward to. */
export interface PeerConfig {
  id: string;
  proxy: string;
  apiKey: string;
  models: string[];
  /** Like a model's filters; setParamsByID is keyed by the name a request used (`<peer>/<model>` or bare). */
  filters: ModelFilters;
  /** Proxy timeouts for requests to the peer. */
  timeouts: ProxyTimeouts;
}

/** `logLevel`: the lowest level of proxy lines written. */
export type LogLevel = "debug" | "info" | "warn" | "error";
/** `logTimeFormat`: llama-swap's names of Go's time layouts. */
export type LogTimeFormat =
  | "ansic"
  | "unixdate"
  | "rubydate"
  | "rfc822"
  | "rfc822z"
  | "rfc850"
  | "rfc1123"
  | "rfc1123z"
  | "rfc3339"
  | "rfc3339nano"
  | "kitchen"
  | "stamp"
  | "stampmilli"
  | "stampmicro"
  | "stampnano";
/** `logToStdout`: which log streams are echoed to stdout. */
export type LogToStdout = "proxy" | "upstream" | "both" | "none";

/** Routing engine and scheduler choice, normalised from `routing:` or the legacy top-level keys. */
/** A device declared in `routing.router.settings.fit.devices`. */
export interface DeclaredDevice {
  /** GPU index as a string ("0"), or "cpu". */
  id: string;
  memory: number;
  reserve: number;
}

/** Placement by memory (`routing.router.use: fit`). */
export interface FitConfig {
  /** Declared devices, or null: detect them at start. */
  devices: DeclaredDevice[] | null;
  /** Bytes kept free on each detected GPU. */
  reserve: number;
  /** Bytes kept free in the detected system RAM. */
  cpuReserve: number;
  /** Where measured sizes are kept (as written; relative = to the config's directory), or null. */
  stateFile: string | null;
}

/** What a model declares it needs (`memory:`): bytes on one device of the fit's choosing, or bytes per device ID. */
export type ModelMemory = { kind: "any"; bytes: number } | { kind: "devices"; perDevice: Record<string, number> };

export interface RoutingConfig {
  router: "group" | "matrix" | "fit";
  /** Present iff router is `fit` (absent or null otherwise). */
  fit?: FitConfig | null;
  /** Explicit groups plus the synthetic `(default)` group of every ungrouped model (group router). */
  groups: GroupConfig[];
  /** Present iff router is `matrix`. */
  matrix: MatrixConfig | null;
  scheduler: "fifo" | "serial";
  fifo: {
    /** Model ID → priority (higher is served first among queued requests; default 0). */
    priority: Record<string, number>;
    /** Seconds the oldest queued request may wait behind busy residents; 0 = unbounded. */
    maxWait: number;
  };
}

/** A runtime-selectable set of model name rewrites (llama-swap's `profiles`). */
export interface ProfileConfig {
  description: string;
  /** Requested name → the name it is rewritten to; "" disables the name (404) while the profile is active. */
  pins: Record<string, string>;
}

/** How a selector picks its target per request. */
export type SelectorStrategy = "warm" | "pin" | "spillover";

/** A virtual model name resolved to one of its targets per request (llama-swap's `selectors`). */
export interface SelectorConfig {
  strategy: SelectorStrategy;
  /** Model IDs, aliases (setParamsByID keys included) or peer models, as written. */
  targets: string[];
  /** Requests reserved per active target before spilling over to the next (spillover; default 1). */
  spillover: number;
  name: string;
  description: string;
  /** Left out of /v1/models. */
  unlisted: boolean;
  metadata: Record<string, unknown>;
}

/** A non-fatal finding of the loader (e.g. a llama-swap key we accept but ignore). */
export interface ConfigWarning {
  path: string;
  line: number | null;
  message: string;
  /** The file it is in, when the config came from files (`--config`, `--config-dir`). */
  file?: string;
}

/** The whole resolved configuration. */
export interface Config {
  healthCheckTimeout: number;
  logLevel: LogLevel;
  logToStdout: LogToStdout;
  /**
   * Timestamp of proxy log lines: a Go layout name (lower case), "" for none (llama-swap's default,
   * and its reading of an unknown value), or null for switchyard's ISO 8601 UTC (the key absent).
   */
  logTimeFormat: LogTimeFormat | "" | null;
  /**
   * `upstream.ignorePaths` as written (Go regular expressions, checked by config/go-regexp.ts; llama-swap's
   * default when empty): `/upstream` paths that never load a model.
   */
  upstreamIgnorePaths: string[];
  startPort: number;
  sendLoadingState: boolean;
  includeAliasesInList: boolean;
  globalTTL: number;
  unloadTimeout: number;
  drainTimeout: number;
  requestBodyLimitMB: number;
  /** Activity records kept in memory (llama-swap's metricsMaxInMemory; 1000 when not positive). */
  metricsMaxInMemory: number;
  /** System monitoring (`/api/performance`): on unless `performance.disabled`; ms between samples (`every`, at least 5 s, default 5 s). */
  performance: { enabled: boolean; everyMs: number };
  /** MB for captured request and response bodies (`captureBuffer`); 0 = off. */
  captureBufferMB: number;
  /** llama-swap's `ui` settings, handed to web UIs as they are. */
  ui: { activity: { session_id: string[] } };
  /** Whether each request gets an activity record (`activity.disabled` turns it off). */
  activityEnabled: boolean;
  /** Re-export each running model's own /metrics with a model label (`metrics.upstream`). */
  upstreamMetrics: boolean;
  /** The activity database (`store:`), or null: records only in memory. The path as written (relative = to the working directory). */
  store: { path: string; maxRecords: number; maxAgeDays: number } | null;
  apiKeys: string[];
  /** Model IDs (aliases resolved, unknown dropped with a warning) to load at start. */
  preload: string[];
  /** Models keyed by ID. */
  models: Record<string, ModelConfig>;
  /** Alias → model ID. */
  aliases: Record<string, string>;
  routing: RoutingConfig;
  peers: Record<string, PeerConfig>;
  /** Profiles by name; none is active at start or after a reload. */
  profiles: Record<string, ProfileConfig>;
  /** Selectors by their virtual model name. */
  selectors: Record<string, SelectorConfig>;
  warnings: ConfigWarning[];
}
