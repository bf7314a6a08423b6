/**
 * The config loader: YAML text → validated, fully defaulted, typed Config. Pipeline as llama-swap:
 * `${env.NAME}` on the raw text, YAML parse (anchors and merge keys materialised), for several files
 * their merge (merge.ts), macros, schema validation, normalisation. Every problem found in one pass
 * is thrown together as a ConfigError, each with its file, key path and line.
 */
import { isMap, isScalar, parseAllDocuments, parseDocument, visit, type Document, type Node } from "yaml";
import { substituteEnvMacros } from "./env-macros.ts";
import { ConfigError, didYouMean, formatPath, type ConfigIssue, type PathSeg } from "./errors.ts";
import { createLineIndex, createLocator, createScalarFinder, pathAtOffset, type Locator, type Position, type WrittenScalar } from "./locate.ts";
import { describeConflict, mergeTrees, writtenAt, type Written } from "./merge.ts";
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
  /** On a reload: ports still held by a process of a model this config no longer keeps (one draining after its removal); no model gets them. */
  busyPorts?: ReadonlySet<number>;
}

/** One config file: the name messages call it by (its path), and its text. */
export interface ConfigSource {
  name: string;
  text: string;
}

/** A loader warning, with the file it is in. */
export interface LoadWarning extends ConfigWarning {
  file: string;
}

/** A loaded config and the warnings found on the way (also in `config.warnings`). */
export interface LoadResult {
  config: Config;
  warnings: LoadWarning[];
}

const LOG_LEVELS = ["debug", "info", "warn", "error"];

/** A file and a position in it (null: not tied to a place in the file). */
interface Located {
  file: string;
  pos: Position | null;
}

/** Key path → the file and position it was written at. */
type SourceLocator = (path: readonly PathSeg[]) => Located;

