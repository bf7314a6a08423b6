/**
 * `switchyard` in serve mode: load the config, compose the parts (logs → supervisors → router →
 * HTTP app), listen, and stop every child on the way out.
 */
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { createPlacementEdge } from "./placement-edge.ts";
import { ANY_HOST, type Command, type TlsFiles } from "./args.ts";
import { selfCommand } from "./self-command.ts";
import { BUILD } from "../version.ts";
import { loadConfigSources, type ConfigSource } from "../config/load.ts";
import { ConfigError, formatIssue } from "../config/errors.ts";
import type { ConfigPaths } from "./args.ts";
import { ConfigReadError, describeConfigPaths, readConfigSources } from "./config-sources.ts";
import { createLogHub } from "../log/log-hub.ts";
import { createBatchedWriter } from "../log/batched-writer.ts";
import { createSupervisor } from "../process/supervisor.ts";
import { installExitHandlers } from "../process/orphan-guard.ts";
import { createRouter } from "../router/router.ts";
import { createApp } from "../http/app.ts";
import { createHardwareMonitor } from "./hardware-monitor.ts";
import { createStdoutSink } from "./stdout-sink.ts";
import { decompressBody } from "./decompress.ts";
import { createPeerRequests } from "../http/peer-requests.ts";
import { createDialProbe } from "./dial-probe.ts";
import { loadUiBundle } from "./ui-bundle.ts";
import { preload } from "../router/preload.ts";
import { createReloader, watchConfig } from "./reload.ts";
import type { LiveConfig } from "../http/context.ts";
import type { Supervisor } from "../process/types.ts";
import { freemem, loadavg, totalmem } from "node:os";
import { createActivityLog } from "../observe/activity.ts";
import { createCaptureRing } from "../observe/captures.ts";
import { createMetrics } from "../observe/metrics.ts";
import { createBroadcast } from "../observe/broadcast.ts";
import type { ObserveEvent } from "../observe/events.ts";
import { observeSupervisor } from "../observe/supervisor-events.ts";
import type { ActivityStore } from "../observe/activity-store.ts";
import { ActivityStoreOpenError, openSqliteActivityStore } from "../store/sqlite-activity-store.ts";

/** Read and validate the config (`--config` and `--config-dir`); exits 2 with the error list on failure. */
function readConfig(paths: ConfigPaths) {
  let sources: ConfigSource[];
  try {
    sources = readConfigSources(paths);
  } catch (err) {
    if (!(err instanceof ConfigReadError)) throw err;
    console.error(`switchyard: ${err.message}`);
    process.exit(2);
  }
  try {
    return loadConfigSources(sources, { env: process.env, selfCommand: selfCommand() });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.format());
      process.exit(2);
    }
    throw err;
  }
}

/** Open the activity store the config asks for (before anything starts); exits 1 with one line when it cannot. */
function openStore(store: { path: string; maxRecords: number; maxAgeDays: number }, onError: (err: unknown) => void): ActivityStore {
  try {
    return openSqliteActivityStore({ path: store.path, maxRecords: store.maxRecords, maxAgeDays: store.maxAgeDays, onError });
  } catch (err) {
    const reason = err instanceof ActivityStoreOpenError ? err.reason : ((err as Error)?.message ?? String(err));
    console.error(`switchyard: cannot open the activity store "${store.path}": ${reason}`);
    process.exit(1);
  }
}

/** Read `--tls-cert-file` and `--tls-key-file` (PEM text) before anything starts; exits 1 with one line naming an unreadable file. */
function readTls(tls: TlsFiles): { cert: string; key: string } {
  const read = (what: string, path: string): string => {
    try {
      return readFileSync(path, "utf8");
    } catch (err) {
      console.error(`switchyard: cannot read TLS ${what} file "${path}": ${(err as Error).message}`);
      process.exit(1);
    }
  };
  return { cert: read("certificate", tls.cert), key: read("key", tls.key) };
}

