/**
 * Robustness: random mutations of good configs and random YAML documents must either load or throw
 * a ConfigError, never anything else (TypeError, RangeError, ...).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { stringify } from "yaml";
import { ConfigError } from "../../src/config/errors.ts";
import { loadConfig } from "../../src/config/load.ts";

const shaped = readFileSync(new URL("./fixtures/llama-swap-shaped.yaml", import.meta.url), "utf8");
const smallGroups = [
  "macros:",
  "  a: 1",
  '  b: "x ${a}"',
  "models:",
  "  m:",
  "    cmd: srv --port ${PORT} ${b}",
  "    aliases: [x, y]",
  "    filters: {setParamsByID: {'${MODEL_ID}:hi': {t: 1}}}",
  "  n: {cmd: 'srv --port ${PORT}', ttl: 5}",
  "groups:",
  "  g: {members: [m, n], swap: false}",
  "routing: {scheduler: {use: fifo, settings: {fifo: {priority: {x: 1}}}}}",
  "peers: {p: {proxy: 'http://h:1', models: [a, b]}}",
].join("\n");
const smallMatrix = smallGroups.replace("groups:\n  g: {members: [m, n], swap: false}", "matrix:\n  vars: {v: m}\n  evict_costs: {v: 3}\n  sets: {s: '(v | n) & m', t: '+s | n'}");
const env = { MODELS_ROOT: "/m", KEY_ONE: "k1", KEY_TWO: "k2", OPENROUTER_KEY: "k3" };

/** Loads and classifies: "ok", "config-error"; anything else is thrown to fail the property. */
function attempt(text: string): "ok" | "config-error" {
  try {
    loadConfig(text, { env });
    return "ok";
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const i of err.issues) {
        expect(typeof i.message).toBe("string");
        expect(i.message.length).toBeGreaterThan(0);
      }
      return "config-error";
    }
    throw err;
  }
}

const PIECES = [":", "-", " ", "\n", "  ", "{", "}", "[", "]", '"', "'", "&a", "*a", "<<: *a", "${", "}", "$", "#", "|", ">", ",", "?", "!", "!!str", "0", "-1", "1.5", "null", "~", "yes", "${PORT}", "${MODEL_ID}", "${PID}", "${env.X}", "${nope}", "\t", "\\", "é", "\u0000"];

const mutation = (base: string) =>
  fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.constantFrom(...PIECES) }),
      fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
      fc.record({ kind: fc.constant("dupLine" as const), at: fc.nat() }),
      fc.record({ kind: fc.constant("swapLines" as const), at: fc.nat(), other: fc.nat() }),
    ),
    { minLength: 1, maxLength: 4 },
  ).map((ops) => {
    let s = base;
    for (const op of ops) {
      if (op.kind === "insert") {
        const at = op.at % (s.length + 1);
        s = s.slice(0, at) + op.text + s.slice(at);
      } else if (op.kind === "delete") {
        const at = op.at % (s.length + 1);
        s = s.slice(0, at) + s.slice(at + op.len);
      } else {
        const lines = s.split("\n");
        const i = op.at % lines.length;
        if (op.kind === "dupLine") lines.splice(i, 0, lines[i]);
        else {
          const j = op.other % lines.length;
          [lines[i], lines[j]] = [lines[j], lines[i]];
        }
        s = lines.join("\n");
      }
    }
    return s;
  });

const KEYS = ["models", "macros", "groups", "matrix", "routing", "peers", "hooks", "apiKeys", "startPort", "globalTTL", "healthCheckTimeout", "logToStdout", "profiles", "x-any", "other"];
const MODEL_KEYS = ["cmd", "cmdStop", "proxy", "aliases", "env", "ttl", "filters", "macros", "metadata", "checkEndpoint", "concurrencyLimit", "unlisted", "timeouts", "bogus"];
const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom("${PORT}", "srv --port ${PORT}", "http://h:1", "a & b", "${MODEL_ID}"));
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: "small" }, scalar, fc.array(tie("v"), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 6 }), tie("v"), { maxKeys: 3 })),
})).v;
const randomConfig = fc.record(
  {
    top: fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 5 }),
    models: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.dictionary(fc.constantFrom(...MODEL_KEYS), value, { maxKeys: 5 }), { maxKeys: 3 }),
  },
  { requiredKeys: ["top", "models"] },
);

describe("fuzz", () => {
  test("the fixtures themselves load (fixed shape) or are rejected cleanly", () => {
    expect(attempt(smallGroups)).toBe("ok");
    expect(attempt(smallMatrix)).toBe("ok");
    expect(attempt(shaped)).toBe("config-error");
  });

  test("mutations of a small group config", () => {
    fc.assert(fc.property(mutation(smallGroups), (text) => void attempt(text)), { numRuns: 200, seed: 42 });
  });

  test("mutations of a small matrix config", () => {
    fc.assert(fc.property(mutation(smallMatrix), (text) => void attempt(text)), { numRuns: 200, seed: 43 });
  });

  test("mutations of the llama-swap-shaped config", () => {
    fc.assert(fc.property(mutation(shaped), (text) => void attempt(text)), { numRuns: 100, seed: 4242 });
  });

  test("random YAML documents", () => {
    fc.assert(
      fc.property(randomConfig, ({ top, models }) => void attempt(stringify({ ...top, models }))),
      { numRuns: 200, seed: 99 },
    );
  });
});
