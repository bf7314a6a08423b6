/**
 * Schema-valid input → resolved Config: llama-swap's defaults and normalisation, plus the checks
 * that need the whole picture (aliases, groups, matrix, routing, scheduler priorities, peers).
 */
import type { Static } from "@sinclair/typebox";
import { CommandSyntaxError, parseCommand } from "./command.ts";
import { didYouMean, type PathSeg } from "./errors.ts";
import { compareCodePoints } from "./macros.ts";
import { compileMatrix, MatrixDslError, parseMatrixExpression } from "./matrix-dsl.ts";
import { ConfigSchema, DEFAULTS } from "./schema.ts";
import type { Config, GroupConfig, MatrixConfig, ModelConfig, ModelFilters, PeerConfig, RoutingConfig } from "./types.ts";

/** The schema-valid, macro-expanded file. */
export type ConfigInput = Static<typeof ConfigSchema>;
type ModelInput = NonNullable<ConfigInput["models"]>[string];
type GroupInput = NonNullable<ConfigInput["groups"]>[string];
type MatrixInput = NonNullable<ConfigInput["matrix"]>;

/** What normalisation needs from the loader. */
export interface NormalizeContext {
  report(path: PathSeg[], message: string): void;
  warn(path: PathSeg[], message: string): void;
  /** Ports handed out by the macro pass. */
  ports: ReadonlyMap<string, number>;
  /** Keys of the mapping at `path` in document order (plain objects reorder integer-like keys). */
  orderedKeys(path: PathSeg[]): string[] | null;
}

/** Name of the synthetic group that holds every ungrouped model. */
export const DEFAULT_GROUP_ID = "(default)";

/** Checks an upstream URL; returns it without trailing slashes, or null when it is not usable. */
export function normalizeUrl(raw: string): string | null {
  const text = raw.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") return null;
  return text.replace(/\/+$/, "");
}

/** llama-swap's stripParams: comma list → trimmed, deduped, sorted, never `model`. */
export function sanitizeStripParams(text: string): string[] {
  const names = new Set<string>();
  for (const part of text.split(",")) {
    const name = part.trim();
    if (name !== "" && name !== "model") names.add(name);
  }
  return [...names].sort(compareCodePoints);
}

function ordered(ctx: NormalizeContext, path: PathSeg[], obj: object): string[] {
  const keys = ctx.orderedKeys(path);
  return keys ? keys.filter((k) => Object.hasOwn(obj, k)) : Object.keys(obj);
}

function withoutModelKey(params: Record<string, unknown>, path: PathSeg[], ctx: NormalizeContext): Record<string, unknown> {
  const out = { ...params };
  if (Object.hasOwn(out, "model")) {
    delete out.model;
    ctx.warn([...path, "model"], "the model field cannot be set by filters; ignored");
  }
  return out;
}

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
      else if (alias === id) ctx.report(at, `alias ${JSON.stringify(alias)} repeats the model's own ID`);
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
  if (ids.length === 0 && Object.keys(peers).length === 0) ctx.warn([], "no models or peers are defined");

  return {
    healthCheckTimeout,
    logLevel: input.logLevel ?? "info",
    logToStdout: input.logToStdout ?? "proxy",
    startPort: input.startPort ?? DEFAULTS.startPort,
    sendLoadingState,
    includeAliasesInList: input.includeAliasesInList ?? false,
    globalTTL,
    unloadTimeout,
    drainTimeout,
    requestBodyLimitMB: input.requestBodyLimitMB ?? DEFAULTS.requestBodyLimitMB,
    apiKeys,
    preload,
    models,
    aliases,
    routing,
    peers,
    warnings: [],
  };
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

  let checkEndpoint = (m.checkEndpoint ?? DEFAULTS.checkEndpoint).trim();
  if (checkEndpoint !== "none" && !checkEndpoint.startsWith("/")) checkEndpoint = "/" + checkEndpoint;

  const ttlIn = m.ttl ?? -1;
  const ttl = ttlIn === -1 ? d.globalTTL : ttlIn;
  let concurrencyLimit = m.concurrencyLimit || DEFAULTS.concurrencyLimit;
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
    healthCheckTimeout: d.healthCheckTimeout,
  };
}

function hasKeys(o: object | undefined): boolean {
  return o !== undefined && Object.keys(o).length > 0;
}

