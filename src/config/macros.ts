/**
 * llama-swap's macro pass on the untyped tree: global macros on every top-level value but `models`,
 * then per model `[MODEL_ID, SWITCHYARD, ...global with model overrides]` applied last-to-first (so a
 * macro may only use macros declared before it), then `${PORT}` for models whose cmd uses it, then
 * a sweep for anything left unresolved. A value that is exactly one macro takes the macro's type.
 */
import { shellJoin, stripCommentLines } from "./command.ts";
import { compareCodePoints } from "./compare-code-points.ts";
import type { PathSeg } from "./errors.ts";
import { isRawMap, type RawMap, type RawValue } from "./raw-tree.ts";

/** A declared macro. */
export interface MacroEntry {
  name: string;
  value: string | number | boolean;
}

/** Options of the macro pass. */
export interface MacroOptions {
  /** argv that re-runs this program; `${SWITCHYARD}` expands to it, shell-quoted. */
  selfCommand: readonly string[];
  /** Default first `${PORT}` when `startPort` is absent or invalid (the schema reports invalid ones). */
  defaultStartPort: number;
  /** Top-level keys swept for leftover macros (unknown keys are reported as such, not for their content). */
  knownKeys: ReadonlySet<string>;
  /**
   * On a config reload, the `${PORT}` each model had: it keeps it (so adding a model does not move
   * the others' ports and restart them); new models get the next ports nobody holds.
   */
  previousPorts?: ReadonlyMap<string, number>;
  /** Ports a process still holds (a removed model draining): a new model never gets one. */
  busyPorts?: ReadonlySet<number>;
}

/** Reports a problem at a key path. */
export type Report = (path: PathSeg[], message: string) => void;

/** Names the user may not declare. */
// ${GPU} (the fit router's GPU indices, replaced at start) is not reserved: a llama-swap config may
// define a macro of that name, and then its value is used as any macro's.
export const RESERVED_MACROS = ["PID", "PORT", "MODEL_ID", "SWITCHYARD"] as const;
/** Default `proxy` of a model that does not set one. */
export const DEFAULT_PROXY = "http://localhost:${PORT}";

const NAME = /^[a-zA-Z0-9_-]+$/;
const USE = /\$\{([a-zA-Z0-9_-]+)\}/g;
const ENV_USE = /\$\{env\.([a-zA-Z_][a-zA-Z0-9_]*)\}/g;

/** Formats a macro value for interpolation the way Go's `%v` does. */
export function formatMacroValue(v: string | number | boolean): string {
  if (typeof v !== "number" || Number.isInteger(v) || !Number.isFinite(v)) {
    if (v === Infinity) return "+Inf";
    if (v === -Infinity) return "-Inf";
    return String(v);
  }
  const exp = Math.floor(Math.log10(Math.abs(v)));
  if (exp < -4 || exp >= 21) {
    return v.toExponential().replace(/e([+-])(\d)$/, "e$10$2");
  }
  return String(v);
}

/** Reads and validates a `macros:` mapping; invalid entries are reported and left out. */
export function readMacroDeclarations(value: RawValue | undefined, path: PathSeg[], report: Report): MacroEntry[] {
  if (value === undefined || value === null) return [];
  if (!isRawMap(value)) {
    report(path, "must be a mapping of macro name to value");
    return [];
  }
  const out: MacroEntry[] = [];
  for (const [name, v] of value) {
    const at = [...path, name];
    if (name.length >= 64) {
      report(at, "macro name is longer than 63 characters");
      continue;
    }
    if (!NAME.test(name)) {
      report(at, "macro name may only contain letters, digits, '_' and '-'");
      continue;
    }
    if ((RESERVED_MACROS as readonly string[]).includes(name)) {
      report(at, `macro name ${name} is reserved`);
      continue;
    }
    if (typeof v === "string") {
      if (v.includes(`\${${name}}`)) {
        report(at, `macro ${name} refers to itself`);
        continue;
      }
    } else if (typeof v !== "number" && typeof v !== "boolean") {
      report(at, `macro value must be a string, number or boolean, got ${kindOf(v)}`);
      continue;
    }
    out.push({ name, value: v });
  }
  return out;
}

function kindOf(v: RawValue): string {
  if (v === null) return "nothing (null)";
  if (Array.isArray(v)) return "a list";
  if (isRawMap(v)) return "a mapping";
  return typeof v;
}

/** Applies the list last-to-first to one string; an exact `${name}` takes the macro's type. */
function substituteString(s: string, macros: readonly MacroEntry[]): RawValue {
  let v: RawValue = s;
  for (let i = macros.length - 1; i >= 0; i--) {
    if (typeof v !== "string") break;
    const slug = `\${${macros[i].name}}`;
    if (v === slug) v = macros[i].value;
    else if (v.includes(slug)) v = v.replaceAll(slug, formatMacroValue(macros[i].value));
  }
  return v;
}

