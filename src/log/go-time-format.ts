/**
 * Go's named time layouts (time.RFC3339, time.Kitchen, ...), the set llama-swap's `logTimeFormat`
 * accepts, rendered in local time as Go's Time.Format renders them. JavaScript clocks stop at
 * milliseconds, so finer digits are zeros. A zone abbreviation (`MST`) is the runtime's short
 * name (`UTC`, `EST`, ...); where it only has an offset name (`GMT+2`), the offset is written the way
 * Go writes a zone without an abbreviation (`+02`, `+0530`).
 */
import type { LogTimeFormat } from "../config/types.ts";

/** Go's layout of each name (the reference time Mon Jan 2 15:04:05 MST 2006). */
export const GO_LAYOUTS: Record<LogTimeFormat, string> = {
  ansic: "Mon Jan _2 15:04:05 2006",
  unixdate: "Mon Jan _2 15:04:05 MST 2006",
  rubydate: "Mon Jan 02 15:04:05 -0700 2006",
  rfc822: "02 Jan 06 15:04 MST",
  rfc822z: "02 Jan 06 15:04 -0700",
  rfc850: "Monday, 02-Jan-06 15:04:05 MST",
  rfc1123: "Mon, 02 Jan 2006 15:04:05 MST",
  rfc1123z: "Mon, 02 Jan 2006 15:04:05 -0700",
  rfc3339: "2006-01-02T15:04:05Z07:00",
  rfc3339nano: "2006-01-02T15:04:05.999999999Z07:00",
  kitchen: "3:04PM",
  stamp: "Jan _2 15:04:05",
  stampmilli: "Jan _2 15:04:05.000",
  stampmicro: "Jan _2 15:04:05.000000",
  stampnano: "Jan _2 15:04:05.000000000",
};

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

// Built once per UTC offset (a formatter is costly, and keeps the zone it was made in).
let zoneNames: { offset: number; format: Intl.DateTimeFormat } | null = null;

/** The local zone's abbreviation at `d`, as Go would print it for `MST`. */
function zoneAbbreviation(d: Date): string {
  if (zoneNames?.offset !== d.getTimezoneOffset()) zoneNames = { offset: d.getTimezoneOffset(), format: new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }) };
  const name = zoneNames.format.formatToParts(d).find((p) => p.type === "timeZoneName")?.value ?? "";
  const m = /^(?:GMT|UTC)([+-])(\d{1,2})(?::(\d{2}))?$/.exec(name);
  if (!m) return name || offset(d, "", false);
  return `${m[1]}${pad(Number(m[2]))}${m[3] && m[3] !== "00" ? m[3] : ""}`;
}

/** The local UTC offset: `-0700` style, or `-07:00` with a colon; "Z" for zero when `zulu`. */
function offset(d: Date, sep: string, zulu: boolean): string {
  const minutes = -d.getTimezoneOffset();
  if (zulu && minutes === 0) return "Z";
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}${sep}${pad(abs % 60)}`;
}

/** Go layout tokens, longest first where one is a prefix of another. */
const TOKENS = ["Monday", "Mon", "January", "Jan", "2006", "Z07:00", "-0700", "MST", "PM", "_2", "01", "02", "03", "04", "05", "06", "15", "3", ".000000000", ".000000", ".000", ".999999999"];

function token(tok: string, d: Date): string {
  const ns = d.getMilliseconds() * 1_000_000;
  switch (tok) {
    case "Monday":
      return DAYS[d.getDay()];
    case "Mon":
      return DAYS[d.getDay()].slice(0, 3);
    case "January":
      return MONTHS[d.getMonth()];
    case "Jan":
      return MONTHS[d.getMonth()].slice(0, 3);
    case "2006":
      return pad(d.getFullYear(), 4);
    case "06":
      return pad(d.getFullYear() % 100);
    case "01":
      return pad(d.getMonth() + 1);
    case "02":
      return pad(d.getDate());
    case "_2":
      return String(d.getDate()).padStart(2, " ");
    case "15":
      return pad(d.getHours());
    case "03":
      return pad(d.getHours() % 12 || 12);
    case "3":
      return String(d.getHours() % 12 || 12);
    case "04":
      return pad(d.getMinutes());
    case "05":
      return pad(d.getSeconds());
    case "PM":
      return d.getHours() >= 12 ? "PM" : "AM";
    case "MST":
      return zoneAbbreviation(d);
    case "-0700":
      return offset(d, "", false);
    case "Z07:00":
      return offset(d, ":", true);
    case ".000":
    case ".000000":
    case ".000000000":
      return "." + pad(ns, 9).slice(0, tok.length - 1);
    case ".999999999": {
      // Trailing zeros dropped, and the dot with them when nothing is left (Go).
      const digits = pad(ns, 9).replace(/0+$/, "");
      return digits ? "." + digits : "";
    }
    default:
      return tok;
  }
}

/** `d` in the layout `name` names, local time. */
export function formatGoTime(name: LogTimeFormat, d: Date): string {
  const layout = GO_LAYOUTS[name];
  let out = "";
  let i = 0;
  while (i < layout.length) {
    const tok = TOKENS.find((t) => layout.startsWith(t, i));
    if (tok) {
      out += token(tok, d);
      i += tok.length;
    } else {
      out += layout[i];
      i++;
    }
  }
  return out;
}