/** Collects issues and warnings, each with its file and position. */
function createCollector() {
  const issues: ConfigIssue[] = [];
  const warnings: LoadWarning[] = [];
  const flagged: string[] = [];
  return {
    issues,
    warnings,
    /** Records an issue at an explicit place. */
    add(path: PathSeg[], message: string, at: Located): void {
      issues.push({ path: formatPath(path), line: at.pos?.line ?? null, column: at.pos?.column ?? null, message, file: at.file });
    },
    /** Reporting through one locator: positions looked up by key path. */
    bind(locate: SourceLocator) {
      return {
        report(path: PathSeg[], message: string, at: Located = locate(path)): void {
          issues.push({ path: formatPath(path), line: at.pos?.line ?? null, column: at.pos?.column ?? null, message, file: at.file });
        },
        warn(path: PathSeg[], message: string): void {
          const at = locate(path);
          warnings.push({ path: formatPath(path), line: at.pos?.line ?? null, message, file: at.file });
        },
      };
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

type Collector = ReturnType<typeof createCollector>;
type Reporter = ReturnType<Collector["bind"]>;

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

/** Orders by file (in load order), then position; keeps the finding order otherwise. */
function byPlace<T extends { file?: string; line: number | null; column?: number | null }>(items: readonly T[], files: readonly string[]): T[] {
  const rank = (f: string | undefined): number => (f === undefined ? -1 : files.indexOf(f));
  return items
    .map((item, i) => ({ item, i }))
    .sort((a, b) => rank(a.item.file) - rank(b.item.file) || (a.item.line ?? Infinity) - (b.item.line ?? Infinity) || (a.item.column ?? 0) - (b.item.column ?? 0) || a.i - b.i)
    .map((x) => x.item);
}

function fail(issues: ConfigIssue[], files: readonly string[]): never {
  throw new ConfigError(byPlace(issues, files), files[0] ?? "config.yaml");
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
  return loadConfigSources([{ name: opts.fileName ?? "config.yaml", text }], opts);
}

/** One file after parsing: its tree (null when empty), where its keys are, its scalars, its anchor holders. */
interface ParsedSource {
  name: string;
  tree: RawValue;
  locate: Locator;
  scalarAt: (path: readonly PathSeg[]) => WrittenScalar | null;
  anchors: ReadonlySet<string>;
}

/** `${env.NAME}` and YAML for one file; its problems go to the collector (null when there were any). */
function parseSource(source: ConfigSource, env: Record<string, string | undefined>, c: Collector): ParsedSource | null {
  const file = source.name;
  const originalPos = createLineIndex(source.text);
  const sub = substituteEnvMacros(source.text, env);
  const toPosition = (offset: number): Position => originalPos(sub.toOriginalOffset(offset));

  // Only the first document counts, as in llama-swap (yaml.v3's Unmarshal reads one): a file that
  // ends with `---` loads; a later document with content is left out, with a warning.
  const docs = parseAllDocuments(sub.text, { merge: true, uniqueKeys: true, prettyErrors: false });
  const all: Document[] = Array.isArray(docs) ? docs : [];
  const doc: Document = all[0] ?? parseDocument(sub.text, { merge: true, uniqueKeys: true, prettyErrors: false });
  const later = all.slice(1).find((d) => d.contents !== null && !(isScalar(d.contents) && d.contents.value === null));
  const locate = createLocator(doc, toPosition);
  const r = c.bind((path) => ({ file, pos: locate(path) }));
  const before = c.issues.length;

  for (const e of sub.issues) r.report(doc.errors.length === 0 ? pathAtOffset(doc, e.offset) : [], e.message, { file, pos: originalPos(e.offset) });
  for (const e of doc.errors) {
    if (e.code === "DUPLICATE_KEY") {
      // The tree is still whole enough to say where: the key path of the second occurrence.
      const path = pathAtOffset(doc, e.pos[0]);
      const key = path.length > 0 ? String(path[path.length - 1]) : null;
      r.report(path, key !== null ? `duplicate key "${key}"` : "duplicate key", { file, pos: toPosition(e.pos[0]) });
      continue;
    }
    r.report([], e.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, ""), { file, pos: toPosition(e.pos[0]) });
  }
  if (c.issues.length > before) return null;
  for (const w of doc.warnings) c.warnings.push({ path: "", line: toPosition(w.pos[0]).line, message: w.message.split("\n")[0], file });
  if (later?.range) {
    c.warnings.push({ path: "", line: toPosition(later.range[0]).line, message: "a second YAML document begins here; only the first is read (as llama-swap reads it), so this one is left out", file });
  }

  let js: unknown;
  try {
    js = doc.toJS({ mapAsMap: true, maxAliasCount: 1000 });
  } catch (err) {
    // yaml refuses alias bombs ("Excessive alias count") and similar resource problems this way.
    r.report([], `cannot expand the document: ${(err as Error).message}`);
    return null;
  }
  const tree = toRawTree(js, (path, message) => r.report(path, message));
  if (tree !== null && !isRawMap(tree)) {
    r.report([], "the config must be a mapping of keys (like `models:`) at the top level");
    return null;
  }
  return { name: file, tree, locate, scalarAt: createScalarFinder(doc), anchors: anchorHolders(doc) };
}

/**
 * Loads a config written in several files, merged in the given order (llama-swap's `--config`, then
 * `--config-dir`'s files; see merge.ts for the rules); empty files count as absent. Every issue names
 * the file and line where its key was written. Throws ConfigError listing every problem found.
 */
export function loadConfigSources(sources: readonly ConfigSource[], opts: Omit<LoadOptions, "fileName"> = {}): LoadResult {
  const files = sources.map((s) => s.name);
  const c = createCollector();
  const parsed = sources.map((s) => parseSource(s, opts.env ?? {}, c));
  if (c.issues.length > 0) fail(c.issues, files);

  const parts = parsed.filter((p): p is ParsedSource & { tree: RawMap } => p !== null && isRawMap(p.tree));
  const first = files[0] ?? "config.yaml";
  if (parts.length === 0) return finish(new Map(), opts, c, c.bind(() => ({ file: first, pos: null })), files, new Set());

  const merged = mergeTrees(parts);
  const locateIn = (w: Written): Located => ({ file: parts[w.source]!.name, pos: parts[w.source]!.locate(w.path) });
  const r = c.bind((path) => locateIn(writtenAt(merged.origin, path)));
  for (const conflict of merged.conflicts) {
    const message = describeConflict(conflict, (w) => {
      const at = locateIn(w);
      return at.pos ? `${at.file}:${at.pos.line}` : at.file;
    });
    c.add([...conflict.path], message, locateIn(conflict.at));
  }
  if (c.issues.length > 0) fail(c.issues, files);
  const anchors = new Set(parts.flatMap((p) => [...p.anchors]));
  return finish(merged.tree, opts, c, r, files, anchors);
}

/** `routing.router.use: ""` and `routing.scheduler.use: ""` mean the default, as in llama-swap. */
function dropEmptyUse(tree: RawMap): void {
  for (const part of ["router", "scheduler"]) {
    const block: RawValue | undefined = getIn(tree, ["routing", part]);
    if (isRawMap(block) && block.get("use") === "") block.delete("use");
  }
}

function finish(tree: RawMap, opts: LoadOptions, c: Collector, r: Reporter, files: readonly string[], anchors: ReadonlySet<string>): LoadResult {
  const known = Object.keys(ConfigSchema.properties);
  for (const key of [...tree.keys()]) {
    // Top-level x-* keys hold YAML anchors (the docker-compose convention); their content was merged already.
    if (key.startsWith("x-")) tree.delete(key);
    // llama-swap ignores unknown keys, so configs keep anchors under any name (`defs:`). Such a key is
    // accepted with a warning unless it looks like a misspelt key of ours.
    else if (anchors.has(key) && !known.includes(key) && didYouMean(key, known) === null) {
      r.warn([key], "not a switchyard key; accepted because it holds YAML anchors, otherwise ignored");
      tree.delete(key);
    }
  }
  dropEmptyUse(tree);

  const macros = expandMacros(tree, {
    selfCommand: opts.selfCommand ?? ["switchyard"],
    defaultStartPort: DEFAULTS.startPort,
    knownKeys: new Set(Object.keys(ConfigSchema.properties)),
    ...(opts.previousPorts ? { previousPorts: opts.previousPorts } : {}),
    ...(opts.busyPorts ? { busyPorts: opts.busyPorts } : {}),
  }, (path, message) => {
    r.report(path, message);
    c.flag(path);
  });

  // llama-swap trims and lowercases it: "DEBUG" and " debug " are debug.
  const rawLevel = tree.get("logLevel");
  const level = typeof rawLevel === "string" ? rawLevel.trim().toLowerCase() : rawLevel;
  if (typeof level === "string" && level !== rawLevel && LOG_LEVELS.includes(level)) tree.set("logLevel", level);
  if (typeof level === "string" && !LOG_LEVELS.includes(level)) {
    r.warn(["logLevel"], `unknown log level ${JSON.stringify(level)}; using info (valid: ${LOG_LEVELS.join(", ")})`);
    tree.set("logLevel", "info");
  }

  const plain = coerce(ConfigSchema, toPlain(tree));
  const value = applyDefaults(ConfigSchema, plain) as Record<string, unknown>;
  warnIgnored(value, [], (p, m) => r.warn(p, m));

  // Report schema errors, then drop the offending values and look again, so that the semantic
  // checks can still run on the rest (unless a whole model, peer or top-level key had to go).
  let deep = true;
  for (let round = 0; round < 4; round++) {
    const found = schemaIssues(ConfigSchema, value);
    if (found.length === 0) break;
    // An unknown key is a warning, and dropped: llama-swap's decoder ignores keys it does not know,
    // so a config it loads must load here too (a typo still gets its did-you-mean).
    for (const issue of found) {
      // Except a likely typo of apiKeys: ignored, it would start switchyard without its keys (fail open).
      if (issue.unknown && issue.path.length === 1 && issue.message.endsWith("did you mean apiKeys?")) {
        if (round === 0) r.report(issue.path, "unknown key, did you mean apiKeys? Refused, not ignored: ignoring it would serve without the API keys it seems to set");
      } else if (issue.unknown) r.warn(issue.path, issue.message);
      else if (round === 0 && !c.isFlagged(issue.path)) r.report(issue.path, issue.message);
    }
    // Later entries first, so that removing a list item does not shift the ones still to remove.
    for (const issue of [...found].reverse()) {
      const target = issue.missing ? issue.path.slice(0, -1) : issue.path;
      if (isStructural(target) && !issue.unknown) deep = false;
      prune(value, target);
    }
    if (round === 3) deep = false;
  }
  const schemaOk = deep && Value.Check(ConfigSchema, value);

  let config: Config | null = null;
  if (schemaOk) {
    config = normalizeConfig(value as ConfigInput, {
      report: (p, m) => {
        if (!c.isFlagged(p)) r.report(p, m);
      },
      warn: (p, m) => r.warn(p, m),
      ports: macros.ports,
      orderedKeys: (path) => {
        const v = getIn(tree, path);
        return isRawMap(v) ? [...v.keys()] : null;
      },
    });
  }
  if (config === null && c.issues.length === 0) r.report([], "the config could not be validated");
  if (c.issues.length > 0 || config === null) fail(c.issues, files);
  const warnings = byPlace(c.warnings, files);
  config.warnings = warnings;
  return { config, warnings };
}
