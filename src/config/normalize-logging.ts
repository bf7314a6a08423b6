/**
 * `logTimeFormat`: llama-swap's names of Go's time layouts (case and surrounding spaces ignored).
 * llama-swap turns "" and any other value into no timestamp; so does switchyard, with a warning for
 * a value that is not a name. Absent keeps switchyard's own ISO 8601 stamp.
 */
import type { ConfigInput, NormalizeContext } from "./normalize-context.ts";
import type { LogTimeFormat } from "./types.ts";

/** Every name llama-swap accepts. */
export const LOG_TIME_FORMATS: readonly LogTimeFormat[] = [
  "ansic",
  "unixdate",
  "rubydate",
  "rfc822",
  "rfc822z",
  "rfc850",
  "rfc1123",
  "rfc1123z",
  "rfc3339",
  "rfc3339nano",
  "kitchen",
  "stamp",
  "stampmilli",
  "stampmicro",
  "stampnano",
];

/** The resolved logTimeFormat: a layout name, "" for no timestamp, or null when the key is absent. */
export function normalizeLogTimeFormat(input: ConfigInput, ctx: NormalizeContext): LogTimeFormat | "" | null {
  const raw = input.logTimeFormat;
  if (raw === undefined) return null;
  const name = raw.trim().toLowerCase();
  if (name === "") return "";
  const known = LOG_TIME_FORMATS.find((f) => f === name);
  if (known) return known;
  ctx.warn(["logTimeFormat"], `unknown format ${JSON.stringify(raw)} (one of ${LOG_TIME_FORMATS.join(", ")}); log lines carry no timestamp, as in llama-swap`);
  return "";
}
