/**
 * Schema-valid input → resolved Config: llama-swap's defaults and normalisation, plus the checks
 * that need the whole picture (aliases here; routing and peers in their own modules).
 */
import { CommandSyntaxError, parseCommand } from "./command.ts";
import type { PathSeg } from "./errors.ts";
import { compareCodePoints } from "./compare-code-points.ts";
import { normalizeUrl, ordered, sanitizeStripParams, withoutModelKey, type ConfigInput, type ModelInput, type NormalizeContext } from "./normalize-context.ts";
import { normalizeSelectors } from "./normalize-selectors.ts";
import { normalizeModelMemory } from "./normalize-fit.ts";
import { normalizePeers } from "./normalize-peers.ts";
import { normalizePerformance } from "./normalize-performance.ts";
import { normalizeLogTimeFormat } from "./normalize-logging.ts";
import { normalizeCapabilities, normalizeTimeouts, normalizeUpstreamIgnorePaths } from "./normalize-proxy.ts";
import { normalizeRouting } from "./normalize-routing.ts";
import { DEFAULTS } from "./schema.ts";
import type { Config, ModelConfig, ModelFilters } from "./types.ts";

export { DEFAULT_GROUP_ID, normalizeUrl, sanitizeStripParams, type ConfigInput, type NormalizeContext } from "./normalize-context.ts";

/** Splits a command; null (after reporting) when it cannot be split. */
function argv(text: string | undefined, path: PathSeg[], ctx: NormalizeContext): string[] | null {
  if (text === undefined) return [];
  try {
    return parseCommand(text);
  } catch (err) {
    if (err instanceof CommandSyntaxError) {
      ctx.report(path, err.message);
      return null;
    }
    throw err;
  }
}

/** A model's own healthCheckTimeout (raised to the minimum, with a warning), else the global one. */
function modelHealthCheckTimeout(own: number | undefined, global: number, path: PathSeg[], ctx: NormalizeContext): number {
  if (own === undefined) return global;
  if (own < DEFAULTS.minHealthCheckTimeout) ctx.warn(path, `${own} raised to the minimum of ${DEFAULTS.minHealthCheckTimeout}`);
  return Math.max(own, DEFAULTS.minHealthCheckTimeout);
}

