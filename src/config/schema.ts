/**
 * The TypeBox schema of config.yaml as it stands after macro expansion: llama-swap's keys plus
 * switchyard's own (drainTimeout, requestBodyLimitMB, routing.scheduler.settings.fifo.maxWait,
 * routing.scheduler.use serial). Every object is closed (`additionalProperties: false`) except the
 * free-form maps (metadata, setParams, macros, ...) and `performance` (llama-swap's own tests write an
 * unknown key there; normalize-performance.ts warns about it). Keys llama-swap knows and switchyard ignores are
 * typed `Unknown` and listed in IGNORED_KEYS. config-schema.json is generated from this file.
 */
import { Type } from "@sinclair/typebox";

/** Defaults of the top-level keys (llama-swap's values, plus ours). */
export const DEFAULTS = {
  healthCheckTimeout: 120,
  minHealthCheckTimeout: 15,
  logLevel: "info",
  logToStdout: "proxy",
  startPort: 5800,
  globalTTL: 0,
  unloadTimeout: 10,
  drainTimeout: 30,
  requestBodyLimitMB: 256,
  metricsMaxInMemory: 1000,
  sessionIdHeaders: ["X-Session-ID", "X-Litellm-Session-Id"],
  concurrencyLimit: 10,
  checkEndpoint: "/health",
  fifoMaxWait: 60,
  comfyUIModelId: "comfyui_auto",
  comfyUIConcurrencyLimit: 50,
  performanceEvery: "5s",
  storeMaxRecords: 100_000,
  storeMaxAgeDays: 30,
  // llama-swap's transport defaults (http.DefaultTransport's; peers wait 60 s for headers).
  timeoutConnect: 30,
  timeoutResponseHeaderModel: 0,
  timeoutResponseHeaderPeer: 60,
  upstreamIgnorePath: ".*\\.(js|json|css|png|gif|jpg|jpeg|ico|txt)$",
} as const;

const closed = { additionalProperties: false } as const;

/** Options of a key llama-swap knows and switchyard ignores. */
function ignored(what: string): { description: string } {
  return { description: `llama-swap's ${what}. Accepted for compatibility and ignored by switchyard (a warning names it); only llama-swap's types are checked.` };
}

/** `timeouts:` of a model or peer (llama-swap's Go transport settings, whole seconds; 0 = none). */
function timeoutsSchema(responseHeaderDefault: number, of: string) {
  const noEffect = (d: number) => Type.Optional(Type.Integer({ default: d, description: "Accepted for llama-swap compatibility; no effect in switchyard (Bun's fetch manages its own connections)." }));
  return Type.Object(
    {
      connect: Type.Optional(
        Type.Integer({
          default: DEFAULTS.timeoutConnect,
          description: "Seconds to establish the TCP connection; 0 = no limit. A request still unanswered after this long is checked with a fresh connection attempt, and fails with 502 when that cannot connect within the same time.",
        }),
      ),
      responseHeader: Type.Optional(
        Type.Integer({
          default: responseHeaderDefault,
          description: `Seconds from sending the request until the response headers arrive; 0 = no limit (default ${responseHeaderDefault}). Then 502, or an in-band error event when a loading stream already began. A response that has begun is never cut.`,
        }),
      ),
      keepalive: noEffect(30),
      tlsHandshake: noEffect(10),
      expectContinue: noEffect(1),
      idleConn: noEffect(90),
    },
    { ...closed, description: `Proxy timeouts for requests to this ${of} (llama-swap's).` },
  );
}
const Modality = Type.Union([Type.Literal("text"), Type.Literal("audio"), Type.Literal("image")]);
/** A memory size with its unit: `7.5GiB`, `512MiB`, `24GB` (GiB/MiB/KiB are powers of 1024, GB/MB/KB of 1000). */
export const SIZE_PATTERN = "^\\s*[0-9]+(\\.[0-9]+)?\\s*([KMGT]i?B|B)\\s*$";
const Size = (description: string) => Type.String({ pattern: SIZE_PATTERN, description: `${description} A size with its unit: 7.5GiB, 512MiB, 24GB.` });

