/**
 * What every HTTP handler shares: the config, the router, the logs, the supervisors (for
 * states and load-time history), the proxy and the peer index. Web-standard only.
 */
import { createPeerRequests, type PeerRequests } from "./peer-requests.ts";
import type { Config, ConfigWarning, ModelConfig } from "../config/types.ts";
import type { UiBundle } from "./ui-routes.ts";
import { createLogStream } from "../log/log-stream.ts";
import type { LogHub, LogStream } from "../log/types.ts";
import type { ActivityLog } from "../observe/activity.ts";
import type { ActivityStore } from "../observe/activity-store.ts";
import type { CaptureRing } from "../observe/captures.ts";
import type { HardwareMonitor } from "../observe/hardware-snapshot.ts";
import type { SwitchyardMetrics } from "../observe/metrics.ts";
import type { Broadcast } from "../observe/broadcast.ts";
import type { ObserveEvent } from "../observe/events.ts";
import type { Supervisor } from "../process/types.ts";
import type { Router } from "../router/types.ts";
import { createModelNames, type ModelNames } from "./model-names.ts";
import { createPeerIndex, type PeerIndex, type PeerTarget } from "./peers.ts";
import { createProxy, type DialProbe, type FetchLike, type Proxy } from "./proxy.ts";

/** Build stamp shown by `/api/version`. */
export interface VersionInfo {
  version: string;
  commit: string;
  date: string;
}

/**
 * The config the HTTP layer serves from, replaced as a whole by a config reload (the composition
 * swaps it in the same run-loop step as the router's switch). Handlers read it per request.
 */
export interface LiveConfig {
  config: Config;
  warnings: readonly ConfigWarning[];
  /** Called after a reload replaced `config` (the HTTP layer resets its active profile there). */
  replaced?: (() => void)[];
}

/** Inputs of the HTTP layer. */
export interface HttpDeps {
  /** The config at start (and the whole story when there is no `live`). */
  config: Config;
  /** Where reloads put the current config; absent: `config` for good. */
  live?: LiveConfig;
  /** Reload the config from its files now (`POST /api/config/reload`); absent: that route is 404. */
  reload?: () => Promise<ReloadOutcome>;
  router: Router;
  logs: LogHub;
  version: VersionInfo;
  /** Supervisors by model ID: process states and past load times. */
  models?: ReadonlyMap<string, Supervisor>;
  fetch?: FetchLike;
  /** Checks `timeouts.connect` with a second connection attempt; absent: connect limits are not enforced. */
  dial?: DialProbe;
  /** Requests to peers in flight (serve mode drains them at shutdown; default: a fresh set). */
  peerRequests?: PeerRequests;
  /** Interval of loading-progress ticks (default 1000 ms). */
  loadingTickMs?: number;
  /** Clock in epoch ms (default Date.now). */
  now?: () => number;
  /** Observations (router, supervisors) for `/api/events`; absent: only models and logs are streamed. */
  events?: Broadcast<ObserveEvent>;
  /** Where model requests are recorded; absent: not recorded. */
  activity?: ActivityLog;
  /** Where records are read back from; absent: the activity log's in-memory ring. */
  activityStore?: ActivityStore;
  /** Performance samples and the host description (`/api/performance`, `/api/hardware`); absent: both 503. */
  hardware?: HardwareMonitor;
  /** The Prometheus metrics behind `/metrics`; absent: `/metrics` is 404. */
  metrics?: SwitchyardMetrics;
  /** The web UI's bundle; absent: `/ui/` is 404. */
  ui?: UiBundle;
  /** The loader's warnings, for `/api/config` (default: the config's own). */
  configWarnings?: readonly ConfigWarning[];
  /** Captured exchanges (`captureBuffer` > 0); absent: `/api/captures/{id}` is 404. */
  captures?: CaptureRing | null;
}

/** What a reload did: applied (with what changed), or refused with the errors (key path and line). */
export type ReloadOutcome =
  | { ok: true; changes: string; diff: unknown }
  | { ok: false; errors: readonly ConfigWarning[]; message: string };

/** A requested name resolved to something that can serve it: a local model, or a peer's model. */
export type Target = { kind: "local"; id: string; model: ModelConfig } | ({ kind: "peer" } & PeerTarget);