/** Applies the list to every string value of the tree (mapping keys are left alone). */
export function substituteTree(v: RawValue, macros: readonly MacroEntry[]): RawValue {
  if (macros.length === 0) return v;
  if (typeof v === "string") return substituteString(v, macros);
  if (Array.isArray(v)) return v.map((x) => substituteTree(x, macros));
  if (isRawMap(v)) {
    const out: RawMap = new Map();
    for (const [k, x] of v) out.set(k, substituteTree(x, macros));
    return out;
  }
  return v;
}

/** Model macros override globals of the same name in place; new ones are appended. */
function mergeMacros(modelId: string, self: MacroEntry, global: readonly MacroEntry[], local: readonly MacroEntry[]): MacroEntry[] {
  const merged: MacroEntry[] = [{ name: "MODEL_ID", value: modelId }, self, ...global];
  for (const entry of local) {
    const i = merged.findIndex((e) => e.name === entry.name);
    if (i >= 0) merged[i] = entry;
    else merged.push(entry);
  }
  return merged;
}

function setParamsByID(model: RawMap): RawMap | null {
  const filters = model.get("filters");
  if (!isRawMap(filters)) return null;
  const byId = filters.get("setParamsByID");
  return isRawMap(byId) ? byId : null;
}

// setParamsByID keys are the only mapping keys that macros apply to (they become aliases).
function substituteKeys(model: RawMap, macros: readonly MacroEntry[], path: PathSeg[], report: Report): void {
  const byId = setParamsByID(model);
  if (!byId) return;
  const out: RawMap = new Map();
  for (const [key, value] of byId) {
    let k = key;
    for (let i = macros.length - 1; i >= 0; i--) k = k.replaceAll(`\${${macros[i].name}}`, formatMacroValue(macros[i].value));
    if (out.has(k)) {
      report([...path, "filters", "setParamsByID", key], `key resolves to ${JSON.stringify(k)}, the same as another key`);
      continue;
    }
    out.set(k, value);
  }
  (model.get("filters") as RawMap).set("setParamsByID", out);
}

/** What the macro pass found: declared macros and the ports handed out. */
export interface MacroResult {
  globalMacros: MacroEntry[];
  modelMacros: Map<string, MacroEntry[]>;
  /** Model ID → port, for models whose cmd uses `${PORT}`. */
  ports: Map<string, number>;
  /** Models whose proxy was defaulted to `http://localhost:${PORT}`. */
  defaultedProxy: Set<string>;
}

/**
 * Runs the whole macro pass in place on `root` (a top-level mapping). Reports every problem found;
 * `startPort` is read after the global pass because it may itself be a macro.
 */
