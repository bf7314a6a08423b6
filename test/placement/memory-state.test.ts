/** The remembered sizes: keyed by model and command hash; serialised and parsed back; damage refused. */
import { describe, expect, test } from "bun:test";
import {
  commandHash,
  emptyMemoryState,
  parseMemoryState,
  pruneMemoryState,
  rememberedNeed,
  rememberNeed,
  serializeMemoryState,
  stableCommand,
} from "../../src/placement/memory-state.ts";
import type { Need } from "../../src/placement/types.ts";

const ARGV = ["llama-server", "--port", "9001", "-m", "/models/a.gguf"];
const NEED: Need = { perDevice: { "0": 7.5 * 1024 ** 3, cpu: 512 * 1024 ** 2 }, source: "measured" };

describe("commandHash", () => {
  test("stable, 16 hex digits, and word boundaries count", () => {
    expect(commandHash(ARGV)).toMatch(/^[0-9a-f]{16}$/);
    expect(commandHash(ARGV)).toBe(commandHash([...ARGV]));
    expect(commandHash(["a b"])).not.toBe(commandHash(["a", "b"]));
    expect(commandHash([])).toBe("cbf29ce484222325");
  });
});

describe("remember and recall", () => {
  test("recalled for the same command only; a changed command forgets it", () => {
    const s = rememberNeed(emptyMemoryState(), "a", ARGV, NEED, 1000);
    expect(rememberedNeed(s, "a", ARGV)).toEqual(NEED);
    expect(rememberedNeed(s, "a", [...ARGV, "-c", "8192"])).toBeNull();
    expect(rememberedNeed(s, "b", ARGV)).toBeNull();
    expect(rememberedNeed(s, "constructor", ARGV)).toBeNull();
    expect(rememberedNeed(emptyMemoryState(), "a", ARGV)).toBeNull();
  });

  test("remembering does not change the state it was given; prune drops models", () => {
    const empty = emptyMemoryState();
    const s = rememberNeed(rememberNeed(empty, "a", ARGV, NEED, 1), "b", ["x"], NEED, 2);
    expect(empty.models).toEqual({});
    expect(Object.keys(pruneMemoryState(s, (id) => id === "b").models)).toEqual(["b"]);
  });
});

describe("stableCommand", () => {
  test("the port (a whole number only) and ${SWITCHYARD}'s words are put back as the macros", () => {
    const self = ["/opt/bun", "/srv/main.ts"];
    expect(stableCommand(["/opt/bun", "/srv/main.ts", "simulate", "--port", "5801", "--url=http://h:5801/", "-c", "58010"], 5801, self)).toEqual(["${SWITCHYARD}", "simulate", "--port", "${PORT}", "--url=http://h:${PORT}/", "-c", "58010"]);
    // The same command on another port, from another program: the same key.
    const a = stableCommand(["/opt/bun", "/srv/main.ts", "simulate", "--port", "5801"], 5801, self);
    const b = stableCommand(["/usr/bin/switchyard", "simulate", "--port", "5802"], 5802, ["/usr/bin/switchyard"]);
    expect(commandHash(a)).toBe(commandHash(b));
    expect(stableCommand(["srv", "--port", "9001"], null)).toEqual(["srv", "--port", "9001"]);
  });

  test("an entry an older file keyed by the expanded argv is still recalled while that argv is the same", () => {
    const s = rememberNeed(emptyMemoryState(), "a", ARGV, NEED, 1);
    expect(rememberedNeed(s, "a", stableCommand(ARGV, 9001), ARGV)).toEqual(NEED);
    expect(rememberedNeed(s, "a", stableCommand(ARGV, 9001))).toBeNull();
  });
});

describe("the file's text", () => {
  test("round trip", () => {
    const s = rememberNeed(rememberNeed(emptyMemoryState(), "zeta", ["z"], NEED, 5), "alpha", ARGV, { perDevice: {}, source: "unknown" }, 6);
    const text = serializeMemoryState(s);
    expect(text.endsWith("\n")).toBe(true);
    expect(text.indexOf('"alpha"')).toBeLessThan(text.indexOf('"zeta"'));
    expect(parseMemoryState(text)).toEqual({ ok: true, value: s });
  });

  test("damage is an error that says what is wrong", () => {
    const err = (text: string) => {
      const r = parseMemoryState(text);
      return r.ok ? "ok" : r.error;
    };
    expect(err("")).toStartWith("not JSON");
    expect(err("{\"version\": 1, \"models\": {")).toStartWith("not JSON");
    expect(err("[]")).toBe("not a JSON object");
    expect(err('{"version": 2, "models": {}}')).toBe("version 2, expected 1");
    expect(err('{"version": 1}')).toBe("no models object");
    expect(err('{"version": 1, "models": {"a": {"command": "x", "at": 1, "need": {"perDevice": {"0": -1}, "source": "measured"}}}}')).toBe('model "a": device "0": not a byte count');
    expect(err('{"version": 1, "models": {"a": {"command": "x", "at": 1, "need": {"perDevice": {}, "source": "magic"}}}}')).toBe('model "a": unknown source "magic"');
    expect(err('{"version": 1, "models": {"a": {"at": 1}}}')).toBe('model "a": no command hash');
  });
});