/** Serve: the normal mode. */
export async function serve(cmd: Extract<Command, { kind: "serve" }>): Promise<void> {
  const { config, warnings } = readConfig(cmd);
  const tls = cmd.tls ? readTls(cmd.tls) : undefined;
  // Before the log hub and the children: a store that cannot open stops everything, with one line.
  let storeError: (err: unknown) => void = (err) => console.error(`switchyard: activity store: ${(err as Error)?.message ?? err}`);
  const store = config.store ? openStore(config.store, (err) => storeError(err)) : null;
  const stdout = createBatchedWriter(createStdoutSink());
  const logs = createLogHub({ level: config.logLevel, logToStdout: config.logToStdout, timeFormat: config.logTimeFormat, stdout: stdout.write });
  process.on("exit", () => {
    logs.flush();
    stdout.flush();
  });
  for (const w of warnings) logs.log.warn(`config: ${formatIssue(w, w.file)}`);
  storeError = (err) => logs.log.warn(`activity store: ${(err as Error)?.message ?? err}`);
  if (store) {
    logs.log.info(`activity store: ${config.store!.path} (last id ${store.lastId()}; keeps ${config.store!.maxRecords} records, ${config.store!.maxAgeDays} days)`);
    // A last resort for exits that skip stopAll (a second signal): the write is synchronous.
    process.on("exit", () => store.close());
  }

  // Observations from the loop, the supervisors and the proxy: counted at once by the metrics
  // (an O(1) update each), and published to readers (/api/events), which never hold anyone up.
  const events = createBroadcast<ObserveEvent>((err) => logs.log.warn(`events: a subscriber failed: ${(err as Error)?.message ?? err}`));
  const metrics = createMetrics({
    models: () => router.status().map((s) => ({ model: s.model, state: s.state, inFlight: s.inFlight, queued: s.queued })),
    rssBytes: () => process.memoryUsage.rss(),
    system: () => ({ memTotalBytes: totalmem(), memFreeBytes: freemem(), load: loadavg() as [number, number, number] }),
    now: Date.now,
    memory: () => router.memory?.() ?? null,
  });
  // The fit router: devices (declared or detected) and the ledger, before the router exists;
  // each model is measured when it turns ready (observed below) and the figure goes to the loop.
  const placement = config.routing.router === "fit" ? await createPlacementEdge({ config, configDir: cmd.config ? dirname(cmd.config) : (cmd.configDir ?? null), log: logs.log }) : null;
  for (const line of placement?.lines ?? []) logs.log.info(`fit: ${line}`);
  const observe = (ev: ObserveEvent): void => {
    metrics.observe(ev);
    events.publish(ev);
    if (placement && ev.type === "model-state" && ev.to === "starting") placement.starting(ev.model);
    if (placement && ev.type === "model-state" && ev.to === "ready") {
      const sup = supervisors.get(ev.model);
      if (sup) placement.measure(ev.model, sup, (m) => router.recordMemory(m));
    }
  };
  const supervisors = new Map<string, Supervisor>();
  const makeSupervisor = (model: (typeof config.models)[string], loadHistoryMs: readonly number[] = []): Supervisor => {
    const sup = createSupervisor({ model, logs, loadHistoryMs });
    observeSupervisor(sup, observe);
    return sup;
  };
  for (const model of Object.values(config.models)) supervisors.set(model.id, makeSupervisor(model));
  const router = createRouter({ config, supervisors, log: logs.log, observe, ...(placement ? { placement: placement.deps } : {}) });
  // Captures (captureBuffer MB), masking every key this process knows wherever it appears.
  const captures =
    config.activityEnabled && config.captureBufferMB > 0
      ? createCaptureRing({ megabytes: config.captureBufferMB, secrets: [...config.apiKeys, ...Object.values(config.peers).map((p) => p.apiKey)] })
      : null;
  const activity = !config.activityEnabled ? undefined : createActivityLog({
    maxInMemory: config.metricsMaxInMemory,
    captures,
    decompress: decompressBody,
    onInflight: (update) => events.publish({ type: "inflight", update }),
    // In-flight entries are built only while someone reads /api/events.
    wantsInflight: () => events.size > 0,
    // A restarted process continues the store's numbering.
    firstId: store ? store.lastId() + 1 : 1,
    sink: (record) => {
      store?.add(record);
      observe({ type: "activity", record });
    },
  });
  // /api/performance samples (unless performance.disabled) and the /api/hardware snapshot.
  const hardware = createHardwareMonitor({ enabled: config.performance.enabled, everyMs: config.performance.everyMs, version: BUILD.version, log: logs.log });
  hardware.start();
  // Embedded in the binary; bundled from src/ui/ when running from source. A UI that cannot be
  // bundled is logged and left out: the proxy serves without it.
  const ui = await loadUiBundle().catch((err: unknown) => {
    logs.log.warn(`web UI unavailable: ${(err as Error)?.message ?? err}`);
    return undefined;
  });
  // The config the HTTP layer reads; a reload replaces it in the router's switch step.
  const live: LiveConfig = { config, warnings };
  // logLevel and logTimeFormat apply on reload, as in llama-swap.
  (live.replaced ??= []).push(() => logs.configure({ level: live.config.logLevel, timeFormat: live.config.logTimeFormat }));
  const reloader = createReloader({ paths: cmd, live, router, supervisors, makeSupervisor, log: logs.log, observe, env: process.env, selfCommand: selfCommand(), placement });
  const peerRequests = createPeerRequests();
  const app = createApp({ peerRequests, config, live, reload: () => reloader.reload("api"), configWarnings: warnings, dial: createDialProbe(), router, logs, version: BUILD, models: supervisors, events, activity, captures, metrics, hardware, ui, ...(store ? { activityStore: store } : {}) });

  let stopping: Promise<void> | null = null;
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      logs.log.info("shutting down: draining requests and stopping every model");
      // Peer requests drain beside the local ones, bounded by the global drainTimeout.
      await Promise.all([router.shutdown(), peerRequests.shutdown(live.config.drainTimeout * 1000)]);
      await hardware.stop();
      // Elysia prints a stack trace when asked to stop a server that never started listening.
      if (app.server) await app.stop(true).catch(() => {});
      // After the router stopped: the requests it drained have their records by now.
      store?.close();
    })();
    return stopping;
  };
  installExitHandlers(stopAll, { onHangup: () => void reloader.reload("signal") });
  if (cmd.watchConfig) {
    const stopWatching = watchConfig(cmd, () => void reloader.reload("watch"));
    process.on("exit", stopWatching);
    logs.log.info(`watching ${describeConfigPaths(cmd)} for changes`);
  }

  try {
    // Bun.serve's `tls` (Elysia passes listen options through): HTTPS, WebSockets (wss) included.
    const listen = (hostname: string) => app.listen({ hostname, port: cmd.listen.port, ...(tls ? { tls } : {}) });
    try {
      listen(cmd.listen.hostname);
    } catch (err) {
      // Every address: IPv6 with IPv4 on one socket where the machine has IPv6, else IPv4 alone.
      if (cmd.listen.hostname !== ANY_HOST) throw err;
      listen("0.0.0.0");
    }
  } catch (err) {
    // A certificate or key that is not PEM, or that do not match, fails here (OpenSSL's words).
    const withTls = cmd.tls ? ` with TLS (${cmd.tls.cert}, ${cmd.tls.key})` : "";
    const host = cmd.listen.hostname.includes(":") ? `[${cmd.listen.hostname}]` : cmd.listen.hostname;
    console.error(`switchyard: cannot listen on ${host}:${cmd.listen.port}${withTls}: ${(err as Error).message}`);
    await stopAll();
    process.exit(1);
  }
  const url = app.server?.url?.toString() ?? `http://${cmd.listen.hostname}:${cmd.listen.port}/`;
  logs.log.info(`switchyard ${BUILD.version} listening on ${url} with ${supervisors.size} model(s)`);
  if (config.preload.length > 0) void preload(router, config.preload, logs.log);
}