/** The shared state of the handlers. */
export interface HttpContext {
  /** The current config (a reload replaces it: read it per request, never keep it). */
  readonly config: Config;
  /** The current config's load warnings. */
  readonly configWarnings: readonly ConfigWarning[];
  readonly router: Router;
  readonly logs: LogHub;
  /** Proxy and upstream text interleaved in arrival order (llama-swap's combined log). */
  readonly combinedLogs: LogStream;
  readonly proxy: Proxy;
  /** Requests to peers in flight, held like grants: refused, drained and severed at shutdown. */
  readonly peerRequests: PeerRequests;
  readonly peers: PeerIndex;
  readonly bodyLimitBytes: number;
  readonly loadingTickMs: number;
  readonly now: () => number;
  /** Profiles and selectors: the name a request is served as. */
  readonly names: ModelNames;
  /** Model ID for a model ID or alias, or null. */
  localId(name: string): string | null;
  /** Local models first, then peers. */
  resolve(name: string): Target | null;
  readonly version: VersionInfo;
  /** Observations, when the composition provides them. */
  readonly events: Broadcast<ObserveEvent> | null;
  /** The activity log, when the composition provides one. */
  readonly activity: ActivityLog | null;
  /** The persistent activity store, when one is configured. */
  readonly activityStore: ActivityStore | null;
  /** The hardware monitor, when the composition provides one. */
  readonly hardware: HardwareMonitor | null;
  /** The Prometheus metrics, when the composition provides them. */
  readonly metrics: SwitchyardMetrics | null;
  /** Captured exchanges, when captures are on. */
  readonly captures: CaptureRing | null;
  /** The supervisor of a local model (process state, pid, past load times), when there is one. */
  process(id: string): Supervisor | undefined;
  /** Current process state of a local model (supervisor, else the router's view). */
  stateOf(id: string): string;
}

/**
 * One ring fed by the proxy and upstream streams in the order their text arrives, so `/logs`
 * reads chronologically instead of all proxy lines then all upstream lines. What was written
 * before the app existed (config warnings) seeds it. Followers are fed once per event-loop turn,
 * so text of both streams written within one turn may arrive grouped by stream.
 */
function createCombinedLog(logs: LogHub): LogStream {
  const ring = createLogStream();
  ring.write(logs.proxy.history() + logs.upstream.history());
  logs.proxy.subscribe((text) => ring.write(text));
  logs.upstream.subscribe((text) => ring.write(text));
  return ring;
}

/** Assemble the context from the dependencies. */
export function createHttpContext(deps: HttpDeps): HttpContext {
  const live: LiveConfig = deps.live ?? { config: deps.config, warnings: deps.configWarnings ?? deps.config.warnings };
  // The peer index is rebuilt when a reload brings a new config.
  let peersFor: { config: Config; index: PeerIndex } | null = null;
  const peersNow = (): PeerIndex => {
    if (peersFor?.config !== live.config) peersFor = { config: live.config, index: createPeerIndex(live.config) };
    return peersFor.index;
  };
  const localId = (name: string): string | null => {
    const config = live.config;
    return Object.hasOwn(config.models, name) ? name : Object.hasOwn(config.aliases, name) ? config.aliases[name] : null;
  };
  const stateOf = (id: string): string => {
    const sup = deps.models?.get(id);
    if (sup) return sup.state;
    return deps.router.status().find((s) => s.model === id)?.state ?? "stopped";
  };
  const names = createModelNames({ config: () => live.config, stateOf, publish: deps.events ? (ev) => deps.events!.publish(ev) : undefined, now: deps.now });
  (live.replaced ??= []).push(() => names.sync());
  return {
    get config() {
      return live.config;
    },
    names,
    get configWarnings() {
      return live.warnings;
    },
    version: deps.version,
    events: deps.events ?? null,
    activity: deps.activity ?? null,
    activityStore: deps.activityStore ?? null,
    hardware: deps.hardware ?? null,
    metrics: deps.metrics ?? null,
    captures: deps.captures ?? null,
    process: (id) => deps.models?.get(id),
    router: deps.router,
    logs: deps.logs,
    combinedLogs: createCombinedLog(deps.logs),
    proxy: createProxy({ fetch: deps.fetch, log: deps.logs.log, dial: deps.dial }),
    peerRequests: deps.peerRequests ?? createPeerRequests(),
    get peers() {
      return peersNow();
    },
    get bodyLimitBytes() {
      return Math.max(0, live.config.requestBodyLimitMB) * 1024 * 1024;
    },
    loadingTickMs: deps.loadingTickMs ?? 1000,
    now: deps.now ?? Date.now,
    localId,
    resolve(name) {
      const id = localId(name);
      const model = id !== null ? live.config.models[id] : undefined;
      if (id !== null && model) return { kind: "local", id, model };
      const peer = peersNow().resolve(name);
      return peer ? { kind: "peer", ...peer } : null;
    },
    stateOf,
  };
}