const CapabilitiesSchema = Type.Object(
  {
    in: Type.Optional(Type.Array(Modality, { description: "Input modalities: text, audio, image." })),
    out: Type.Optional(Type.Array(Modality, { description: "Output modalities: text, audio, image." })),
    tools: Type.Optional(Type.Boolean({ description: "Supports tool calls (function_calling, supported_parameters tools and tool_choice)." })),
    reranker: Type.Optional(Type.Boolean({ description: "Is a reranker." })),
    context: Type.Optional(Type.Integer({ minimum: 0, description: "Context length in tokens (context_length and meta.n_ctx); 0 = not given." })),
  },
  { ...closed, description: "What the model can do, told to clients in /v1/models (architecture, capabilities, supported_parameters, context_length) as llama-swap renders it." },
);
/** A Go duration such as `15s`, `1m30s` or `500ms` (llama-swap's performance.every). */
export const GO_DURATION = "^[-+]?(0|([0-9]*(\\.[0-9]*)?(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)$";
const ProfileShape = Type.Object(
  {
    description: Type.Optional(Type.String({ description: "Shown by GET /api/profiles." })),
    pins: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]), {
        description:
          "Requested name → the name a request is rewritten to while the profile is active: a model ID, alias (setParamsByID keys included), peer model or selector. \"\" or null disables the name (404). Pins do not chain.",
      }),
    ),
  },
  { ...closed, description: "A set of model name rewrites switched at runtime (PUT /api/profiles/active); applied before selectors, aliases and filters." },
);
const SelectorShape = Type.Object(
  {
    strategy: Type.Optional(Type.String({ description: "warm (the first ready target, else the first starting one, else the first), pin (always the first target) or spillover (fill targets in order, `settings.spillover` requests each)." })),
    targets: Type.Optional(Type.Array(Type.String(), { description: "Model IDs, aliases or peer models (not selectors), in order of preference." })),
    settings: Type.Optional(Type.Object({ spillover: Type.Optional(Type.Integer({ default: 1, description: "Requests reserved per active target before the next target is started (spillover; >= 1)." })) }, closed)),
    name: Type.Optional(Type.String({ description: "Display name in /v1/models." })),
    description: Type.Optional(Type.String({ description: "Description in /v1/models." })),
    unlisted: Type.Optional(Type.Boolean({ description: "Left out of /v1/models." })),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "Under meta.llamaswap in /v1/models." })),
  },
  { ...closed, description: "A virtual model name resolved to one of its targets for each request. Not on /upstream." },
);

const MacroValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

/** `macros:` (global or per model): name → scalar, in declaration order. */
export const MacrosSchema = Type.Record(Type.String({ pattern: "^[a-zA-Z0-9_-]{1,63}$" }), MacroValue, {
  description:
    "Reusable values: ${name} is replaced in every string value (model macros only inside their model). A macro may use macros declared before it. Reserved: PORT, MODEL_ID, PID, SWITCHYARD. ${GPU} left in a model's cmd or env (no macro of that name) is the fit router's GPU indices, replaced when the model starts. A value that is exactly ${name} keeps the macro's type.",
});

const JsonMap = Type.Record(Type.String(), Type.Unknown());

const FiltersSchema = Type.Object(
  {
    stripParams: Type.Optional(Type.String({ description: "Comma-separated JSON keys removed from request bodies (`model` is never removed)." })),
    strip_params: Type.Optional(Type.String({ description: "Legacy spelling of stripParams (used when stripParams is empty)." })),
    setParams: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "JSON keys set or overwritten in request bodies (dotted keys address nested fields; `model` is ignored)." })),
    setParamsByID: Type.Optional(
      Type.Record(Type.String(), JsonMap, {
        description: "Per requested ID, keys applied after setParams. Every key other than the model's ID becomes an alias of the model. Keys may use macros (e.g. ${MODEL_ID}:high).",
      }),
    ),
  },
  { ...closed, description: "Request rewrites for JSON bodies." },
);