function normalizeRouting(
  input: ConfigInput,
  ctx: NormalizeContext,
  ids: string[],
  idSet: ReadonlySet<string>,
  aliases: Record<string, string>,
  resolve: (name: string) => string | null,
): RoutingConfig {
  const rr = input.routing?.router;
  const hasLegacy = input.matrix !== undefined || hasKeys(input.groups);
  const hasRouting = rr?.use !== undefined || rr?.settings?.matrix !== undefined || hasKeys(rr?.settings?.groups);
  let groupsIn: Record<string, GroupInput> = {};
  let groupsPath: PathSeg[] = ["groups"];
  let matrixIn: MatrixInput | null = null;
  let matrixPath: PathSeg[] = ["matrix"];

  if (hasLegacy && hasRouting) {
    ctx.report(
      [input.matrix !== undefined ? "matrix" : "groups"],
      "the legacy top-level groups/matrix keys cannot be combined with routing.router; move them under routing.router.settings",
    );
  } else if (hasLegacy) {
    if (input.matrix !== undefined && hasKeys(input.groups)) ctx.report(["matrix"], "cannot use both groups and matrix; pick one router");
    if (input.matrix !== undefined) matrixIn = input.matrix;
    else groupsIn = input.groups ?? {};
  } else {
    const settings = rr?.settings ?? {};
    if (rr?.use === "matrix") {
      matrixPath = ["routing", "router", "settings", "matrix"];
      if (settings.matrix === undefined) ctx.report(["routing", "router", "use"], "is matrix but routing.router.settings.matrix is not set");
      else matrixIn = settings.matrix;
      if (hasKeys(settings.groups)) ctx.warn(["routing", "router", "settings", "groups"], "ignored: routing.router.use is matrix");
    } else {
      groupsPath = ["routing", "router", "settings", "groups"];
      groupsIn = settings.groups ?? {};
      if (settings.matrix !== undefined) ctx.warn(["routing", "router", "settings", "matrix"], "ignored: routing.router.use is group");
    }
  }

  let matrix: MatrixConfig | null = null;
  let groups: GroupConfig[] = [];
  if (matrixIn !== null) matrix = normalizeMatrix(matrixIn, matrixPath, ctx, idSet, aliases);
  else groups = normalizeGroups(groupsIn, groupsPath, ctx, ids, idSet, aliases);

  const fifo = input.routing?.scheduler?.settings?.fifo;
  const priority: Record<string, number> = {};
  const setBy: Record<string, string> = {};
  const prioPath: PathSeg[] = ["routing", "scheduler", "settings", "fifo", "priority"];
  for (const key of ordered(ctx, prioPath, fifo?.priority ?? {})) {
    const id = resolve(key);
    if (id === null) {
      const hint = didYouMean(key, [...idSet, ...Object.keys(aliases)]);
      ctx.report([...prioPath, key], `unknown model ${JSON.stringify(key)}${hint ? `, did you mean ${hint}?` : ""}`);
    } else if (Object.hasOwn(priority, id)) {
      ctx.report([...prioPath, key], `model ${id} already has a priority (from key ${JSON.stringify(setBy[id])})`);
    } else {
      priority[id] = fifo!.priority![key];
      setBy[id] = key;
    }
  }

  return {
    router: matrix !== null ? "matrix" : "group",
    groups,
    matrix,
    scheduler: input.routing?.scheduler?.use ?? "fifo",
    fifo: { priority, maxWait: fifo?.maxWait ?? DEFAULTS.fifoMaxWait },
  };
}

function unknownModel(name: string, idSet: ReadonlySet<string>, aliases: Record<string, string>, what: string): string {
  if (Object.hasOwn(aliases, name)) return `${JSON.stringify(name)} is an alias of model ${aliases[name]}; ${what} take model IDs`;
  const hint = didYouMean(name, idSet);
  return `${JSON.stringify(name)} is not a model ID${hint ? `, did you mean ${hint}?` : ""}`;
}

function normalizeGroups(
  groupsIn: Record<string, GroupInput>,
  groupsPath: PathSeg[],
  ctx: NormalizeContext,
  ids: string[],
  idSet: ReadonlySet<string>,
  aliases: Record<string, string>,
): GroupConfig[] {
  const groups: GroupConfig[] = [];
  const memberOf = new Map<string, string>();
  for (const gid of ordered(ctx, groupsPath, groupsIn)) {
    const g = groupsIn[gid];
    const gp: PathSeg[] = [...groupsPath, gid];
    if (gid === DEFAULT_GROUP_ID) ctx.report(gp, `the group name ${DEFAULT_GROUP_ID} is reserved for ungrouped models`);
    const members: string[] = [];
    g.members.forEach((member, i) => {
      const at: PathSeg[] = [...gp, "members", i];
      if (members.includes(member)) ctx.report(at, `duplicate member ${JSON.stringify(member)}`);
      else if (!idSet.has(member)) ctx.report(at, unknownModel(member, idSet, aliases, "groups"));
      else if (memberOf.has(member)) ctx.report(at, `model ${member} is already a member of group ${memberOf.get(member)}; a model belongs to at most one group`);
      else {
        memberOf.set(member, gid);
        members.push(member);
      }
    });
    groups.push({ id: gid, members, swap: g.swap ?? true, exclusive: g.exclusive ?? true, persistent: g.persistent ?? false });
  }
  const ungrouped = ids.filter((id) => !memberOf.has(id));
  groups.push({ id: DEFAULT_GROUP_ID, members: ungrouped, swap: true, exclusive: true, persistent: false });
  return groups;
}

