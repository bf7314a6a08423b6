/**
 * Config reload: read the files again (`--config` and `--config-dir`), validate them completely, and only then switch. Invalid:
 * nothing changes; the errors (key path and line) are logged, published as an event and returned.
 * Valid: the diff is applied model by model through the router in one step on its loop
 * (router.reconfigure): unchanged models untouched, metadata applied in place, process changes
 * drained and restarted, removed models drained and retired, new models available at once; the
 * HTTP layer's config switches in the same step. One reload at a time. Bun/Node edge (files,
 * watchers).
 */
import { readFileSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { ConfigPaths } from "./args.ts";
import { ConfigReadError, listConfigDir, readConfigSources } from "./config-sources.ts";
import { describeDiff, diffConfigs, PROCESS_KEYS, sameValue } from "../config/diff.ts";
import { ConfigError, formatIssue } from "../config/errors.ts";
import { loadConfigSources, type ConfigSource, type LoadWarning } from "../config/load.ts";
import type { Config, ModelConfig } from "../config/types.ts";
import type { LiveConfig, ReloadOutcome } from "../http/context.ts";
import type { Logger } from "../log/types.ts";
import type { ObserveEvent } from "../observe/events.ts";
import { localPortOf } from "../process/port-probe.ts";
import type { Supervisor } from "../process/types.ts";
import type { SwitchyardRouter } from "../router/router.ts";

/** Settings read once at start: a change is reported and takes effect at the next start. */
const START_ONLY: readonly (keyof Config)[] = ["logToStdout", "metricsMaxInMemory", "performance", "captureBufferMB", "activityEnabled", "store", "upstreamMetrics", "preload"];

/** What a reloader needs. */
export interface ReloaderOptions {
  /** The config's files: `--config` and `--config-dir`. */
  paths: ConfigPaths;
  live: LiveConfig;
  router: SwitchyardRouter;
  /** The router's supervisors (current ones: their load histories carry over a restart). */
  supervisors: ReadonlyMap<string, Supervisor>;
  /** A new, stopped supervisor for `model`, observed like the others. */
  makeSupervisor(model: ModelConfig, loadHistoryMs: readonly number[]): Supervisor;
  log: Logger;
  observe(ev: ObserveEvent): void;
  env: Record<string, string | undefined>;
  selfCommand: string[];
  now?: () => number;
  /** The fit router's edge: what changed models need, read before the switch and applied with it. */
  placement?: { prepareReload(next: Config): Promise<() => void> } | null;
}

/** A reloader. */
export interface Reloader {
  /** Reload now; `trigger` says why (api, signal, watch). Calls made while one runs wait for it. */
  reload(trigger: string): Promise<ReloadOutcome>;
}

/**
 * The local ports of every model process still alive (a model removed by this or an earlier
 * reload drains on its port until it stops). A model the new config keeps keeps its own port
 * through `previousPorts`; these are withheld from the rest, so a renamed or new model does not
 * start on a port its predecessor still serves.
 */
function busyPorts(supervisors: ReadonlyMap<string, Supervisor>): Set<number> {
  const busy = new Set<number>();
  for (const s of supervisors.values()) {
    if (s.state === "stopped" || s.state === "shutdown") continue;
    const local = localPortOf(s.baseUrl);
    if (local) busy.add(local.port);
  }
  return busy;
}

/** Create the reloader. */
export function createReloader(o: ReloaderOptions): Reloader {
  const now = o.now ?? Date.now;
  let chain: Promise<unknown> = Promise.resolve();

  const refuse = (trigger: string, message: string, errors: { path: string; line: number | null; message: string }[]): ReloadOutcome => {
    o.log.error(`config reload (${trigger}) refused, the running config stays: ${message}`);
    o.observe({ type: "config-reload", ok: false, trigger, changes: "", errors, at: now() });
    return { ok: false, errors, message };
  };

  async function run(trigger: string): Promise<ReloadOutcome> {
    let sources: ConfigSource[];
    try {
      sources = readConfigSources(o.paths);
    } catch (err) {
      if (!(err instanceof ConfigReadError)) throw err;
      return refuse(trigger, err.message, [{ path: "", line: null, message: err.message }]);
    }
    const prev = o.live.config;
    const previousPorts = new Map<string, number>();
    for (const m of Object.values(prev.models)) if (m.port !== null) previousPorts.set(m.id, m.port);
    let next: Config;
    let warnings: LoadWarning[];
    try {
      const busy = busyPorts(o.supervisors);
      ({ config: next, warnings } = loadConfigSources(sources, { env: o.env, selfCommand: o.selfCommand, previousPorts, busyPorts: busy }));
      // A new startPort is a new range, as at a start (llama-swap loads a reload from scratch): the
      // ports are handed out again, so the models on ${PORT} restart on them.
      if (next.startPort !== prev.startPort) ({ config: next, warnings } = loadConfigSources(sources, { env: o.env, selfCommand: o.selfCommand, busyPorts: busy }));
    } catch (err) {
      if (err instanceof ConfigError) {
        return refuse(trigger, err.format(), err.issues.map((i) => ({ path: i.path, line: i.line, message: i.message, ...(i.file !== undefined ? { file: i.file } : {}) })));
      }
      return refuse(trigger, (err as Error)?.message ?? String(err), []);
    }

    const diff = diffConfigs(prev, next);
    const fresh = new Map<string, Supervisor>();
    for (const id of diff.added) fresh.set(id, o.makeSupervisor(next.models[id]!, []));
    for (const { id } of diff.restarted) {
      // The load-time history survives when the command is the same (only env, proxy, … changed).
      const keep = sameValue(prev.models[id]!.cmd, next.models[id]!.cmd) ? (o.supervisors.get(id)?.loadHistoryMs ?? []) : [];
      fresh.set(id, o.makeSupervisor(next.models[id]!, keep));
    }
    const placementSwitch = o.placement ? await o.placement.prepareReload(next) : null;
    await o.router.reconfigure({
      config: next,
      supervisors: fresh,
      added: diff.added,
      removed: diff.removed,
      restarted: diff.restarted.map((r) => r.id),
      ttls: new Map(diff.metadata.filter((d) => d.keys.includes("ttl")).map((d) => [d.id, next.models[d.id]!.ttl])),
      onApplied() {
        o.live.config = next;
        o.live.warnings = warnings;
        for (const f of o.live.replaced ?? []) f();
        placementSwitch?.();
      },
    });
    const changes = describeDiff(diff);
    o.log.info(`config reload (${trigger}): ${changes}`);
    for (const w of warnings) o.log.warn(`config: ${formatIssue(w, w.file)}`);
    const later = START_ONLY.filter((k) => diff.global.includes(k));
    if (later.length > 0) o.log.warn(`config reload: ${later.join(", ")} changed; read at start only, they take effect at the next start`);
    o.observe({ type: "config-reload", ok: true, trigger, changes, errors: [], at: now() });
    return { ok: true, changes, diff: { ...diff, processKeys: PROCESS_KEYS, startOnly: later } };
  }

  return {
    reload(trigger) {
      const p = chain.then(() => run(trigger));
      chain = p.catch(() => {});
      return p;
    },
  };
}

/**
 * `--watch-config`: reload when the config file or a *.yml / *.yaml file of `--config-dir` is added,
 * changed or removed. Directories are watched, not files, so an editor's save by rename (write a
 * temp file, rename it over) is seen at once; the texts are also polled every `pollMs`, for changes
 * no directory event tells (a bind-mounted file, a ConfigMap's symlink swap, a symlink's target); bursts
 * of events are debounced into one reload, and only a real change of some file's text reloads. As
 * llama-swap, a directory left without any such file (or gone) is taken for the middle of a save
 * and does not reload; its files coming back do, in a directory made anew too. Returns the stop
 * function.
 */
export function watchConfig(paths: ConfigPaths, onChange: () => void, debounceMs = 300, pollMs = 2000): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last = snapshot(paths);
  const fire = (): void => {
    timer = null;
    const now = snapshot(paths);
    const fileChanged = now.file !== last.file;
    const dirChanged = now.dir !== null && now.dir !== "" && now.dir !== last.dir;
    last = now;
    if (fileChanged || dirChanged) onChange();
  };
  const poke = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
  };
  const watchers: { close(): void }[] = [];
  if (paths.config !== null) {
    const name = basename(paths.config);
    watchers.push(watchDir(dirname(paths.config), (file) => {
      if (file === null || file === name) poke();
    }));
  }
  // Any name: the files may be symlinks whose targets change elsewhere in the directory.
  if (paths.configDir !== undefined) watchers.push(watchDir(paths.configDir, poke));
  // And a poll of the texts themselves, as llama-swap's watcher polls: no directory event is ever
  // seen for a file bind-mounted alone into a container (`-v ./config.yaml:/config.yaml`), for a
  // ConfigMap's `..data` symlink swap, or for the target of a symlink in another directory.
  const poll = setInterval(() => {
    if (timer === null) fire();
  }, pollMs);
  (poll as { unref?: () => void }).unref?.();
  return () => {
    clearInterval(poll);
    if (timer !== null) clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}

