/**
 * Table of broken configs: each must be rejected with the expected message, key path and line,
 * and never with anything but a ConfigError.
 */
import { describe, expect, test } from "bun:test";
import { issuesOf, load } from "./helpers.ts";

interface Case {
  name: string;
  yaml: string;
  path: string;
  line: number;
  message: string | RegExp;
  env?: Record<string, string>;
}

const M = "cmd: srv --port ${PORT}"; // a valid model body line

const cases: Case[] = [
  // types and ranges
  { name: "ttl is not a number", yaml: `models:\n  a:\n    ${M}\n    ttl: soon`, path: "models.a.ttl", line: 4, message: 'must be a whole number, got "soon"' },
  { name: "negative ttl", yaml: `models:\n  a:\n    ${M}\n    ttl: -5`, path: "models.a.ttl", line: 4, message: "must be >= -1, got -5" },
  { name: "fractional ttl", yaml: `models:\n  a:\n    ${M}\n    ttl: 1.5`, path: "models.a.ttl", line: 4, message: "must be a whole number, got 1.5" },
  { name: "negative globalTTL", yaml: `globalTTL: -1`, path: "globalTTL", line: 1, message: "must be >= 0, got -1" },
  { name: "negative unloadTimeout", yaml: `unloadTimeout: -3`, path: "unloadTimeout", line: 1, message: "must be >= 0" },
  { name: "negative model unloadTimeout", yaml: `models:\n  a:\n    ${M}\n    unloadTimeout: -1`, path: "models.a.unloadTimeout", line: 4, message: "must be >= 0" },
  { name: "fractional concurrencyLimit", yaml: `models:\n  a:\n    ${M}\n    concurrencyLimit: 1.5`, path: "models.a.concurrencyLimit", line: 4, message: "must be a whole number" },
  { name: "negative drainTimeout", yaml: `drainTimeout: -1`, path: "drainTimeout", line: 1, message: "must be >= 0" },
  { name: "zero requestBodyLimitMB", yaml: `requestBodyLimitMB: 0`, path: "requestBodyLimitMB", line: 1, message: "must be > 0, got 0" },
  { name: "negative fifo maxWait", yaml: `routing:\n  scheduler:\n    settings:\n      fifo:\n        maxWait: -1`, path: "routing.scheduler.settings.fifo.maxWait", line: 5, message: "must be >= 0" },
  { name: "startPort 0", yaml: `startPort: 0`, path: "startPort", line: 1, message: "must be >= 1, got 0" },
  { name: "startPort is text", yaml: `startPort: high`, path: "startPort", line: 1, message: 'must be a whole number, got "high"' },
  { name: "unlisted is not a boolean", yaml: `models:\n  a:\n    ${M}\n    unlisted: maybe`, path: "models.a.unlisted", line: 4, message: 'must be true or false, got "maybe"' },
  { name: "aliases is a string", yaml: `models:\n  a:\n    ${M}\n    aliases: b`, path: "models.a.aliases", line: 4, message: 'must be a list, got "b"' },
  { name: "model is a string", yaml: `models:\n  a: llama-server`, path: "models.a", line: 2, message: 'must be a mapping, got "llama-server"' },
  { name: "model is empty", yaml: `models:\n  a:\n  b:\n    ${M}`, path: "models.a", line: 2, message: "must be a mapping, got nothing" },
  { name: "env entry without =", yaml: `models:\n  a:\n    ${M}\n    env: [CUDA_VISIBLE_DEVICES]`, path: "models.a.env[0]", line: 4, message: 'must be NAME=value, got "CUDA_VISIBLE_DEVICES"' },
  { name: "logToStdout invalid", yaml: `logToStdout: everything`, path: "logToStdout", line: 1, message: 'must be one of proxy, upstream, both, none, got "everything"' },
  { name: "routing.router.use invalid", yaml: `routing:\n  router:\n    use: random`, path: "routing.router.use", line: 3, message: "must be one of group, matrix" },
  { name: "routing.scheduler.use invalid", yaml: `routing:\n  scheduler:\n    use: lifo`, path: "routing.scheduler.use", line: 3, message: "must be one of fifo, serial" },
  // URLs
  { name: "proxy without scheme", yaml: `models:\n  a:\n    cmd: srv\n    proxy: localhost:8080`, path: "models.a.proxy", line: 4, message: 'invalid proxy URL "localhost:8080"' },
  { name: "proxy with ftp scheme", yaml: `models:\n  a:\n    cmd: srv\n    proxy: ftp://h:1`, path: "models.a.proxy", line: 4, message: "must be an absolute http:// or https:// URL" },
  { name: "peer proxy invalid", yaml: `peers:\n  p:\n    proxy: "not a url"\n    models: [x]`, path: "peers.p.proxy", line: 3, message: "invalid proxy URL" },
  { name: "peer without proxy", yaml: `peers:\n  p:\n    models: [x]`, path: "peers.p.proxy", line: 2, message: "is required" },
  { name: "peer with empty models", yaml: `peers:\n  p:\n    proxy: http://h\n    models: []`, path: "peers.p.models", line: 4, message: "must list at least 1 entry" },
  { name: "peer name collides with a model ID", yaml: `models:\n  p/x:\n    ${M}\npeers:\n  p:\n    proxy: http://h\n    models: [x]`, path: "peers.p.models[0]", line: 7, message: 'peer model name "p/x" is also a local model ID' },
  // aliases
  { name: "duplicate alias", yaml: `models:\n  a:\n    ${M}\n    aliases: [fast]\n  b:\n    ${M}\n    aliases: [fast]`, path: "models.b.aliases[0]", line: 7, message: 'duplicate alias "fast": already an alias of model a' },
  { name: "alias equal to a model ID", yaml: `models:\n  a:\n    ${M}\n    aliases: [b]\n  b:\n    ${M}`, path: "models.a.aliases[0]", line: 4, message: 'alias "b" is the ID of another model' },
  { name: "alias listed twice", yaml: `models:\n  a:\n    ${M}\n    aliases:\n      - x\n      - x`, path: "models.a.aliases[1]", line: 6, message: 'alias "x" is listed twice' },
  { name: "setParamsByID key is another model's ID", yaml: `models:\n  a:\n    ${M}\n    filters:\n      setParamsByID:\n        b: {t: 1}\n  b:\n    ${M}`, path: "models.a.filters.setParamsByID.b", line: 6, message: "key is the ID of model b" },
  { name: "setParamsByID key is another model's alias", yaml: `models:\n  a:\n    ${M}\n    filters:\n      setParamsByID:\n        fast: {t: 1}\n  b:\n    ${M}\n    aliases: [fast]`, path: "models.a.filters.setParamsByID.fast", line: 6, message: 'duplicate alias "fast": already an alias of model b' },
  { name: "setParamsByID keys resolving to the same value", yaml: `models:\n  a:\n    ${M}\n    filters:\n      setParamsByID:\n        "a:x": {t: 1}\n        "\${MODEL_ID}:x": {t: 2}`, path: "models.a.filters.setParamsByID.${MODEL_ID}:x", line: 7, message: 'key resolves to "a:x", the same as another key' },
  // groups
  { name: "group member is not a model", yaml: `models:\n  llama:\n    ${M}\ngroups:\n  g:\n    members: [lama]`, path: "groups.g.members[0]", line: 6, message: '"lama" is not a model ID, did you mean llama?' },
  { name: "group member is an alias", yaml: `models:\n  a:\n    ${M}\n    aliases: [fast]\ngroups:\n  g:\n    members: [fast]`, path: "groups.g.members[0]", line: 7, message: '"fast" is an alias of model a; groups take model IDs' },
  { name: "model in two groups", yaml: `models:\n  a:\n    ${M}\ngroups:\n  g1:\n    members: [a]\n  g2:\n    members: [a]`, path: "groups.g2.members[0]", line: 8, message: "model a is already a member of group g1" },
  { name: "duplicate group member", yaml: `models:\n  a:\n    ${M}\ngroups:\n  g:\n    members:\n      - a\n      - a`, path: "groups.g.members[1]", line: 8, message: 'duplicate member "a"' },
  { name: "group members not a list", yaml: `models:\n  a:\n    ${M}\ngroups:\n  g:\n    members: a`, path: "groups.g.members", line: 6, message: "must be a list" },
  { name: "group named (default)", yaml: `models:\n  a:\n    ${M}\ngroups:\n  "(default)":\n    members: [a]`, path: "groups.(default)", line: 5, message: "reserved" },
  { name: "legacy groups with routing.router", yaml: `models:\n  a:\n    ${M}\ngroups:\n  g:\n    members: [a]\nrouting:\n  router:\n    use: group`, path: "groups", line: 4, message: "cannot be combined with routing.router" },
  { name: "legacy groups and matrix together", yaml: `models:\n  a:\n    ${M}\ngroups:\n  g:\n    members: [a]\nmatrix:\n  sets:\n    s: a`, path: "matrix", line: 7, message: "cannot use both groups and matrix" },
  { name: "use matrix without a matrix", yaml: `routing:\n  router:\n    use: matrix`, path: "routing.router.use", line: 3, message: "routing.router.settings.matrix is not set" },
  // matrix
  { name: "matrix: expression ends early", yaml: `models:\n  a:\n    ${M}\nmatrix:\n  sets:\n    s: "a &"`, path: "matrix.sets.s", line: 6, message: "unexpected end of expression at position 3" },
  { name: "matrix: unexpected character", yaml: `models:\n  a:\n    ${M}\nmatrix:\n  sets:\n    s: "a $ b"`, path: "matrix.sets.s", line: 6, message: 'unexpected character "$" at position 2' },
  { name: "matrix: missing )", yaml: `models:\n  a:\n    ${M}\nmatrix:\n  sets:\n    s: "(a | a"`, path: "matrix.sets.s", line: 6, message: "missing ')' (found end of expression) at position 6" },
  { name: "matrix: empty expression", yaml: `models:\n  a:\n    ${M}\nmatrix:\n  sets:\n    s: "  "`, path: "matrix.sets.s", line: 6, message: "empty expression" },
  { name: "matrix: unknown name", yaml: `models:\n  a:\n    ${M}\nmatrix:\n  sets:\n    s: "a & zz"`, path: "matrix.sets.s", line: 6, message: 'unknown var or model "zz" at position 4' },
  { name: "matrix: undefined reference", yaml: `models:\n  a:\n    ${M}\nmatrix:\n  sets:\n    s: "+nope & a"`, path: "matrix.sets.s", line: 6, message: 'reference to undefined set "nope" at position 0' },
  { name: "matrix: circular references", yaml: `models:\n  a:\n    ${M}\nmatrix:\n  sets:\n    s1: "+s2"\n    s2: "a | +s1"`, path: "matrix.sets.s1", line: 6, message: "circular reference: s1 -> s2 -> s1" },
  { name: "matrix: var names an unknown model", yaml: `models:\n  a:\n    ${M}\nmatrix:\n  vars:\n    x: b\n  sets:\n    s: x`, path: "matrix.vars.x", line: 6, message: '"b" is not a model ID' },
  { name: "matrix: bad var name", yaml: `models:\n  a:\n    ${M}\nmatrix:\n  vars:\n    "x y": a\n  sets:\n    s: a`, path: 'matrix.vars["x y"]', line: 6, message: "var names are 1-32 letters" },
  { name: "matrix: evict cost for an unknown name", yaml: `models:\n  a:\n    ${M}\nmatrix:\n  evict_costs:\n    b: 5\n  sets:\n    s: a`, path: "matrix.evict_costs.b", line: 6, message: 'unknown var or model "b"' },
  { name: "matrix: zero evict cost", yaml: `models:\n  a:\n    ${M}\nmatrix:\n  evict_costs:\n    a: 0\n  sets:\n    s: a`, path: "matrix.evict_costs.a", line: 6, message: "must be >= 1, got 0" },
  { name: "matrix: no sets", yaml: `models:\n  a:\n    ${M}\nrouting:\n  router:\n    use: matrix\n    settings:\n      matrix:\n        sets: {}`, path: "routing.router.settings.matrix.sets", line: 9, message: "must define at least one set" },
  // ports and macros
  { name: "neither ${PORT} nor proxy", yaml: `models:\n  a:\n    cmd: llama-server --port 9000`, path: "models.a.proxy", line: 2, message: "no proxy is set and cmd does not use ${PORT}" },
  { name: "proxy uses ${PORT}, cmd does not", yaml: `models:\n  a:\n    cmd: llama-server --port 9000\n    proxy: http://127.0.0.1:\${PORT}`, path: "models.a.proxy", line: 4, message: "proxy uses ${PORT} but cmd does not" },
  { name: "${PORT} beyond 65535", yaml: `startPort: 65535\nmodels:\n  a:\n    ${M}\n  b:\n    ${M}`, path: "models.b.cmd", line: 6, message: "${PORT} would be 65536" },
  { name: "${PORT} in metadata of a model without it", yaml: `models:\n  a:\n    cmd: srv\n    proxy: http://h:1\n    metadata:\n      port: \${PORT}`, path: "models.a.metadata.port", line: 6, message: "${PORT} is only available in models whose cmd uses ${PORT}" },
  { name: "unknown macro in cmd", yaml: `models:\n  a:\n    cmd: srv --port \${PORT} \${nope}`, path: "models.a.cmd", line: 3, message: "unknown macro ${nope}" },
  { name: "unknown macro deep in metadata", yaml: `models:\n  a:\n    ${M}\n    metadata:\n      x:\n        - "\${what}"`, path: "models.a.metadata.x[0]", line: 6, message: "unknown macro ${what}" },
  { name: "unknown macro at top level", yaml: `apiKeys: ["\${key}"]`, path: "apiKeys[0]", line: 1, message: "unknown macro ${key}" },
  { name: "${MODEL_ID} outside a model", yaml: `apiKeys: ["k-\${MODEL_ID}"]`, path: "apiKeys[0]", line: 1, message: "${MODEL_ID} is only available inside a model" },
  { name: "${PID} in cmd", yaml: `models:\n  a:\n    cmd: srv --port \${PORT} --parent \${PID}`, path: "models.a.cmd", line: 3, message: "${PID} is only available in cmdStop" },
  { name: "forward macro reference", yaml: `macros:\n  a: "x \${b}"\n  b: y\nmodels:\n  m:\n    cmd: srv --port \${PORT} \${a}`, path: "models.m.cmd", line: 6, message: "unknown macro ${b}" },
  { name: "macro name with bad characters", yaml: `macros:\n  "bad name": 1`, path: 'macros["bad name"]', line: 2, message: "macro name may only contain letters, digits, '_' and '-'" },
  { name: "macro name too long", yaml: `macros:\n  ${"m".repeat(64)}: 1`, path: `macros.${"m".repeat(64)}`, line: 2, message: "longer than 63 characters" },
  { name: "reserved macro name", yaml: `macros:\n  PORT: 8080`, path: "macros.PORT", line: 2, message: "macro name PORT is reserved" },
  { name: "reserved SWITCHYARD macro", yaml: `models:\n  a:\n    ${M}\n    macros:\n      SWITCHYARD: x`, path: "models.a.macros.SWITCHYARD", line: 5, message: "macro name SWITCHYARD is reserved" },
  { name: "self-referencing macro", yaml: `macros:\n  loop: "a \${loop}"`, path: "macros.loop", line: 2, message: "macro loop refers to itself" },
  { name: "macro value is a list", yaml: `macros:\n  l: [1, 2]`, path: "macros.l", line: 2, message: "macro value must be a string, number or boolean, got a list" },
  { name: "macros is a list", yaml: `macros: [a]`, path: "macros", line: 1, message: "must be a mapping of macro name to value" },
  { name: "unset environment variable", yaml: `models:\n  a:\n    cmd: srv --port \${PORT} --key \${env.SECRET_KEY}`, path: "models.a.cmd", line: 3, message: "environment variable SECRET_KEY is not set" },
  { name: "environment variable with a newline", yaml: `apiKeys: ["\${env.MULTI}"]`, path: "apiKeys[0]", line: 1, message: "environment variable MULTI contains a newline", env: { MULTI: "a\nb" } },
  // commands
  { name: "unterminated quote in cmd", yaml: `models:\n  a:\n    cmd: srv --port \${PORT} --name 'oops`, path: "models.a.cmd", line: 3, message: "unterminated single quote" },
  { name: "unterminated double quote in cmdStop", yaml: `models:\n  a:\n    ${M}\n    cmdStop: 'kill "\${PID}'`, path: "models.a.cmdStop", line: 4, message: "unterminated double quote" },
  // misc
  { name: "API key with a space", yaml: `apiKeys: ["sk one"]`, path: "apiKeys[0]", line: 1, message: "API key contains whitespace" },
  { name: "empty API key", yaml: `apiKeys:\n  - ok\n  - ""`, path: "apiKeys[1]", line: 3, message: "API key is empty" },
  { name: "priority for an unknown model", yaml: `models:\n  llama:\n    ${M}\nrouting:\n  scheduler:\n    settings:\n      fifo:\n        priority:\n          lama: 3`, path: "routing.scheduler.settings.fifo.priority.lama", line: 9, message: 'unknown model "lama", did you mean llama?' },
  { name: "priority given twice through an alias", yaml: `models:\n  a:\n    ${M}\n    aliases: [x]\nrouting:\n  scheduler:\n    settings:\n      fifo:\n        priority:\n          a: 1\n          x: 2`, path: "routing.scheduler.settings.fifo.priority.x", line: 11, message: 'model a already has a priority (from key "a")' },
  // store (the activity database)
  { name: "store without a path", yaml: `store:\n  maxRecords: 5`, path: "store.path", line: 1, message: "must not be empty" },
  { name: "store path blank", yaml: `store:\n  path: "  "`, path: "store.path", line: 2, message: "must not be empty" },
  { name: "store is a string", yaml: `store: ./activity.db`, path: "store", line: 1, message: 'must be a mapping, got "./activity.db"' },
  { name: "store maxRecords 0", yaml: `store:\n  path: a.db\n  maxRecords: 0`, path: "store.maxRecords", line: 3, message: "must be >= 1, got 0" },
  { name: "store maxRecords fractional", yaml: `store:\n  path: a.db\n  maxRecords: 1.5`, path: "store.maxRecords", line: 3, message: "must be a whole number, got 1.5" },
  { name: "store maxAgeDays 0", yaml: `store:\n  path: a.db\n  maxAgeDays: 0`, path: "store.maxAgeDays", line: 3, message: "must be > 0, got 0" },
  { name: "store maxAgeDays negative", yaml: `store:\n  path: a.db\n  maxAgeDays: -1`, path: "store.maxAgeDays", line: 3, message: "must be > 0, got -1" },
  { name: "store maxAgeDays not a number", yaml: `store:\n  path: a.db\n  maxAgeDays: soon`, path: "store.maxAgeDays", line: 3, message: 'must be a number, got "soon"' },
  // YAML itself
  { name: "YAML syntax error", yaml: `models:\n  a:\n    cmd: "unclosed\n`, path: "", line: 4, message: /Missing closing "quote/ },
  { name: "duplicate YAML key", yaml: `models:\n  a:\n    ${M}\n    ttl: 1\n    ttl: 2`, path: "models.a.ttl", line: 5, message: 'duplicate key "ttl"' },
  { name: "duplicate top-level YAML key", yaml: `healthCheckTimeout: 5\nhealthCheckTimeout: 6\nmodels:\n  a:\n    ${M}`, path: "healthCheckTimeout", line: 2, message: 'duplicate key "healthCheckTimeout"' },
  { name: "top level is a list", yaml: `- a\n- b`, path: "", line: 1, message: "the config must be a mapping" },
];

describe(`bad configs (${cases.length} cases)`, () => {
  test("there are at least 40 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  for (const c of cases) {
    test(c.name, () => {
      const issues = issuesOf(c.yaml, { env: c.env ?? {} });
      const match = issues.find((i) => i.path === c.path);
      if (!match) throw new Error(`no issue at ${JSON.stringify(c.path)}; got:\n${issues.map((i) => `${i.line} ${i.path}: ${i.message}`).join("\n")}`);
      if (typeof c.message === "string") expect(match.message).toContain(c.message);
      else expect(match.message).toMatch(c.message);
      expect(match.line).toBe(c.line);
      expect(match.column).toBeGreaterThanOrEqual(1);
    });
  }
});

/** Unknown keys: llama-swap's decoder ignores them, so the config loads; each is a warning at its line, with a suggestion. */
const unknownKeys: Case[] = [
  { name: "typo in a model key", yaml: `models:\n  llama:\n    ${M}\n    tll: 5`, path: "models.llama.tll", line: 4, message: "unknown key, ignored (llama-swap ignores it too); did you mean ttl?" },
  { name: "typo in a top-level key", yaml: `modles:\n  llama:\n    ${M}`, path: "modles", line: 1, message: "unknown key, ignored (llama-swap ignores it too); did you mean models?" },
  { name: "typo in healthCheckTimeout", yaml: `healthCheckTimout: 30`, path: "healthCheckTimout", line: 1, message: "unknown key, ignored (llama-swap ignores it too); did you mean healthCheckTimeout?" },
  { name: "case slip in checkEndpoint", yaml: `models:\n  a:\n    ${M}\n    checkendpoint: /h`, path: "models.a.checkendpoint", line: 4, message: "did you mean checkEndpoint?" },
  { name: "unknown key with no close match", yaml: `models:\n  a:\n    ${M}\n    gpuLayers: 99`, path: "models.a.gpuLayers", line: 4, message: /^unknown key, ignored \(llama-swap ignores it too\)$/ },
  { name: "unknown filters key", yaml: `models:\n  a:\n    ${M}\n    filters:\n      setParam: {x: 1}`, path: "models.a.filters.setParam", line: 5, message: "did you mean setParams?" },
  { name: "unknown group key", yaml: `models:\n  a:\n    ${M}\ngroups:\n  g:\n    members: [a]\n    exclusiv: false`, path: "groups.g.exclusiv", line: 7, message: "did you mean exclusive?" },
  { name: "typo in a store key", yaml: `store:\n  path: a.db\n  maxRecord: 5`, path: "store.maxRecord", line: 3, message: "unknown key, ignored (llama-swap ignores it too); did you mean maxRecords?" },
];

describe(`unknown keys are warnings, and the config still loads (${unknownKeys.length} cases)`, () => {
  for (const c of unknownKeys) {
    test(c.name, () => {
      const { warnings } = load(c.yaml, { env: c.env ?? {} });
      const match = warnings.find((w) => w.path === c.path);
      if (!match) throw new Error(`no warning at ${JSON.stringify(c.path)}; got:\n${warnings.map((w) => `${w.line} ${w.path}: ${w.message}`).join("\n")}`);
      if (typeof c.message === "string") expect(match.message).toContain(c.message);
      else expect(match.message).toMatch(c.message);
      expect(match.line).toBe(c.line);
    });
  }
});