const VAR_KEY = /^[a-zA-Z0-9.-]{1,32}$/;

function normalizeMatrix(
  m: MatrixInput,
  path: PathSeg[],
  ctx: NormalizeContext,
  idSet: ReadonlySet<string>,
  aliases: Record<string, string>,
): MatrixConfig {
  const vars: Record<string, string> = {};
  let ok = true;
  const varsIn = m.vars ?? {};
  for (const key of ordered(ctx, [...path, "vars"], varsIn)) {
    const at: PathSeg[] = [...path, "vars", key];
    if (!VAR_KEY.test(key)) {
      ctx.report(at, "var names are 1-32 letters, digits, '-' or '.'");
      ok = false;
    } else if (!idSet.has(varsIn[key])) {
      ctx.report(at, unknownModel(varsIn[key], idSet, aliases, "vars"));
      ok = false;
    }
    vars[key] = varsIn[key];
  }
  const evictCosts: Record<string, number> = {};
  const costsIn = m.evict_costs ?? {};
  for (const key of ordered(ctx, [...path, "evict_costs"], costsIn)) {
    if (!Object.hasOwn(vars, key) && !idSet.has(key)) {
      const hint = didYouMean(key, [...Object.keys(vars), ...idSet]);
      ctx.report([...path, "evict_costs", key], `unknown var or model ${JSON.stringify(key)}${hint ? `, did you mean ${hint}?` : ""}`);
    }
    evictCosts[key] = costsIn[key];
  }
  const sets = ordered(ctx, [...path, "sets"], m.sets).map((name) => ({ name, dsl: m.sets[name] }));
  const matrix: MatrixConfig = { vars, evictCosts, sets };
  if (sets.length === 0) {
    ctx.report([...path, "sets"], "must define at least one set");
    return matrix;
  }
  // Parse every set first so that each syntax error is reported, then link and expand once.
  for (const { name, dsl } of sets) {
    try {
      parseMatrixExpression(dsl, name);
    } catch (err) {
      if (!(err instanceof MatrixDslError)) throw err;
      ctx.report([...path, "sets", name], err.detail);
      ok = false;
    }
  }
  if (ok) {
    try {
      compileMatrix(matrix, idSet);
    } catch (err) {
      if (!(err instanceof MatrixDslError)) throw err;
      ctx.report(err.set === "" ? [...path, "sets"] : [...path, "sets", err.set], err.detail);
    }
  }
  return matrix;
}

function normalizePeers(input: ConfigInput, ctx: NormalizeContext, idSet: ReadonlySet<string>, aliases: Record<string, string>): Record<string, PeerConfig> {
  const peers: Record<string, PeerConfig> = {};
  const peersIn = input.peers ?? {};
  const fqns = new Map<string, string>();
  for (const pid of ordered(ctx, ["peers"], peersIn)) {
    const p = peersIn[pid];
    const at = (...rest: PathSeg[]): PathSeg[] => ["peers", pid, ...rest];
    if (pid.trim() === "") ctx.report(at(), "peer ID is empty");
    const proxy = normalizeUrl(p.proxy);
    if (p.proxy.trim() === "") ctx.report(at("proxy"), "is required");
    else if (proxy === null) ctx.report(at("proxy"), `invalid proxy URL ${JSON.stringify(p.proxy)}: must be an absolute http:// or https:// URL`);
    const models: string[] = [];
    p.models.forEach((model, i) => {
      if (model === "") {
        ctx.report(at("models", i), "model name is empty");
        return;
      }
      if (models.includes(model)) return;
      models.push(model);
      const fqn = `${pid}/${model}`;
      const other = fqns.get(fqn);
      if (other !== undefined) ctx.report(at("models", i), `peer model name ${JSON.stringify(fqn)} is ambiguous: ${other} gives the same name`);
      else if (idSet.has(fqn)) ctx.report(at("models", i), `peer model name ${JSON.stringify(fqn)} is also a local model ID`);
      else if (Object.hasOwn(aliases, fqn)) ctx.report(at("models", i), `peer model name ${JSON.stringify(fqn)} is also an alias of model ${aliases[fqn]}`);
      fqns.set(fqn, `peer ${pid} model ${model}`);
    });
    peers[pid] = {
      id: pid,
      proxy: proxy ?? p.proxy,
      apiKey: p.apiKey ?? "",
      models,
      filters: {
        stripParams: sanitizeStripParams(p.filters?.stripParams ?? ""),
        setParams: withoutModelKey(p.filters?.setParams ?? {}, at("filters", "setParams"), ctx),
      },
    };
  }
  return peers;
}