export function expandMacros(root: RawMap, opts: MacroOptions, report: Report): MacroResult {
  const self: MacroEntry = { name: "SWITCHYARD", value: shellJoin(opts.selfCommand) };
  const globalMacros = readMacroDeclarations(root.get("macros"), ["macros"], report);
  root.delete("macros");
  const modelMacros = new Map<string, MacroEntry[]>();
  const defaultedProxy = new Set<string>();
  const ports = new Map<string, number>();
  // Paths already reported here, so the final sweep does not report them again.
  const reported = new Set<string>();

  const models = root.get("models");
  const modelMap = isRawMap(models) ? models : null;
  if (modelMap) {
    for (const [id, model] of modelMap) {
      if (!isRawMap(model)) continue;
      modelMacros.set(id, readMacroDeclarations(model.get("macros"), ["models", id, "macros"], report));
      model.delete("macros");
      for (const field of ["cmd", "cmdStop"]) {
        const v = model.get(field);
        if (typeof v === "string") model.set(field, stripCommentLines(v));
      }
      const proxy = model.get("proxy");
      if (proxy === undefined || proxy === null) {
        model.set("proxy", DEFAULT_PROXY);
        defaultedProxy.add(id);
      }
    }
  }

  const globalList = [self, ...globalMacros];
  for (const [key, value] of root) {
    if (key !== "models") root.set(key, substituteTree(value, globalList));
  }

  // Every model's macros first, so that which commands use ${PORT} is known after expansion (a
  // macro `llama: "llama-server --port ${PORT}"` brings it in).
  const ids = modelMap ? [...modelMap.keys()].sort(compareCodePoints) : [];
  if (modelMap) {
    for (const id of ids) {
      let model = modelMap.get(id)!;
      if (!isRawMap(model)) continue;
      const macros = mergeMacros(id, self, globalMacros, modelMacros.get(id) ?? []);
      model = substituteTree(model, macros) as RawMap;
      substituteKeys(model, macros, ["models", id], report);
      modelMap.set(id, model);
    }
  }

  const sp = root.get("startPort");
  let nextPort = typeof sp === "number" && Number.isInteger(sp) && sp >= 1 ? sp : opts.defaultStartPort;
  // A reload keeps each model's port when its command still takes one, so it is not restarted for it.
  const kept = new Map<string, number>();
  if (modelMap && opts.previousPorts) {
    for (const id of modelMap.keys()) {
      const p = opts.previousPorts.get(id);
      const m = modelMap.get(id);
      const cmd = isRawMap(m) ? m.get("cmd") : undefined;
      if (p !== undefined && typeof cmd === "string" && cmd.includes("${PORT}")) kept.set(id, p);
    }
  }
  const held = new Set([...kept.values(), ...(opts.busyPorts ?? [])]);
  const takePort = (id: string): number => {
    const k = kept.get(id);
    if (k !== undefined) return k;
    while (held.has(nextPort)) nextPort++;
    return nextPort++;
  };

  if (modelMap) {
    for (const id of ids) {
      let model = modelMap.get(id)!;
      if (!isRawMap(model)) continue;
      const path: PathSeg[] = ["models", id];

      const cmd = model.get("cmd");
      const proxy = model.get("proxy");
      const cmdHasPort = typeof cmd === "string" && cmd.includes("${PORT}");
      const proxyHasPort = typeof proxy === "string" && proxy.includes("${PORT}");
      if (proxyHasPort && !cmdHasPort) {
        reported.add(JSON.stringify([...path, "proxy"]));
        report(
          [...path, "proxy"],
          defaultedProxy.has(id)
            ? "no proxy is set and cmd does not use ${PORT}: add ${PORT} to cmd, or set proxy to the URL the server listens on"
            : "proxy uses ${PORT} but cmd does not; ${PORT} is only handed out to models whose cmd uses it",
        );
      }
      if (cmdHasPort) {
        const port = takePort(id);
        if (port > 65535) report([...path, "cmd"], `\${PORT} would be ${port}, above 65535; lower startPort`);
        ports.set(id, port);
        const portList: MacroEntry[] = [{ name: "PORT", value: port }];
        model = substituteTree(model, portList) as RawMap;
        substituteKeys(model, portList, path, report);
      }
      modelMap.set(id, model);
    }
  }

  // ${GPU} is the fit router's to fill; with another router it would reach the process as text.
  const routing = root.get("routing");
  const router = isRawMap(routing) ? routing.get("router") : undefined;
  const fit = isRawMap(router) && router.get("use") === "fit";
  for (const [key, value] of root) {
    if (!opts.knownKeys.has(key)) continue;
    reportLeftovers(value, [key], fit, (path, message) => {
      if (!reported.has(JSON.stringify(path))) report(path, message);
    });
  }
  return { globalMacros, modelMacros, ports, defaultedProxy };
}

/** Where `${GPU}` may stand: a model's cmd and its env values. */
const isGpuPlace = (path: PathSeg[]): boolean => path[0] === "models" && (path[2] === "cmd" || path[2] === "env") && path.length <= 4;

function leftoverMessage(name: string, path: PathSeg[]): string {
  if (name === "PORT") {
    return path[0] === "models"
      ? "${PORT} is only available in models whose cmd uses ${PORT}"
      : "${PORT} is only available inside a model whose cmd uses it";
  }
  if (name === "MODEL_ID") return "${MODEL_ID} is only available inside a model";
  if (name === "PID") return "${PID} is only available in cmdStop";
  if (name === "GPU") return isGpuPlace(path) ? "${GPU} is only available with routing.router.use: fit (it is the GPUs that router placed the model on)" : "${GPU} is only available in a model's cmd and env";
  return `unknown macro \${${name}}`;
}

/** Reports every `${name}` still present (`${PID}` is allowed in `models.*.cmdStop`, `${GPU}` in a model's cmd and env under the fit router). */
function reportLeftovers(v: RawValue, path: PathSeg[], fit: boolean, report: Report): void {
  if (typeof v === "string") {
    const allowPid = path.length === 3 && path[0] === "models" && path[2] === "cmdStop";
    // ${GPU}: the GPU indices the fit router placed the model on, replaced when it starts.
    const allowGpu = fit && isGpuPlace(path);
    const names = new Set<string>();
    for (const m of v.matchAll(USE)) if (!(allowPid && m[1] === "PID") && !(allowGpu && m[1] === "GPU")) names.add(m[1]);
    if (names.size > 0) report(path, [...names].map((n) => leftoverMessage(n, path)).join("; "));
    for (const m of v.matchAll(ENV_USE)) report(path, `environment variable ${m[1]} is not set`);
    return;
  }
  if (Array.isArray(v)) v.forEach((x, i) => reportLeftovers(x, [...path, i], fit, report));
  else if (isRawMap(v)) {
    const byIdPath = path.length === 4 && path[0] === "models" && path[2] === "filters" && path[3] === "setParamsByID";
    for (const [k, x] of v) {
      if (byIdPath) {
        const names = [...k.matchAll(USE)].map((m) => m[1]);
        if (names.length > 0) report([...path, k], `key: ${names.map((n) => leftoverMessage(n, path)).join("; ")}`);
      }
      reportLeftovers(x, [...path, k], fit, report);
    }
  }
}
