/**
 * `switchyard --check`: load and validate a config, print the warnings and the resolved model table
 * to stdout (errors to stderr, no stack trace), and answer 0 (usable) or 2 (not usable).
 */
import { formatSize } from "../config/size.ts";
import { placementDevices } from "./placement-edge.ts";
import type { ConfigPaths } from "./args.ts";
import { ConfigReadError, describeConfigPaths, readConfigSources } from "./config-sources.ts";
import { shellJoin } from "../config/command.ts";
import { ConfigError, formatIssue } from "../config/errors.ts";
import { loadConfigSources, type ConfigSource } from "../config/load.ts";
import type { Config, ConfigWarning } from "../config/types.ts";

/** Where runCheck writes (injectable for tests). */
export interface CheckIO {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
}

const defaultIO: CheckIO = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
};

/** Lays rows out in columns separated by two spaces (the last column is not padded). */
export function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ").trimEnd()).join("\n");
}

/** Model ID → the group (group router) or the set names (matrix router) it belongs to. */
function placement(config: Config): Map<string, string> {
  const out = new Map<string, string>();
  if (config.routing.matrix) {
    // One compiled entry per set, with every model it mentions.
    for (const s of config.routing.matrix.compiled) for (const m of s.models) out.set(m, out.has(m) ? `${out.get(m)},${s.set}` : s.set);
  } else {
    for (const g of config.routing.groups) for (const m of g.members) out.set(m, g.id);
  }
  return out;
}

/** The human report of a loaded config: summary, warnings, model table, peers (`fileName` names the config; a warning's own file wins). */
export function renderCheckReport(config: Config, warnings: readonly ConfigWarning[], fileName: string): string {
  const models = Object.values(config.models);
  const peers = Object.values(config.peers);
  const lines: string[] = [];
  lines.push(
    `${fileName}: OK: ${models.length} model(s), ${peers.length} peer(s), router ${config.routing.router}, scheduler ${config.routing.scheduler}`,
  );
  if (warnings.length > 0) {
    lines.push("", `warnings (${warnings.length}):`);
    for (const w of warnings) lines.push(`  ${formatIssue(w, fileName)}`);
  }
  if (models.length > 0) {
    const where = placement(config);
    const header = ["ID", "PORT", "PROXY", "TTL", config.routing.router === "matrix" ? "SETS" : "GROUP", "ALIASES", "ARGV"];
    const rows = models.map((m) => [
      m.id,
      m.port === null ? "-" : String(m.port),
      m.proxy,
      m.ttl === 0 ? "never" : `${m.ttl}s`,
      where.get(m.id) ?? "-",
      m.aliases.length > 0 ? m.aliases.join(",") : "-",
      shellJoin(m.cmd),
    ]);
    lines.push("", formatTable([header, ...rows]));
  }
  if (peers.length > 0) {
    lines.push("", formatTable([["PEER", "PROXY", "MODELS"], ...peers.map((p) => [p.id, p.proxy, p.models.join(",")])]));
  }
  return lines.join("\n") + "\n";
}

/** Validates the config (`--config` and `--config-dir`); prints the report; returns the exit code (0 ok, 2 bad). */
export async function runCheck(paths: ConfigPaths, selfCommand: string[], io: CheckIO = defaultIO): Promise<number> {
  const name = describeConfigPaths(paths);
  let sources: ConfigSource[];
  try {
    sources = readConfigSources(paths);
  } catch (err) {
    if (!(err instanceof ConfigReadError)) throw err;
    io.err(`switchyard: ${err.message}\n`);
    return 2;
  }
  try {
    const { config, warnings } = loadConfigSources(sources, { env: io.env, selfCommand });
    io.out(renderCheckReport(config, warnings, name));
    // The fit router: what it would place on (declared, else detected now).
    if (config.routing.router === "fit") {
      const { lines } = await placementDevices(config);
      io.out(`\nfit devices:\n${lines.map((l) => `  ${l}\n`).join("")}`);
      for (const m of Object.values(config.models)) {
        const mem = m.memory;
        const text = !mem ? "not declared (guessed from its GGUF file, else learned after its first load)" : mem.kind === "any" ? formatSize(mem.bytes) : Object.entries(mem.perDevice).map(([d, b]) => `${formatSize(b)} on ${d}`).join(" + ");
        io.out(`  ${m.id}: ${text}${m.persistent ? ", persistent" : ""}\n`);
      }
    }
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`${err.format()}\n${name}: ${err.issues.length} error(s); the config was not loaded\n`);
    return 2;
  }
}
