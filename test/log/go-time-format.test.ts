/** Go's named layouts (llama-swap's logTimeFormat values) against what Go's Time.Format prints. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { formatGoTime } from "../../src/log/go-time-format.ts";
import { createLogHub } from "../../src/log/log-hub.ts";
import type { LogTimeFormat } from "../../src/config/types.ts";

// Local time is the process's zone: these run in UTC (where Go prints "UTC" and RFC 3339 ends in
// "Z") and in two other zones, and put the zone back for the test files that share the process.
const savedTz = process.env.TZ;
beforeAll(() => void (process.env.TZ = "UTC"));
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

// Go's output for time.Date(2026, 3, 7, 14, 5, 9, 42_000_000, time.UTC) in each layout.
const at = new Date(Date.UTC(2026, 2, 7, 14, 5, 9, 42));
const want: Record<LogTimeFormat, string> = {
  ansic: "Sat Mar  7 14:05:09 2026",
  unixdate: "Sat Mar  7 14:05:09 UTC 2026",
  rubydate: "Sat Mar 07 14:05:09 +0000 2026",
  rfc822: "07 Mar 26 14:05 UTC",
  rfc822z: "07 Mar 26 14:05 +0000",
  rfc850: "Saturday, 07-Mar-26 14:05:09 UTC",
  rfc1123: "Sat, 07 Mar 2026 14:05:09 UTC",
  rfc1123z: "Sat, 07 Mar 2026 14:05:09 +0000",
  rfc3339: "2026-03-07T14:05:09Z",
  rfc3339nano: "2026-03-07T14:05:09.042Z",
  kitchen: "2:05PM",
  stamp: "Mar  7 14:05:09",
  stampmilli: "Mar  7 14:05:09.042",
  stampmicro: "Mar  7 14:05:09.042000",
  stampnano: "Mar  7 14:05:09.042000000",
};

describe("formatGoTime", () => {
  for (const [name, text] of Object.entries(want) as [LogTimeFormat, string][]) {
    test(name, () => expect(formatGoTime(name, at)).toBe(text));
  }

  test("rfc3339nano drops trailing zeros, and the dot when the fraction is zero; kitchen at midnight and noon", () => {
    expect(formatGoTime("rfc3339nano", new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 500)))).toBe("2026-01-01T00:00:00.5Z");
    expect(formatGoTime("rfc3339nano", new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 0)))).toBe("2026-01-01T00:00:00Z");
    expect(formatGoTime("kitchen", new Date(Date.UTC(2026, 0, 1, 0, 7)))).toBe("12:07AM");
    expect(formatGoTime("kitchen", new Date(Date.UTC(2026, 0, 1, 12, 7)))).toBe("12:07PM");
    expect(formatGoTime("ansic", new Date(Date.UTC(2026, 0, 12, 1, 2, 3)))).toBe("Mon Jan 12 01:02:03 2026");
  });
});

describe("local zones", () => {
  const inZone = (tz: string, f: () => void) => {
    process.env.TZ = tz;
    try {
      f();
    } finally {
      process.env.TZ = "UTC";
    }
  };
  const jan = new Date(Date.UTC(2026, 0, 12, 15, 4, 5));
  test("a zone with an abbreviation (New York in January): EST and -0500", () =>
    inZone("America/New_York", () => {
      expect(formatGoTime("unixdate", jan)).toBe("Mon Jan 12 10:04:05 EST 2026");
      expect(formatGoTime("rubydate", jan)).toBe("Mon Jan 12 10:04:05 -0500 2026");
      expect(formatGoTime("rfc3339", jan)).toBe("2026-01-12T10:04:05-05:00");
    }));
  test("a zone the runtime names only by offset: +0530, as Go writes a zone without an abbreviation", () =>
    inZone("Asia/Kolkata", () => {
      expect(formatGoTime("rfc822", jan)).toBe("12 Jan 26 20:34 +0530");
      expect(formatGoTime("rfc3339", jan)).toBe("2026-01-12T20:34:05+05:30");
    }));
});

describe("the proxy log's timestamp (logTimeFormat)", () => {
  const now = () => at.getTime();
  const line = (timeFormat: LogTimeFormat | "" | null | undefined) => {
    const hub = createLogHub({ level: "info", logToStdout: "none", now, timeFormat });
    hub.log.info("hello");
    return hub.proxy.history();
  };
  test("a layout name", () => expect(line("rfc3339")).toBe("2026-03-07T14:05:09Z [INFO] hello\n"));
  test('"" is no timestamp (llama-swap)', () => expect(line("")).toBe("[INFO] hello\n"));
  test("absent is switchyard's ISO 8601 in UTC", () => {
    expect(line(undefined)).toBe("2026-03-07T14:05:09.042Z [INFO] hello\n");
    expect(line(null)).toBe("2026-03-07T14:05:09.042Z [INFO] hello\n");
  });
});
