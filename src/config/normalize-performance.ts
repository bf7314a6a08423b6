/**
 * `performance:` as llama-swap reads it (internal/config/performance.go): monitoring is on unless
 * `disabled: true`; `every` is a Go duration, 5s when absent or 0, refused below 5s. Keys llama-swap
 * does not know there (its own tests write `enable: true`) are ignored by it; here each gets a warning.
 */
import { didYouMean, type PathSeg } from "./errors.ts";
import type { ConfigInput, NormalizeContext } from "./normalize-context.ts";
import { DEFAULTS } from "./schema.ts";
import type { Config } from "./types.ts";

const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
const DURATION_PART = /^([0-9]*(?:\.[0-9]*)?)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/;

/** Seconds in a Go duration string (`1m30s`, `500ms`, `0`), or null when Go would not parse it. */
export function goDurationSeconds(text: string): number | null {
  const sign = text.startsWith("-") ? -1 : 1;
  let rest = /^[-+]/.test(text) ? text.slice(1) : text;
  if (rest === "0") return 0;
  if (rest === "") return null;
  let total = 0;
  while (rest !== "") {
    const part = DURATION_PART.exec(rest);
    if (!part || part[1] === "" || part[1] === ".") return null;
    total += Number(part[1]) * UNIT_SECONDS[part[2]];
    rest = rest.slice(part[0].length);
  }
  return sign * total;
}

/** llama-swap's floor of `performance.every`, in seconds. */
export const MIN_PERFORMANCE_EVERY_S = 5;

const KNOWN = ["disabled", "every"];

/** The resolved `performance` settings; problems go to ctx. */
export function normalizePerformance(input: ConfigInput, ctx: NormalizeContext): Config["performance"] {
  const defaultMs = (goDurationSeconds(DEFAULTS.performanceEvery) ?? MIN_PERFORMANCE_EVERY_S) * 1000;
  const section = input.performance ?? {};
  for (const key of Object.keys(section)) {
    if (KNOWN.includes(key)) continue;
    const at: PathSeg[] = ["performance", key];
    const hint = /^enabled?$/i.test(key) ? "monitoring is on unless disabled: true" : didYouMean(key, KNOWN) && `did you mean ${didYouMean(key, KNOWN)}?`;
    ctx.warn(at, `unknown key, ignored (llama-swap ignores it too)${hint ? `; ${hint}` : ""}`);
  }
  let everyMs = defaultMs;
  const every = section.every;
  if (every !== undefined) {
    const seconds = goDurationSeconds(every);
    if (seconds === null) ctx.report(["performance", "every"], `${JSON.stringify(every)} is not a duration such as 15s or 1m`);
    else if (seconds !== 0 && seconds < MIN_PERFORMANCE_EVERY_S) ctx.report(["performance", "every"], `must be at least ${MIN_PERFORMANCE_EVERY_S}s, got ${every}`);
    else if (seconds !== 0) everyMs = Math.round(seconds * 1000);
  }
  return { enabled: section.disabled !== true, everyMs };
}