const ModelSchema = Type.Object(
  {
    cmd: Type.Optional(Type.String({ description: "Command that starts the model's server. Split into words with POSIX shell rules (no shell); `#` comment lines dropped, a trailing `\\` joins lines. Use ${PORT} to get a port." })),
    cmdStop: Type.Optional(Type.String({ description: "Command that stops the server gracefully; ${PID} is the server's process ID. Empty: SIGTERM to the process group." })),
    proxy: Type.Optional(Type.String({ description: "Upstream base URL. Default http://localhost:${PORT} (which needs ${PORT} in cmd)." })),
    aliases: Type.Optional(Type.Array(Type.String(), { description: "Other names that route to this model; unique across the config." })),
    env: Type.Optional(Type.Array(Type.String({ pattern: "^[A-Za-z_][A-Za-z0-9_]*=" }), { description: "Extra environment for cmd and cmdStop, as NAME=value." })),
    checkEndpoint: Type.Optional(Type.String({ description: "Readiness path polled until it answers 200 (default /health); `none` = ready as soon as spawned." })),
    ttl: Type.Optional(Type.Integer({ minimum: -1, description: "Idle seconds before unloading; 0 = never; -1 or absent = globalTTL." })),
    unloadTimeout: Type.Optional(Type.Integer({ minimum: 0, description: "Seconds to wait for a graceful stop on unload before SIGKILL; 0 or absent = the global unloadTimeout." })),
    drainTimeout: Type.Optional(Type.Number({ minimum: 0, description: "(switchyard) Seconds an evicted model waits for in-flight requests before severing them; absent = the global drainTimeout; 0 = sever at once." })),
    memory: Type.Optional(
      Type.Union(
        [
          Size("(switchyard, routing.router.use: fit) Memory the model needs on one device (a GPU when there are GPUs, else the system RAM)."),
          Type.Record(Type.String(), Size("Memory on this device."), { description: "Memory per device ID (GPU index, or cpu): a model spanning GPUs lists each." }),
        ],
        { description: "(switchyard, fit router) What the model needs. Absent: guessed from its GGUF file, else learned after its first load. A measurement above it replaces it." },
      ),
    ),
    persistent: Type.Optional(Type.Boolean({ default: false, description: "(switchyard, fit router) Never evicted to make room for another model." })),
    unlisted: Type.Optional(Type.Boolean({ description: "Hide from /v1/models (still routable)." })),
    useModelName: Type.Optional(Type.String({ description: "Model name sent upstream instead of the requested one." })),
    name: Type.Optional(Type.String({ description: "Display name in /v1/models." })),
    description: Type.Optional(Type.String({ description: "Description in /v1/models." })),
    concurrencyLimit: Type.Optional(Type.Integer({ description: "Most requests held for this model at once (queued + loading + serving); 0, negative or absent = 10." })),
    sendLoadingState: Type.Optional(Type.Boolean({ description: "Override the global sendLoadingState." })),
    filters: Type.Optional(FiltersSchema),
    macros: Type.Optional(MacrosSchema),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "Free-form, macro-expanded; shown under meta.llamaswap in /v1/models." })),
    timeouts: Type.Optional(timeoutsSchema(DEFAULTS.timeoutResponseHeaderModel, "model's server")),
    compat: Type.Optional(
      Type.Object(
        {
          ignoreWebsockets: Type.Optional(
            Type.Boolean({
              default: false,
              description: "WebSocket upgrades neither load the model (409 unless it is ready) nor keep it busy: TTL, concurrencyLimit and swaps ignore them, and a swap drops them. Always on for comfyui_auto.",
            }),
          ),
        },
        { ...closed, description: "Compatibility settings for the model's server." },
      ),
    ),
    capabilities: Type.Optional(CapabilitiesSchema),
    healthCheckTimeout: Type.Optional(Type.Integer({ description: "Seconds this model may take to become ready (default: the global healthCheckTimeout). Values below 15 become 15. llama-swap ignores a per-model value; switchyard applies it." })),
  },
  { ...closed, description: "One model, keyed by the ID clients send." },
);

const GroupSchema = Type.Object(
  {
    members: Type.Optional(Type.Array(Type.String(), { description: "Model IDs in this group; a model belongs to at most one group (default none)." })),
    swap: Type.Optional(Type.Boolean({ description: "Only one member runs at a time (default true)." })),
    exclusive: Type.Optional(Type.Boolean({ description: "Loading a member unloads other non-persistent groups (default true)." })),
    persistent: Type.Optional(Type.Boolean({ description: "Other groups never unload this group's members (default false)." })),
  },
  closed,
);
const GroupsSchema = Type.Record(Type.String(), GroupSchema, { description: "Groups of the group router. Ungrouped models form the synthetic (default) group." });

