/**
 * `switchyard` in serve mode: load the config, compose the parts (logs → supervisors → router →
 * HTTP app), listen, and stop every child on the way out.
 */
import { readFileSync } from "node:fs";
import type { Command } from "./args.ts";
import { selfCommand } from "./self-command.ts";
import { BUILD } from "../version.ts";
import { loadConfig } from "../config/load.ts";
import { ConfigError } from "../config/errors.ts";
import { createLogHub } from "../log/log-hub.ts";
import { createBatchedWriter } from "../log/batched-writer.ts";
import { createSupervisor } from "../process/supervisor.ts";
import { installExitHandlers } from "../process/orphan-guard.ts";
import { createRouter } from "../router/router.ts";
import { createApp } from "../http/app.ts";
import { preload } from "../router/preload.ts";
import type { Supervisor } from "../process/types.ts";
import { freemem, loadavg, totalmem } from "node:os";
import { createActivityLog } from "../observe/activity.ts";
import { createMetrics } from "../observe/metrics.ts";
import { createBroadcast } from "../observe/broadcast.ts";
import type { ObserveEvent } from "../observe/events.ts";
import { observeSupervisor } from "../observe/supervisor-events.ts";

/** Read and validate the config file; exits 2 with the error list on failure. */
function readConfig(path: string) {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    console.error(`switchyard: cannot read config "${path}": ${(err as Error).message}`);
    process.exit(2);
  }
  try {
    return loadConfig(text, { env: process.env, fileName: path, selfCommand: selfCommand() });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.format());
      process.exit(2);
    }
    throw err;
  }
}

/** Serve: the normal mode. */
export async function serve(cmd: Extract<Command, { kind: "serve" }>): Promise<void> {
  const { config, warnings } = readConfig(cmd.config);
  const stdout = createBatchedWriter((s) => process.stdout.write(s));
  process.on("exit", () => stdout.flush());
  const logs = createLogHub({ level: config.logLevel, logToStdout: config.logToStdout, stdout: stdout.write });
  for (const w of warnings) logs.log.warn(`config: ${w.path}${w.line ? ` (line ${w.line})` : ""}: ${w.message}`);

  // Observations from the loop, the supervisors and the proxy: counted at once by the metrics
  // (an O(1) update each), and published to readers (/api/events), which never hold anyone up.
  const events = createBroadcast<ObserveEvent>((err) => logs.log.warn(`events: a subscriber failed: ${(err as Error)?.message ?? err}`));
  const metrics = createMetrics({
    models: () => router.status().map((s) => ({ model: s.model, state: s.state, inFlight: s.inFlight, queued: s.queued })),
    rssBytes: () => process.memoryUsage.rss(),
    system: () => ({ memTotalBytes: totalmem(), memFreeBytes: freemem(), load: loadavg() as [number, number, number] }),
    now: Date.now,
  });
  const observe = (ev: ObserveEvent): void => {
    metrics.observe(ev);
    events.publish(ev);
  };
  const supervisors = new Map<string, Supervisor>();
  for (const model of Object.values(config.models)) {
    const sup = createSupervisor({ model, logs });
    observeSupervisor(sup, observe);
    supervisors.set(model.id, sup);
  }
  const router = createRouter({ config, supervisors, log: logs.log, observe });
  const activity = createActivityLog({ maxInMemory: config.metricsMaxInMemory, sink: (record) => observe({ type: "activity", record }) });
  const app = createApp({ config, router, logs, version: BUILD, models: supervisors, events, activity, metrics });

  let stopping: Promise<void> | null = null;
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      logs.log.info("shutting down: draining requests and stopping every model");
      await router.shutdown();
      // Elysia prints a stack trace when asked to stop a server that never started listening.
      if (app.server) await app.stop(true).catch(() => {});
    })();
    return stopping;
  };
  installExitHandlers(stopAll);

  try {
    app.listen({ hostname: cmd.listen.hostname, port: cmd.listen.port });
  } catch (err) {
    console.error(`switchyard: cannot listen on ${cmd.listen.hostname}:${cmd.listen.port}: ${(err as Error).message}`);
    await stopAll();
    process.exit(1);
  }
  const url = app.server?.url?.toString() ?? `http://${cmd.listen.hostname}:${cmd.listen.port}/`;
  logs.log.info(`switchyard ${BUILD.version} listening on ${url} with ${supervisors.size} model(s)`);
  if (config.preload.length > 0) void preload(router, config.preload, logs.log);
}

