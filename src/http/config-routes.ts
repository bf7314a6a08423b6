/**
 * `GET /api/config` (switchyard): the resolved configuration as the UI's Config page and model
 * details show it, read only, with the warnings `--check` gives. Secrets never leave: API keys
 * and peers' keys are masked, as are environment values whose name says key, token, secret,
 * password or auth, any value or argument that contains a configured key, and the argument after
 * a flag such as `--api-key`. Web-standard.
 */
import type { Config, ConfigWarning } from "../config/types.ts";
import type { ReloadOutcome } from "./context.ts";
import { errorEnvelope, errorResponse } from "./errors.ts";

const MASK = "********";
/** Environment names that hold secrets. */
const SECRET_NAME = /key|token|secret|passw|auth|credential/i;
/** Flags whose next argument is a secret. */
const SECRET_FLAG = /^--?(api[-_]?key|token|password|secret|hf[-_]token)$/i;

/** The config with every secret masked. */
export function maskedConfig(config: Config): unknown {
  const keys = [...config.apiKeys, ...Object.values(config.peers).map((p) => p.apiKey)].filter((k) => k.length > 0);
  const maskText = (s: string): string => keys.reduce((t, k) => t.split(k).join(MASK), s);
  const maskArgv = (argv: readonly string[]): string[] =>
    argv.map((a, i) => {
      if (i > 0 && SECRET_FLAG.test(argv[i - 1])) return MASK;
      // --api-key=value
      const eq = a.indexOf("=");
      if (eq > 0 && SECRET_FLAG.test(a.slice(0, eq))) return `${a.slice(0, eq + 1)}${MASK}`;
      return maskText(a);
    });
  const models = Object.fromEntries(
    Object.entries(config.models).map(([id, m]) => [
      id,
      {
        ...m,
        cmd: maskArgv(m.cmd),
        cmdStop: maskArgv(m.cmdStop),
        env: Object.fromEntries(Object.entries(m.env).map(([k, v]) => [k, SECRET_NAME.test(k) ? MASK : maskText(v)])),
      },
    ]),
  );
  const peers = Object.fromEntries(Object.entries(config.peers).map(([id, p]) => [id, { ...p, apiKey: p.apiKey ? MASK : "" }]));
  return { ...config, apiKeys: config.apiKeys.map(() => MASK), models, peers };
}

/**
 * `POST /api/config/reload`: reload from the files now. 200 `{msg:"ok", changes, diff}` when
 * applied; 400 with the errors (key path, line) when the new config is invalid (nothing changed).
 */
export async function reloadResponse(reload: (() => Promise<ReloadOutcome>) | undefined): Promise<Response> {
  if (!reload) return errorResponse(404, "config reload is not available here", { code: "not_found" });
  const out = await reload();
  if (out.ok) return Response.json({ msg: "ok", changes: out.changes, diff: out.diff });
  return Response.json({ ...errorEnvelope(400, out.message, { code: "invalid_config" }), errors: out.errors }, { status: 400 });
}

/** The handler: `{ config, warnings }`. */
export function configResponse(config: Config, warnings: readonly ConfigWarning[]): Response {
  return Response.json({ config: maskedConfig(config), warnings });
}