const MatrixSchema = Type.Object(
  {
    vars: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "Short name (1-32 letters, digits, '-' or '.') → real model ID (not an alias)." })),
    evict_costs: Type.Optional(Type.Record(Type.String(), Type.Integer(), { description: "Var or model ID → cost of evicting it, at least 1 (default 1)." })),
    // Only types here: like llama-swap, the rest is checked when the matrix is the active router.
    sets: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: "Named expressions of models that may run together: `a & b` together, `a | b` either, parentheses, `+name` inlines another set. Definition order breaks ties. At least one.",
      }),
    ),
  },
  { ...closed, description: "Matrix router: which combinations of models may run together." },
);

const FitSchema = Type.Object(
  {
    devices: Type.Optional(
      Type.Array(
        Type.Object(
          {
            id: Type.Union([Type.Integer({ minimum: 0 }), Type.Literal("cpu")], { description: "GPU index (0, 1, …) or cpu (the system RAM)." }),
            memory: Size("Total memory of the device."),
            reserve: Type.Optional(Size("Kept free (default 0).")),
          },
          closed,
        ),
        { description: "Devices declared instead of detected (nvidia-smi, rocm-smi, /proc/meminfo). Absent: detected at start." },
      ),
    ),
    reserve: Type.Optional(Size("Kept free on each detected GPU (default 512MiB).")),
    cpuReserve: Type.Optional(Size("Kept free in the detected system RAM (default 2GiB).")),
    stateFile: Type.Optional(Type.String({ description: "Where measured sizes are remembered across restarts (default switchyard-memory.json beside the config; \"\" = not kept)." })),
  },
  { ...closed, description: "(switchyard) Placement by memory: the devices and their budgets." },
);

const RoutingSchema = Type.Object(
  {
    router: Type.Optional(
      Type.Object(
        {
          use: Type.Optional(Type.Union([Type.Literal("group"), Type.Literal("matrix"), Type.Literal("fit")], { description: "Swap engine (default group). fit (switchyard): keep as many models resident as fit in memory; evict the least recently used idle one." })),
          settings: Type.Optional(Type.Object({ groups: Type.Optional(GroupsSchema), matrix: Type.Optional(MatrixSchema), fit: Type.Optional(FitSchema) }, closed)),
        },
        closed,
      ),
    ),
    scheduler: Type.Optional(
      Type.Object(
        {
          use: Type.Optional(Type.Union([Type.Literal("fifo"), Type.Literal("serial")], { description: "Request scheduler (default fifo)." })),
          settings: Type.Optional(
            Type.Object(
              {
                fifo: Type.Optional(
                  Type.Object(
                    {
                      priority: Type.Optional(Type.Record(Type.String(), Type.Integer(), { description: "Model ID or alias → priority (higher first among queued requests; default 0)." })),
                      maxWait: Type.Optional(
                        Type.Number({
                          minimum: 0,
                          default: DEFAULTS.fifoMaxWait,
                          description: "(switchyard) Seconds the oldest queued request may wait behind busy resident models before they stop taking new work; 0 = no bound.",
                        }),
                      ),
                    },
                    closed,
                  ),
                ),
              },
              closed,
            ),
          ),
        },
        closed,
      ),
    ),
  },
  { ...closed, description: "Routing engine and scheduler." },
);

const PeerSchema = Type.Object(
  {
    proxy: Type.String({ description: "Base URL of the remote OpenAI-compatible server." }),
    apiKey: Type.Optional(Type.String({ description: "Sent as Authorization: Bearer and x-api-key on forwarded requests." })),
    models: Type.Array(Type.String(), { minItems: 1, description: "Models the peer serves (addressable as <peer>/<model>)." }),
    filters: Type.Optional(
      Type.Object(
        {
          stripParams: Type.Optional(Type.String({ description: "Comma-separated JSON keys removed from request bodies." })),
          setParams: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "JSON keys set in request bodies." })),
          setParamsByID: Type.Optional(Type.Record(Type.String(), JsonMap, { description: "Per requested name (`<peer>/<model>`, or the bare model name a request used), keys applied after setParams." })),
        },
        closed,
      ),
    ),
    timeouts: Type.Optional(timeoutsSchema(DEFAULTS.timeoutResponseHeaderPeer, "peer")),
  },
  closed,
);

