/**
 * The config loader: YAML text → validated, fully defaulted, typed Config. Pipeline as llama-swap:
 * `${env.NAME}` on the raw text, YAML parse (anchors and merge keys materialised), macros, schema
 * validation, normalisation. Every problem found in one pass is thrown together as a ConfigError.
 */
import { isMap, isScalar, parseDocument, visit, type Document, type Node } from "yaml";
import { substituteEnvMacros } from "./env-macros.ts";
import { ConfigError, didYouMean, formatPath, type ConfigIssue, type PathSeg } from "./errors.ts";
import { createLineIndex, createLocator, pathAtOffset, type Locator, type Position } from "./locate.ts";
import { expandMacros } from "./macros.ts";
import { normalizeConfig, type ConfigInput } from "./normalize.ts";
import { getIn, isRawMap, toPlain, toRawTree, type RawMap, type RawValue } from "./raw-tree.ts";
import { applyDefaults, coerce, schemaIssues } from "./schema-check.ts";
import { ConfigSchema, DEFAULTS, IGNORED_KEYS } from "./schema.ts";
import { Value } from "@sinclair/typebox/value";
import type { Config, ConfigWarning } from "./types.ts";

/** Inputs of loadConfig besides the text. */
export interface LoadOptions {
  /** Environment for `${env.NAME}` (pass `process.env`); default: empty, so any use is an error. */
  env?: Record<string, string | undefined>;
  /** Shown in messages; default `config.yaml`. */
  fileName?: string;
  /** argv that re-runs this program, for `${SWITCHYARD}`; default `["switchyard"]`. */
  selfCommand?: string[];
  /** On a reload: the ports the running config gave its models, kept where the model still uses `${PORT}`. */
  previousPorts?: ReadonlyMap<string, number>;
}

/** A loaded config and the warnings found on the way (also in `config.warnings`). */
export interface LoadResult {
  config: Config;
  warnings: ConfigWarning[];
}

const LOG_LEVELS = ["debug", "info", "warn", "error"];

/** Collects issues and warnings with positions. */
function createCollector(locate: Locator) {
  const issues: ConfigIssue[] = [];
  const warnings: ConfigWarning[] = [];
  const flagged: string[] = [];
  return {
    issues,
    warnings,
    report(path: PathSeg[], message: string, pos: Position | null = locate(path)): void {
      issues.push({ path: formatPath(path), line: pos?.line ?? null, column: pos?.column ?? null, message });
    },
    warn(path: PathSeg[], message: string): void {
      warnings.push({ path: formatPath(path), line: locate(path)?.line ?? null, message });
    },
    /** Remembers a path whose value is already known to be wrong (later schema errors there are noise). */
    flag(path: PathSeg[]): void {
      flagged.push(JSON.stringify(path).slice(0, -1));
    },
    isFlagged(path: PathSeg[]): boolean {
      const p = JSON.stringify(path).slice(0, -1);
      return flagged.some((f) => p === f || p.startsWith(f + ","));
    },
  };
}

/** Top-level keys whose value defines a YAML anchor (`defs: {base: &base ...}`). */
function anchorHolders(doc: Document): Set<string> {
  const out = new Set<string>();
  if (!isMap(doc.contents)) return out;
  for (const pair of doc.contents.items) {
    if (!isScalar(pair.key) || pair.value === null) continue;
    let found = false;
    visit(pair.value as Node, {
      Node(_, node) {
        if (node.anchor) {
          found = true;
          return visit.BREAK;
        }
      },
    });
    if (found) out.add(String(pair.key.value));
  }
  return out;
}

function fail(issues: ConfigIssue[], fileName: string): never {
  const sorted = issues
    .map((issue, i) => ({ issue, i }))
    .sort((a, b) => (a.issue.line ?? Infinity) - (b.issue.line ?? Infinity) || (a.issue.column ?? 0) - (b.issue.column ?? 0) || a.i - b.i)
    .map((x) => x.issue);
  throw new ConfigError(sorted, fileName);
}

function matchesPattern(pattern: readonly string[], path: PathSeg[]): boolean {
  return pattern.length === path.length && pattern.every((p, i) => p === "*" || p === path[i]);
}

/** Warns once for each llama-swap key present that switchyard ignores. */
function warnIgnored(value: unknown, path: PathSeg[], warn: (path: PathSeg[], message: string) => void): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return;
  for (const [key, v] of Object.entries(value)) {
    const p = [...path, key];
    if (IGNORED_KEYS.some((pattern) => matchesPattern(pattern, p))) {
      warn(p, "llama-swap setting not implemented by switchyard; ignored");
    } else if (IGNORED_KEYS.some((pattern) => pattern.length > p.length && matchesPattern(pattern.slice(0, p.length), p))) {
      warnIgnored(v, p, warn);
    }
  }
}

const COLLECTIONS = new Set(["models", "peers", "groups", "matrix", "routing"]);

/** True when removing `path` would take away a whole model, peer, group or routing section. */
function isStructural(path: PathSeg[]): boolean {
  if (path.length === 0) return true;
  if (path.length === 1) return COLLECTIONS.has(String(path[0]));
  return path.length === 2 && ["models", "peers", "groups"].includes(String(path[0]));
}

/** Deletes the value at `path` (to keep validating the rest after a schema error there). */
function prune(root: unknown, path: PathSeg[]): void {
  let cur: unknown = root;
  for (const seg of path.slice(0, -1)) {
    if (typeof cur !== "object" || cur === null) return;
    cur = (cur as Record<string, unknown>)[seg as string];
  }
  const last = path[path.length - 1];
  if (Array.isArray(cur) && typeof last === "number") cur.splice(last, 1);
  else if (typeof cur === "object" && cur !== null) delete (cur as Record<string, unknown>)[last as string];
}

