import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { waitFor } from "../fixtures/wait.ts";
import { createLogHub } from "../../src/log/log-hub.ts";

const fixedNow = () => Date.UTC(2026, 0, 2, 3, 4, 5, 6);

describe("createLogHub", () => {
  test("the logger writes timestamped lines at or above its level", () => {
    const hub = createLogHub({ level: "info", logToStdout: "none", now: fixedNow });
    hub.log.debug("hidden");
    hub.log.info("hello");
    hub.log.error("bad");
    expect(hub.proxy.history()).toBe("2026-01-02T03:04:05.006Z [INFO] hello\n2026-01-02T03:04:05.006Z [ERROR] bad\n");
  });

  test("each line is stamped with the clock's time as it is written, in both formats", () => {
    for (const [timeFormat, stamps] of [
      [null, ["2026-01-02T03:04:05.006Z", "2026-01-02T03:04:05.006Z", "2026-01-02T03:04:05.007Z", "2026-01-02T03:04:05.006Z"]],
      ["stampmilli", ["Jan  2 03:04:05.006", "Jan  2 03:04:05.006", "Jan  2 03:04:05.007", "Jan  2 03:04:05.006"]],
    ] as const) {
      // Two lines in one millisecond, one in the next, then the clock back (a wall clock can step back).
      const times = [0, 0, 1, 0].map((d) => fixedNow() + d);
      let i = 0;
      const hub = createLogHub({ level: "info", logToStdout: "none", now: () => times[i++]!, timeFormat });
      for (const m of ["a", "b", "c", "d"]) hub.log.info(m);
      expect(hub.proxy.history()).toBe(stamps.map((t, k) => `${t} [INFO] ${"abcd"[k]}\n`).join(""));
    }
  });

  test("any chunking of a model's output is prefixed at every line start, and only there", () => {
    const text = fc.array(fc.constantFrom("a", "\n", "\r", "é", "\n\n"), { maxLength: 120 }).map((a) => a.join(""));
    fc.assert(
      fc.property(text, fc.array(fc.nat(120)), (t, cuts) => {
        const hub = createLogHub({ level: "info", logToStdout: "none" });
        const at = [...new Set(cuts.filter((c) => c < t.length))].sort((a, b) => a - b);
        let from = 0;
        for (const c of [...at, t.length]) {
          hub.model("m").write(t.slice(from, c));
          from = c;
        }
        // Whole lines at once; an unfinished one when flushed, as a line of its own.
        const whole = t.slice(0, t.lastIndexOf("\n") + 1);
        expect(hub.upstream.history()).toBe(whole === "" ? "" : "[m] " + whole.replace(/\n(?=[\s\S])/g, "\n[m] "));
        hub.flush();
        const want = t === "" ? "" : "[m] " + t.replace(/\n(?=[\s\S])/g, "\n[m] ") + (t.endsWith("\n") ? "" : "\n");
        expect(hub.upstream.history()).toBe(want);
      }),
      { numRuns: 500 },
    );
  });

  test("model output goes to its own stream and, prefixed per line, to upstream", () => {
    const hub = createLogHub({ level: "info", logToStdout: "none" });
    hub.model("a").write("one\ntw");
    hub.model("b").write("x\n");
    hub.model("a").write("o\nthree\n");
    expect(hub.model("a").history()).toBe("one\ntwo\nthree\n");
    expect(hub.model("b").history()).toBe("x\n");
    // a's unfinished "tw" waits for its end: b's line is not glued onto it.
    expect(hub.upstream.history()).toBe("[a] one\n[b] x\n[a] two\n[a] three\n");
    expect(hub.model("a")).toBe(hub.model("a"));
  });

  test("an unfinished line (a \\r progress bar) reaches the combined stream after a while, as a line of its own, and a second model's lines stay whole", async () => {
    const hub = createLogHub({ level: "info", logToStdout: "none", holdPartialMs: 20 });
    hub.model("a").write("downloading 10%\rdownloading 20%\r");
    hub.model("b").write("b: line 0\n");
    expect(hub.upstream.history()).toBe("[b] b: line 0\n");
    await waitFor(() => hub.upstream.history().includes("[a]"), 5000, "the unfinished line");
    expect(hub.upstream.history()).toBe("[b] b: line 0\n[a] downloading 10%\rdownloading 20%\r\n");
    // The model's own stream keeps its bytes as they came.
    expect(hub.model("a").history()).toBe("downloading 10%\rdownloading 20%\r");
  });

  for (const [mode, expected] of [
    ["proxy", "P"],
    ["upstream", "U"],
    ["both", "PU"],
    ["none", ""],
  ] as const) {
    test(`logToStdout=${mode} echoes the right streams`, () => {
      let out = "";
      const hub = createLogHub({ level: "debug", logToStdout: mode, stdout: (s) => (out += s) });
      hub.log.info("proxy-line");
      hub.model("m").write("model-line\n");
      const got = (out.includes("proxy-line") ? "P" : "") + (out.includes("[m] model-line") ? "U" : "");
      expect(got).toBe(expected);
    });
  }

  test("configure: a reloaded logLevel and logTimeFormat apply to the next line", () => {
    const hub = createLogHub({ level: "info", logToStdout: "none", now: fixedNow });
    hub.log.debug("hidden");
    hub.configure({ level: "debug", timeFormat: "" });
    hub.log.debug("shown");
    hub.configure({ level: "warn", timeFormat: null });
    hub.log.info("hidden too");
    hub.log.warn("warned");
    expect(hub.proxy.history()).toBe("[DEBUG] shown\n2026-01-02T03:04:05.006Z [WARN] warned\n");
  });

  test("the ring size applies to every stream", () => {
    const hub = createLogHub({ level: "info", logToStdout: "none", ringBytes: 8 });
    hub.model("m").write("0123456789\n");
    expect(hub.model("m").history()).toBe("3456789\n");
    expect(hub.upstream.history()).toBe("3456789\n");
  });
});