/**
 * Watch a directory's entries, and watch it afresh when it is replaced (`rm -rf conf.d && cp -r
 * new conf.d`, a git checkout, `rsync --delete`): a watch follows the directory's inode and goes
 * deaf with it, so its parent is watched too, and an event there for its name arms a new watch
 * (`file` is then null). A directory that is gone is watched again when it comes back.
 */
function watchDir(path: string, onEvent: (file: string | null) => void): { close(): void } {
  // Absolute, so that "." has a parent to watch.
  const dir = resolve(path);
  let inner: FSWatcher | null = null;
  let closed = false;
  const arm = (): void => {
    inner?.close();
    inner = null;
    if (closed) return;
    try {
      inner = watch(dir, (_event, file) => onEvent(file));
      // A watched directory that goes away may report an error; the parent's watch takes over.
      inner.on("error", () => {});
    } catch {
      // Gone for now: the parent's watch arms it again when it is back.
    }
  };
  arm();
  const name = basename(dir);
  let outer: FSWatcher | null = null;
  try {
    outer = watch(dirname(dir), (_event, file) => {
      if (file !== null && file !== name) return;
      arm();
      onEvent(null);
    });
    outer.on("error", () => {});
  } catch {
    // The parent cannot be watched (a root, no permission): the directory's own watch still works.
  }
  return {
    close() {
      closed = true;
      inner?.close();
      outer?.close();
    },
  };
}

/** The texts the watcher compares: the config file's (null: unreadable) and the directory's files' (null: the directory is unreadable; "": no file). */
function snapshot(paths: ConfigPaths): { file: string | null; dir: string | null } {
  const file = paths.config !== null ? readIfAny(paths.config) : null;
  if (paths.configDir === undefined) return { file, dir: null };
  let names: string[];
  try {
    names = listConfigDir(paths.configDir);
  } catch {
    return { file, dir: null };
  }
  // A file that cannot be read (gone since the listing, a dangling symlink) counts as absent.
  const entries = names.map((n) => [n, readIfAny(n)] as const).filter(([, text]) => text !== null);
  return { file, dir: entries.length === 0 ? "" : JSON.stringify(entries) };
}

function readIfAny(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}