/** Builds the resolved Config; problems go to ctx.report / ctx.warn. */
export function normalizeConfig(input: ConfigInput, ctx: NormalizeContext): Config {
  const healthCheckTimeout = Math.max(input.healthCheckTimeout ?? DEFAULTS.healthCheckTimeout, DEFAULTS.minHealthCheckTimeout);
  if ((input.healthCheckTimeout ?? DEFAULTS.healthCheckTimeout) < DEFAULTS.minHealthCheckTimeout) {
    ctx.warn(["healthCheckTimeout"], `${input.healthCheckTimeout} raised to the minimum of ${DEFAULTS.minHealthCheckTimeout}`);
  }
  const globalTTL = input.globalTTL ?? DEFAULTS.globalTTL;
  const unloadTimeout = input.unloadTimeout || DEFAULTS.unloadTimeout;
  const drainTimeout = input.drainTimeout ?? DEFAULTS.drainTimeout;
  const sendLoadingState = input.sendLoadingState ?? false;

  const apiKeys = input.apiKeys ?? [];
  apiKeys.forEach((key, i) => {
    if (key === "") ctx.report(["apiKeys", i], "API key is empty");
    else if (/\s/.test(key)) ctx.report(["apiKeys", i], "API key contains whitespace");
  });

  const modelsIn = input.models ?? {};
  const ids = Object.keys(modelsIn).sort(compareCodePoints);
  const idSet = new Set(ids);
  const aliases: Record<string, string> = {};

  // Explicit aliases first, for every model, so setParamsByID keys below can collide with them.
  for (const id of ids) {
    (modelsIn[id].aliases ?? []).forEach((alias, i) => {
      const at: PathSeg[] = ["models", id, "aliases", i];
      if (alias === "") ctx.report(at, "alias is empty");
      // llama-swap finds a model by its ID first, so such an alias does nothing there: dropped with a warning.
      else if (alias === id) ctx.warn(at, `alias ${JSON.stringify(alias)} repeats the model's own ID; ignored`);
      else if (idSet.has(alias)) ctx.report(at, `alias ${JSON.stringify(alias)} is the ID of another model`);
      else if (Object.hasOwn(aliases, alias)) {
        ctx.report(
          at,
          aliases[alias] === id
            ? `alias ${JSON.stringify(alias)} is listed twice`
            : `duplicate alias ${JSON.stringify(alias)}: already an alias of model ${aliases[alias]}`,
        );
      } else aliases[alias] = id;
    });
  }

  const models: Record<string, ModelConfig> = {};
  for (const id of ids) models[id] = normalizeModel(id, modelsIn[id], ctx, { aliases, idSet, healthCheckTimeout, globalTTL, unloadTimeout, drainTimeout, sendLoadingState });

  const resolve = (name: string): string | null => (idSet.has(name) ? name : Object.hasOwn(aliases, name) ? aliases[name] : null);
  const routing = normalizeRouting(input, ctx, ids, idSet, aliases, resolve);

  const preload: string[] = [];
  (input.hooks?.on_startup?.preload ?? []).forEach((raw, i) => {
    const name = raw.trim();
    if (name === "") return;
    const id = resolve(name);
    if (id === null) ctx.warn(["hooks", "on_startup", "preload", i], `${JSON.stringify(name)} is not a model ID or alias; it will not be preloaded`);
    else if (!preload.includes(id)) preload.push(id);
  });

  const peers = normalizePeers(input, ctx, idSet, aliases);
  const { selectors, profiles } = normalizeSelectors(input, ctx, idSet, aliases, peers, routing);
  if (ids.length === 0 && Object.keys(peers).length === 0) ctx.warn([], "no models or peers are defined");

  if (input.activity?.disabled === true) {
    // Nothing is recorded, so nothing can be stored or captured.
    if (input.store !== undefined) ctx.warn(["store"], "has no effect while activity.disabled is true");
    if ((input.captureBuffer ?? 0) > 0) ctx.warn(["captureBuffer"], "has no effect while activity.disabled is true");
  }
  return {
    healthCheckTimeout,
    logLevel: input.logLevel ?? "info",
    logToStdout: input.logToStdout ?? "proxy",
    logTimeFormat: normalizeLogTimeFormat(input, ctx),
    upstreamIgnorePaths: normalizeUpstreamIgnorePaths(input, ctx),
    startPort: input.startPort ?? DEFAULTS.startPort,
    sendLoadingState,
    includeAliasesInList: input.includeAliasesInList ?? false,
    globalTTL,
    unloadTimeout,
    drainTimeout,
    requestBodyLimitMB: input.requestBodyLimitMB ?? DEFAULTS.requestBodyLimitMB,
    // llama-swap: a value that is not positive means its default.
    metricsMaxInMemory: (input.metricsMaxInMemory ?? 0) > 0 ? (input.metricsMaxInMemory as number) : DEFAULTS.metricsMaxInMemory,
    performance: normalizePerformance(input, ctx),
    store: normalizeStore(input, ctx),
    // llama-swap: a capture buffer that is not positive means no captures.
    captureBufferMB: Math.max(0, input.captureBuffer ?? 0),
    // llama-swap's default session headers unless the file lists its own ([] = none).
    ui: { activity: { session_id: headerNames(input.ui?.activity?.session_id ?? DEFAULTS.sessionIdHeaders) } },
    upstreamMetrics: input.metrics?.upstream ?? false,
    activityEnabled: !(input.activity?.disabled ?? false),
    apiKeys,
    preload,
    models,
    aliases,
    routing,
    peers,
    profiles,
    selectors,
    warnings: [],
  };
}

/**
 * `store:` (the activity database). The path is used as written, relative to the working directory
 * as in llama-swap; whether it can be opened is checked when serve opens it (the loader has no file system).
 */
function normalizeStore(input: ConfigInput, ctx: NormalizeContext): Config["store"] {
  const s = input.store;
  if (s === undefined) return null;
  const path = s.path ?? "";
  if (path.trim() === "") {
    ctx.report(["store", "path"], "must not be empty");
    return null;
  }
  return { path, maxRecords: s.maxRecords ?? DEFAULTS.storeMaxRecords, maxAgeDays: s.maxAgeDays ?? DEFAULTS.storeMaxAgeDays };
}

/**
 * llama-swap sends checkEndpoint through its reverse proxy, which keeps only the path and query of an
 * absolute URL and joins a relative one with a slash; the resolved value is that path.
 */
function normalizeCheckEndpoint(raw: string): string {
  const text = raw.trim();
  if (text === "none") return text;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      return url.pathname + url.search;
    } catch {
      // Not a URL after all: treat it as a path like any other.
    }
  }
  return text.startsWith("/") ? text : "/" + text;
}

interface ModelDefaults {
  aliases: Record<string, string>;
  idSet: ReadonlySet<string>;
  healthCheckTimeout: number;
  globalTTL: number;
  unloadTimeout: number;
  drainTimeout: number;
  sendLoadingState: boolean;
}