/** Loads a config from YAML text; throws ConfigError listing every problem found. */
export function loadConfig(text: string, opts: LoadOptions = {}): LoadResult {
  const fileName = opts.fileName ?? "config.yaml";
  const originalPos = createLineIndex(text);
  const env = substituteEnvMacros(text, opts.env ?? {});
  const toPosition = (offset: number): Position => originalPos(env.toOriginalOffset(offset));

  const doc: Document = parseDocument(env.text, { merge: true, uniqueKeys: true, prettyErrors: false });
  const c = createCollector(createLocator(doc, toPosition));

  for (const e of env.issues) c.report(doc.errors.length === 0 ? pathAtOffset(doc, e.offset) : [], e.message, originalPos(e.offset));
  for (const e of doc.errors) {
    const message = e.code === "DUPLICATE_KEY" ? "duplicate key" : e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    c.report([], message, toPosition(e.pos[0]));
  }
  if (c.issues.length > 0) fail(c.issues, fileName);
  for (const w of doc.warnings) c.warnings.push({ path: "", line: toPosition(w.pos[0]).line, message: w.message.split("\n")[0] });

  let js: unknown;
  try {
    js = doc.toJS({ mapAsMap: true, maxAliasCount: 1000 });
  } catch (err) {
    // yaml refuses alias bombs ("Excessive alias count") and similar resource problems this way.
    c.report([], `cannot expand the document: ${(err as Error).message}`);
    fail(c.issues, fileName);
  }
  const tree = toRawTree(js, (path, message) => c.report(path, message));
  if (tree === null) return finish(new Map(), opts, c, fileName, new Set());
  if (!isRawMap(tree)) {
    c.report([], "the config must be a mapping of keys (like `models:`) at the top level");
    fail(c.issues, fileName);
  }
  return finish(tree, opts, c, fileName, anchorHolders(doc));
}

/** `routing.router.use: ""` and `routing.scheduler.use: ""` mean the default, as in llama-swap. */
function dropEmptyUse(tree: RawMap): void {
  for (const part of ["router", "scheduler"]) {
    const block: RawValue | undefined = getIn(tree, ["routing", part]);
    if (isRawMap(block) && block.get("use") === "") block.delete("use");
  }
}

function finish(tree: RawMap, opts: LoadOptions, c: ReturnType<typeof createCollector>, fileName: string, anchors: ReadonlySet<string>): LoadResult {
  const known = Object.keys(ConfigSchema.properties);
  for (const key of [...tree.keys()]) {
    // Top-level x-* keys hold YAML anchors (the docker-compose convention); their content was merged already.
    if (key.startsWith("x-")) tree.delete(key);
    // llama-swap ignores unknown keys, so configs keep anchors under any name (`defs:`). Such a key is
    // accepted with a warning unless it looks like a misspelt key of ours.
    else if (anchors.has(key) && !known.includes(key) && didYouMean(key, known) === null) {
      c.warn([key], "not a switchyard key; accepted because it holds YAML anchors, otherwise ignored");
      tree.delete(key);
    }
  }
  dropEmptyUse(tree);

  const macros = expandMacros(tree, {
    selfCommand: opts.selfCommand ?? ["switchyard"],
    defaultStartPort: DEFAULTS.startPort,
    knownKeys: new Set(Object.keys(ConfigSchema.properties)),
    ...(opts.previousPorts ? { previousPorts: opts.previousPorts } : {}),
  }, (path, message) => {
    c.report(path, message);
    c.flag(path);
  });

  const level = tree.get("logLevel");
  if (typeof level === "string" && !LOG_LEVELS.includes(level)) {
    c.warn(["logLevel"], `unknown log level ${JSON.stringify(level)}; using info (valid: ${LOG_LEVELS.join(", ")})`);
    tree.set("logLevel", "info");
  }

  const plain = coerce(ConfigSchema, toPlain(tree));
  const value = applyDefaults(ConfigSchema, plain) as Record<string, unknown>;
  warnIgnored(value, [], (p, m) => c.warn(p, m));

  // Report schema errors, then drop the offending values and look again, so that the semantic
  // checks can still run on the rest (unless a whole model, peer or top-level key had to go).
  let deep = true;
  for (let round = 0; round < 4; round++) {
    const found = schemaIssues(ConfigSchema, value);
    if (found.length === 0) break;
    for (const issue of found) if (round === 0 && !c.isFlagged(issue.path)) c.report(issue.path, issue.message);
    // Later entries first, so that removing a list item does not shift the ones still to remove.
    for (const issue of [...found].reverse()) {
      const target = issue.missing ? issue.path.slice(0, -1) : issue.path;
      if (isStructural(target)) deep = false;
      prune(value, target);
    }
    if (round === 3) deep = false;
  }
  const schemaOk = deep && Value.Check(ConfigSchema, value);

  let config: Config | null = null;
  if (schemaOk) {
    config = normalizeConfig(value as ConfigInput, {
      report: (p, m) => {
        if (!c.isFlagged(p)) c.report(p, m);
      },
      warn: (p, m) => c.warn(p, m),
      ports: macros.ports,
      orderedKeys: (path) => {
        const v = getIn(tree, path);
        return isRawMap(v) ? [...v.keys()] : null;
      },
    });
  }
  if (config === null && c.issues.length === 0) c.report([], "the config could not be validated");
  if (c.issues.length > 0 || config === null) fail(c.issues, fileName);
  const warnings = c.warnings
    .map((w, i) => ({ w, i }))
    .sort((a, b) => (a.w.line ?? Infinity) - (b.w.line ?? Infinity) || a.i - b.i)
    .map((x) => x.w);
  config.warnings = warnings;
  return { config, warnings };
}
