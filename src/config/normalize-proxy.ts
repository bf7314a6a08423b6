/**
 * What the proxy and `/v1/models` read from the file: a model's `capabilities`, the `timeouts` of
 * models and peers (llama-swap's Go transport settings and defaults), and `upstream.ignorePaths`
 * (Go regular expressions, llama-swap's default when none are given).
 */
import type { PathSeg } from "./errors.ts";
import { compileGoRegexp, GoRegexpError } from "./go-regexp.ts";
import type { ConfigInput, ModelInput, NormalizeContext } from "./normalize-context.ts";
import { DEFAULTS } from "./schema.ts";
import type { ModelCapabilities, ProxyTimeouts } from "./types.ts";

/** The `timeouts:` block as the schema lets it through. */
export type TimeoutsInput = NonNullable<ModelInput["timeouts"]>;

/** Keys Go's transport has and Bun's fetch cannot honour. */
const NO_EFFECT = ["keepalive", "tlsHandshake", "expectContinue", "idleConn"] as const;

/** A model's or peer's timeouts with llama-swap's defaults; negative limits become none (with a warning). */
export function normalizeTimeouts(t: TimeoutsInput | undefined, at: PathSeg[], responseHeaderDefault: number, ctx: NormalizeContext): ProxyTimeouts {
  const out: ProxyTimeouts = {
    connect: t?.connect ?? DEFAULTS.timeoutConnect,
    responseHeader: t?.responseHeader ?? responseHeaderDefault,
    keepalive: t?.keepalive ?? 30,
    tlsHandshake: t?.tlsHandshake ?? 10,
    expectContinue: t?.expectContinue ?? 1,
    idleConn: t?.idleConn ?? 90,
  };
  for (const key of ["connect", "responseHeader"] as const) {
    if (out[key] < 0) {
      ctx.warn([...at, key], `${out[key]} is negative; no limit`);
      out[key] = 0;
    }
  }
  for (const key of NO_EFFECT) {
    if (t?.[key] !== undefined) ctx.warn([...at, key], "has no effect in switchyard (Bun's fetch manages its own connections); accepted for llama-swap compatibility");
  }
  return out;
}

/** A model's capabilities; the schema already checked the modalities and that context is not negative. */
export function normalizeCapabilities(c: ModelInput["capabilities"]): ModelCapabilities {
  return { in: [...(c?.in ?? [])], out: [...(c?.out ?? [])], tools: c?.tools ?? false, reranker: c?.reranker ?? false, context: c?.context ?? 0 };
}

/** True when capabilities declare nothing (llama-swap's Empty()). */
export function capabilitiesEmpty(c: ModelCapabilities): boolean {
  return c.in.length === 0 && c.out.length === 0 && !c.tools && !c.reranker && c.context === 0;
}

/** `upstream.ignorePaths`: each must compile as a Go regular expression; none given = llama-swap's default. */
export function normalizeUpstreamIgnorePaths(input: ConfigInput, ctx: NormalizeContext): string[] {
  const list = input.upstream?.ignorePaths ?? [];
  list.forEach((pattern, i) => {
    try {
      compileGoRegexp(pattern);
    } catch (err) {
      if (!(err instanceof GoRegexpError)) throw err;
      ctx.report(["upstream", "ignorePaths", i], `invalid regular expression ${JSON.stringify(pattern)}: ${err.message}`);
    }
  });
  return list.length > 0 ? [...list] : [DEFAULTS.upstreamIgnorePath];
}