function normalizeModel(id: string, m: ModelInput, ctx: NormalizeContext, d: ModelDefaults): ModelConfig {
  const at = (...rest: PathSeg[]): PathSeg[] => ["models", id, ...rest];
  const cmdArgv = argv(m.cmd, at("cmd"), ctx);
  if (cmdArgv !== null && cmdArgv.length === 0) {
    ctx.warn(m.cmd === undefined ? at() : at("cmd"), "no cmd: this model cannot be started");
  }
  const cmd = cmdArgv ?? [];
  const cmdStop = argv(m.cmdStop, at("cmdStop"), ctx) ?? [];

  const proxyText = m.proxy ?? "";
  const proxy = normalizeUrl(proxyText);
  // Leftover macros and an out-of-range ${PORT} were reported by the macro pass already.
  if (proxy === null && !proxyText.includes("${") && (ctx.ports.get(id) ?? 0) <= 65535) {
    ctx.report(at("proxy"), `invalid proxy URL ${JSON.stringify(proxyText)}: must be an absolute http:// or https:// URL`);
  }

  const env: Record<string, string> = {};
  for (const entry of m.env ?? []) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }

  const checkEndpoint = normalizeCheckEndpoint(m.checkEndpoint ?? DEFAULTS.checkEndpoint);

  const ttlIn = m.ttl ?? -1;
  const ttl = ttlIn === -1 ? d.globalTTL : ttlIn;
  // llama-swap uses the default for any limit that is not positive.
  let concurrencyLimit = (m.concurrencyLimit ?? 0) > 0 ? m.concurrencyLimit! : DEFAULTS.concurrencyLimit;
  if ((m.concurrencyLimit ?? 0) < 0) ctx.warn(at("concurrencyLimit"), `${m.concurrencyLimit} means the default of ${DEFAULTS.concurrencyLimit}`);
  if (id === DEFAULTS.comfyUIModelId) concurrencyLimit = Math.max(concurrencyLimit, DEFAULTS.comfyUIConcurrencyLimit);

  const aliases = [...(m.aliases ?? [])].filter((a) => d.aliases[a] === id);
  const f = m.filters ?? {};
  const setParamsByID: Record<string, Record<string, unknown>> = {};
  const byIdIn = f.setParamsByID ?? {};
  for (const key of ordered(ctx, at("filters", "setParamsByID"), byIdIn)) {
    const keyPath = at("filters", "setParamsByID", key);
    setParamsByID[key] = withoutModelKey(byIdIn[key], keyPath, ctx);
    if (key === id) continue;
    if (d.idSet.has(key)) ctx.report(keyPath, `key is the ID of model ${key}; setParamsByID keys become aliases of this model`);
    else if (Object.hasOwn(d.aliases, key)) {
      if (d.aliases[key] !== id) ctx.report(keyPath, `duplicate alias ${JSON.stringify(key)}: already an alias of model ${d.aliases[key]}`);
    } else {
      d.aliases[key] = id;
      aliases.push(key);
    }
  }
  const filters: ModelFilters = {
    stripParams: sanitizeStripParams(f.stripParams || f.strip_params || ""),
    setParams: withoutModelKey(f.setParams ?? {}, at("filters", "setParams"), ctx),
    setParamsByID,
  };

  return {
    id,
    cmd,
    cmdStop,
    proxy: proxy ?? proxyText,
    port: ctx.ports.get(id) ?? null,
    aliases,
    env,
    checkEndpoint,
    ttl,
    unloadTimeout: m.unloadTimeout || d.unloadTimeout,
    drainTimeout: m.drainTimeout ?? d.drainTimeout,
    unlisted: m.unlisted ?? false,
    useModelName: m.useModelName ?? "",
    name: (m.name ?? "").trim(),
    description: (m.description ?? "").trim(),
    concurrencyLimit,
    sendLoadingState: m.sendLoadingState ?? d.sendLoadingState,
    filters,
    metadata: m.metadata ?? {},
    memory: normalizeModelMemory(m, at("memory"), ctx),
    persistent: m.persistent ?? false,
    healthCheckTimeout: modelHealthCheckTimeout(m.healthCheckTimeout, d.healthCheckTimeout, at("healthCheckTimeout"), ctx),
    capabilities: normalizeCapabilities(m.capabilities),
    timeouts: normalizeTimeouts(m.timeouts, at("timeouts"), DEFAULTS.timeoutResponseHeaderModel, ctx),
    // llama-swap forces it for its ComfyUI model: the UI's socket must not keep the model loaded.
    compat: { ignoreWebsockets: id === DEFAULTS.comfyUIModelId || (m.compat?.ignoreWebsockets ?? false) },
  };
}

/** Header names as llama-swap keeps them: trimmed, blanks dropped, the first of each spelling regardless of case. */
function headerNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of names) {
    const name = raw.trim();
    if (name === "" || seen.has(name.toLowerCase())) continue;
    seen.add(name.toLowerCase());
    out.push(name);
  }
  return out;
}