/** The whole file. */
export const ConfigSchema = Type.Object(
  {
    healthCheckTimeout: Type.Optional(Type.Integer({ default: DEFAULTS.healthCheckTimeout, description: "Seconds a model may take to become ready. Values below 15 become 15." })),
    logLevel: Type.Optional(
      Type.Union([Type.Literal("debug"), Type.Literal("info"), Type.Literal("warn"), Type.Literal("error")], { default: DEFAULTS.logLevel, description: "Log level (an unknown value falls back to info with a warning)." }),
    ),
    logToStdout: Type.Optional(
      Type.Union([Type.Literal("proxy"), Type.Literal("upstream"), Type.Literal("both"), Type.Literal("none")], { default: DEFAULTS.logToStdout, description: "What is echoed to stdout." }),
    ),
    startPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: DEFAULTS.startPort, description: "First port handed out by ${PORT}, in sorted model-ID order, to models whose cmd uses it." })),
    sendLoadingState: Type.Optional(Type.Boolean({ default: false, description: "Stream loading progress to streaming chat clients." })),
    includeAliasesInList: Type.Optional(Type.Boolean({ default: false, description: "List one /v1/models record per alias too." })),
    globalTTL: Type.Optional(Type.Integer({ minimum: 0, default: DEFAULTS.globalTTL, description: "Default idle seconds before unloading a model; 0 = never." })),
    unloadTimeout: Type.Optional(Type.Integer({ minimum: 0, default: DEFAULTS.unloadTimeout, description: "Seconds an unload waits for a graceful stop before SIGKILL; 0 = 10." })),
    drainTimeout: Type.Optional(Type.Number({ minimum: 0, default: DEFAULTS.drainTimeout, description: "(switchyard) Seconds an evicted model waits for in-flight requests before severing them; 0 = sever at once." })),
    requestBodyLimitMB: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: DEFAULTS.requestBodyLimitMB, description: "(switchyard) Largest request body accepted, in MiB." })),
    macros: Type.Optional(MacrosSchema),
    apiKeys: Type.Optional(Type.Array(Type.String(), { description: "API keys; empty = no auth. Each non-empty and without spaces." })),
    models: Type.Optional(Type.Record(Type.String(), ModelSchema, { description: "Models keyed by ID." })),
    groups: Type.Optional(Type.Record(Type.String(), GroupSchema, { description: "Legacy spelling of routing.router.settings.groups." })),
    matrix: Type.Optional(MatrixSchema),
    routing: Type.Optional(RoutingSchema),
    hooks: Type.Optional(
      Type.Object(
        { on_startup: Type.Optional(Type.Object({ preload: Type.Optional(Type.Array(Type.String(), { description: "Model IDs or aliases to load at start." })) }, closed)) },
        closed,
      ),
    ),
    peers: Type.Optional(Type.Record(Type.String(), PeerSchema, { description: "Remote servers whose models are forwarded to." })),
    profiles: Type.Optional(Type.Record(Type.String(), ProfileShape, { description: "Named sets of model name rewrites; one or none is active (none at start and after a reload). GET /api/profiles, PUT /api/profiles/active." })),
    selectors: Type.Optional(Type.Record(Type.String(), SelectorShape, { description: "Virtual model names resolved per request to one of their targets (warm, pin, spillover). Names may not be model IDs, aliases or peer model names." })),
    captureBuffer: Type.Optional(
      Type.Integer({
        default: 0,
        description:
          "MB of memory for the request and response bodies of recent model requests, read back at /api/captures/{id}. 0 or less = off (switchyard's default; llama-swap's is 5). Authorization, x-api-key, cookies and every API key are never captured.",
      }),
    ),
    performance: Type.Optional(
      Type.Object(
        {
          disabled: Type.Optional(Type.Boolean({ default: false, description: "Turn CPU, memory and GPU sampling off (/api/performance then answers 503 {\"enabled\":false}; /api/hardware still answers)." })),
          every: Type.Optional(
            Type.String({ pattern: GO_DURATION, default: DEFAULTS.performanceEvery, description: "Time between samples, a Go duration such as 5s or 1m30s; at least 5s; 0s = 5s. One hour of samples is kept in memory." }),
          ),
        },
        { description: "System monitoring behind /api/performance: CPU, memory, and GPUs through nvidia-smi or rocm-smi when one is on PATH. Other keys here are ignored with a warning, as llama-swap ignores them." },
      ),
    ),
    store: Type.Optional(
      Type.Object(
        {
          path: Type.Optional(Type.String({ description: "The SQLite database file (created when missing; its directory must exist and be writable). A relative path is relative to the working directory, as in llama-swap." })),
          maxRecords: Type.Optional(Type.Integer({ minimum: 1, default: DEFAULTS.storeMaxRecords, description: "(switchyard) Records kept; the oldest go first." })),
          maxAgeDays: Type.Optional(Type.Number({ exclusiveMinimum: 0, default: DEFAULTS.storeMaxAgeDays, description: "(switchyard) Days a record is kept after its request arrived." })),
        },
        {
          ...closed,
          description:
            "Keep activity records (/api/metrics/activity, /api/metrics/stats) in a SQLite file, so they survive a restart and ids continue. Written in batches off the request path; a kill -9 may lose the last batch (at most 64 records or 250 ms of them). Absent = records only in memory (metricsMaxInMemory).",
        },
      ),
    ),
    ui: Type.Optional(
      Type.Object(
        {
          activity: Type.Optional(
            Type.Object(
              { session_id: Type.Optional(
                  Type.Array(Type.String(), {
                    default: DEFAULTS.sessionIdHeaders,
                    description: "Request headers, in order, that name a request's session in the UI's in-flight table (case-insensitive; the first non-empty one is shown). [] = none.",
                  }),
                ) },
              closed,
            ),
          ),
        },
        { ...closed, description: "Web UI settings, sent to UIs as the uiConfig message of /api/events (llama-swap's ui key)." },
      ),
    ),
    activity: Type.Optional(
      Type.Object(
        {
          disabled: Type.Optional(
            Type.Boolean({
              default: false,
              description:
                "(switchyard) Record nothing per request: no activity records, captures, in-flight list or token counters; the router's own metrics and events stay. For the leanest proxy path.",
            }),
          ),
        },
        { ...closed, description: "(switchyard) The per-request activity record behind /api/metrics/activity, /api/inflight and /api/captures." },
      ),
    ),
    metrics: Type.Optional(
      Type.Object(
        {
          upstream: Type.Optional(
            Type.Boolean({
              default: false,
              description:
                "(switchyard) Re-export each running local model's own /metrics (llama-server started with --metrics) in /metrics, every sample with a model label. A backend that does not answer within 2 s is left out of that scrape and reported by switchyard_upstream_metrics_up.",
            }),
          ),
        },
        { ...closed, description: "(switchyard) Prometheus /metrics options." },
      ),
    ),
    upstream: Type.Optional(
      Type.Object(
        {
          ignorePaths: Type.Optional(
            Type.Array(Type.String(), {
              description: `Regular expressions (Go's RE2 syntax) over the path after /upstream/<model>; a request whose path matches any of them is refused with 409 instead of loading a model that is not ready. Empty or absent = [${JSON.stringify(DEFAULTS.upstreamIgnorePath)}].`,
            }),
          ),
        },
        { ...closed, description: "The /upstream/<model>/... passthrough." },
      ),
    ),
    logTimeFormat: Type.Optional(
      Type.String({
        description:
          'Timestamp of switchyard\'s own log lines, as a Go time layout name: ansic, unixdate, rubydate, rfc822, rfc822z, rfc850, rfc1123, rfc1123z, rfc3339, rfc3339nano, kitchen, stamp, stampmilli, stampmicro, stampnano (local time). "" = no timestamp, as in llama-swap; absent = ISO 8601 in UTC with milliseconds (switchyard\'s default). Another value warns and means no timestamp, as in llama-swap.',
      }),
    ),
    metricsMaxInMemory: Type.Optional(Type.Integer({ default: DEFAULTS.metricsMaxInMemory, description: "Activity records kept in memory (/api/metrics/activity); 0 or less = 1000." })),
    logRequests: Type.Optional(Type.Boolean(ignored("deprecated logRequests flag"))),
  },
  { ...closed, title: "switchyard configuration", description: "switchyard's config.yaml (llama-swap compatible). Top-level keys starting with x- are ignored (a place for YAML anchors); another unknown top-level key that holds YAML anchors is ignored with a warning." },
);

/**
 * Keys llama-swap knows that switchyard accepts and ignores, as path patterns (`*` = any key).
 * Each occurrence gets one warning naming its path.
 */
export const IGNORED_KEYS: readonly (readonly string[])[] = [
  ["logRequests"],
];
