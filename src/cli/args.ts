/**
 * Command-line parsing for `switchyard` (pure: no I/O), so flag handling is testable.
 * Accepts both `--flag value` and `--flag=value`, and llama-swap's single-dash spellings
 * (`-config`, `-config-dir`, `-listen`, `-version`) so existing service files keep working.
 */

/**
 * Where the config is: `--config` (null when only `--config-dir` is given) and `--config-dir`, a
 * directory whose *.yml and *.yaml files are merged after it (llama-swap's flags).
 */
export interface ConfigPaths {
  config: string | null;
  configDir?: string;
}

/** What the command line asks for. */
export type Command =
  | ({ kind: "serve"; listen: { hostname: string; port: number }; watchConfig: boolean; tls?: TlsFiles } & ConfigPaths)
  | ({ kind: "check" } & ConfigPaths)
  | { kind: "version" }
  | { kind: "help" }
  | { kind: "simulate"; argv: string[] };

/** `--tls-cert-file` and `--tls-key-file`: serve HTTPS with this certificate chain and key (PEM files). */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** A command-line mistake; main prints it with the usage and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** The text `--help` prints. */
export const USAGE = `switchyard: on-demand model-swapping proxy for local inference servers

Usage:
  switchyard [--config <file>] [--listen <[host]:port>]   serve (default config.yaml, :8080)
             [--config-dir <dir>]                        also the dir's *.yml/*.yaml files, merged after --config in name order
                                                         (alone: no config.yaml is read)
             [--watch-config]                            reload the config when a file changes (also: SIGHUP, POST /api/config/reload)
             [--tls-cert-file <pem> --tls-key-file <pem>]
                                                         serve HTTPS (then the default is :8443)
  switchyard --check [--config <file>] [--config-dir <dir>]
                                                         validate the config, print warnings and the model table
  switchyard simulate [--port N] [--model NAME] ...      run the built-in simulated backend
  switchyard --version                                   print version, commit and build date
  switchyard --help                                      this text

Exit codes: 0 ok, 1 runtime failure, 2 bad config or bad usage.`;

/** Parse `[host]:port` (`:8080`, `127.0.0.1:9000`, `[::1]:8080`, `8080`). */
export function parseListen(value: string): { hostname: string; port: number } {
  const text = value.trim();
  const m = /^(?:(?:\[([^\]]+)\]|([^:[\]]*)):)?(\d+)$/.exec(text);
  if (!m) throw new UsageError(`--listen: expected [host]:port, got "${value}"`);
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--listen: port must be 0-65535, got "${m[3]}"`);
  }
  // Go's net.Listen, under llama-swap, takes an empty or unspecified host for every address of the
  // machine, IPv6 too (one dual-stack socket): "::" here, "0.0.0.0" where there is no IPv6 (serve.ts).
  const host = m[1] ?? m[2] ?? "";
  const hostname = host === "" || host === "0.0.0.0" ? ANY_HOST : host;
  return { hostname, port };
}

/** The host that means every address, IPv4 and IPv6. */
export const ANY_HOST = "::";

/** Go's strconv.ParseBool, as its flag package reads `-flag=value` for a boolean flag. */
function parseBool(flag: string, text: string): boolean {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  throw new UsageError(`invalid boolean value "${text}" for ${flag}`);
}

/** Parse argv (without the runtime and script words). */
export function parseArgs(argv: readonly string[]): Command {
  if (argv[0] === "simulate") return { kind: "simulate", argv: argv.slice(1) };
  let config: string | undefined;
  let configDir: string | undefined;
  let listen: string | null = null;
  let certFile = "";
  let keyFile = "";
  let check = false;
  let watchConfig = false;
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    const eq = raw.indexOf("=");
    const flag = (eq > 0 ? raw.slice(0, eq) : raw).replace(/^-{1,2}/, "--");
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case "--config":
        config = value();
        break;
      case "--config-dir":
        configDir = value();
        break;
      case "--listen":
        listen = value();
        break;
      case "--tls-cert-file":
        certFile = value();
        break;
      case "--tls-key-file":
        keyFile = value();
        break;
      case "--check":
        check = inline === undefined || parseBool(flag, inline);
        break;
      case "--watch-config":
        watchConfig = inline === undefined || parseBool(flag, inline);
        break;
      case "--version":
        if (inline === undefined || parseBool(flag, inline)) return { kind: "version" };
        break;
      case "--help":
      case "--h":
        return { kind: "help" };
      default:
        throw new UsageError(`unknown argument "${raw}"`);
    }
  }
  // As llama-swap: an empty value counts as not given; the dir alone reads no config file.
  if (!config && !configDir && (config !== undefined || configDir !== undefined)) throw new UsageError("at least one of --config or --config-dir must be given");
  const paths: ConfigPaths = configDir ? { config: config || null, configDir } : { config: config || "config.yaml" };
  if (check) return { kind: "check", ...paths };
  // As llama-swap: an empty value counts as not given, one file without the other is a mistake,
  // and TLS moves the default address to :8443.
  if ((certFile === "") !== (keyFile === "")) throw new UsageError("both --tls-cert-file and --tls-key-file must be given for TLS");
  const tls = certFile ? { cert: certFile, key: keyFile } : undefined;
  // An empty --listen is the default too (llama-swap: `if listenAddr == ""`).
  return { kind: "serve", ...paths, listen: parseListen(listen || (tls ? ":8443" : ":8080")), watchConfig, ...(tls ? { tls } : {}) };
}
