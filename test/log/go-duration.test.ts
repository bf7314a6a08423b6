import { expect, test } from "bun:test";
import { formatGoDuration } from "../../src/log/go-duration.ts";

test("durations read as Go's Duration.String writes them", () => {
  // Each expectation is what `fmt.Println(time.Duration(n))` prints in Go.
  const cases: [number, string][] = [
    [0, "0s"],
    [1, "1ns"],
    [999, "999ns"],
    [1_000, "1µs"],
    [1_500, "1.5µs"],
    [850_000, "850µs"],
    [1_000_000, "1ms"],
    [12_345_678, "12.345678ms"],
    [999_999_999, "999.999999ms"],
    [1_000_000_000, "1s"],
    [1_500_000_000, "1.5s"],
    [61_000_000_000, "1m1s"],
    [62_500_000_000, "1m2.5s"],
    [3_600_000_000_000, "1h0m0s"],
    [3_723_000_000_001, "1h2m3.000000001s"],
    [-1_500, "-1.5µs"],
  ];
  for (const [ns, text] of cases) expect(formatGoDuration(ns)).toBe(text);
});
