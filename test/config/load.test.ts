import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../src/config/errors.ts";
import { loadConfig } from "../../src/config/load.ts";
import { expandMatrix } from "../../src/config/matrix-dsl.ts";
import { issuesOf, load } from "./helpers.ts";

const ONE = `models:\n  m:\n    cmd: srv --port \${PORT}\n`;

describe("defaults", () => {
  test("store: the path as written (relative = to the working directory, as in llama-swap), with the retention defaults", () => {
    const { config, warnings } = load(`store:\n  path: ./activity.db\n${ONE}`);
    expect(warnings).toEqual([]);
    expect(config.store).toEqual({ path: "./activity.db", maxRecords: 100000, maxAgeDays: 30 });
    expect(load(`store:\n  path: /var/lib/switchyard/a.db\n  maxRecords: 5\n  maxAgeDays: 0.5\n${ONE}`).config.store).toEqual({ path: "/var/lib/switchyard/a.db", maxRecords: 5, maxAgeDays: 0.5 });
    expect(load(ONE).config.store).toBeNull();
  });

  test("metricsMaxInMemory: a positive value is kept; zero or less means 1000, as in llama-swap", () => {
    expect(load(`metricsMaxInMemory: 50\n${ONE}`).config.metricsMaxInMemory).toBe(50);
    expect(load(`metricsMaxInMemory: 0\n${ONE}`).config.metricsMaxInMemory).toBe(1000);
    expect(load(`metricsMaxInMemory: -3\n${ONE}`).config.metricsMaxInMemory).toBe(1000);
  });

  test("captureBuffer: MB of captures, 0 or less = off; ui is kept for UIs; metrics.upstream is a switch", () => {
    expect(load(`captureBuffer: 15\n${ONE}`).config.captureBufferMB).toBe(15);
    expect(load(`captureBuffer: -1\n${ONE}`).config.captureBufferMB).toBe(0);
    const c = load(`ui:\n  activity:\n    session_id: [X-Conversation]\nmetrics:\n  upstream: true\n${ONE}`);
    expect(c.warnings).toEqual([]);
    expect(c.config.ui).toEqual({ activity: { session_id: ["X-Conversation"] } });
    // As llama-swap: trimmed, blanks dropped, one of each name whatever its case.
    expect(load(`ui:\n  activity:\n    session_id: [" X-Sess ", x-sess, "", X-Other]\n${ONE}`).config.ui).toEqual({ activity: { session_id: ["X-Sess", "X-Other"] } });
    expect(c.config.upstreamMetrics).toBe(true);
    expect(load(`metrics:\n  upstrem: true\n${ONE}`).warnings.map((w) => w.path)).toEqual(["metrics.upstrem"]);
  });

  test("activity.disabled: nothing recorded, so a store or captures would do nothing (warned)", () => {
    const c = load(`activity:\n  disabled: true\ncaptureBuffer: 5\nstore:\n  path: a.db\n${ONE}`);
    expect(c.config.activityEnabled).toBe(false);
    expect(c.warnings.map((w) => `${w.path}: ${w.message}`)).toEqual(["captureBuffer: has no effect while activity.disabled is true", "store: has no effect while activity.disabled is true"]);
  });

  test("a minimal config gets llama-swap's defaults and ours", () => {
    const { config, warnings } = load(ONE);
    expect(warnings).toEqual([]);
    const { models, ...top } = config;
    expect(top).toEqual({
      healthCheckTimeout: 120,
      logLevel: "info",
      logToStdout: "proxy",
      logTimeFormat: null,
      upstreamIgnorePaths: [".*\\.(js|json|css|png|gif|jpg|jpeg|ico|txt)$"],
      startPort: 5800,
      sendLoadingState: false,
      includeAliasesInList: false,
      globalTTL: 0,
      unloadTimeout: 10,
      drainTimeout: 30,
      requestBodyLimitMB: 256,
      metricsMaxInMemory: 1000,
      performance: { enabled: true, everyMs: 5000 },
      store: null,
      captureBufferMB: 0,
      ui: { activity: { session_id: ["X-Session-ID", "X-Litellm-Session-Id"] } },
      upstreamMetrics: false,
      activityEnabled: true,
      apiKeys: [],
      preload: [],
      aliases: {},
      routing: {
        router: "group",
        groups: [{ id: "(default)", members: ["m"], swap: true, exclusive: true, persistent: false }],
        matrix: null,
        fit: null,
        scheduler: "fifo",
        fifo: { priority: {}, maxWait: 60 },
      },
      peers: {},
      profiles: {},
      selectors: {},
      warnings: [],
    });
    expect(models.m).toEqual({
      id: "m",
      memory: null,
      persistent: false,
      cmd: ["srv", "--port", "5800"],
      cmdStop: [],
      proxy: "http://localhost:5800",
      port: 5800,
      aliases: [],
      env: {},
      checkEndpoint: "/health",
      ttl: 0,
      unloadTimeout: 10,
      drainTimeout: 30,
      unlisted: false,
      useModelName: "",
      name: "",
      description: "",
      concurrencyLimit: 10,
      sendLoadingState: false,
      filters: { stripParams: [], setParams: {}, setParamsByID: {} },
      metadata: {},
      healthCheckTimeout: 120,
      capabilities: { in: [], out: [], tools: false, reranker: false, context: 0 },
      timeouts: { connect: 30, responseHeader: 0, keepalive: 30, tlsHandshake: 10, expectContinue: 1, idleConn: 90 },
      compat: { ignoreWebsockets: false },
    });
  });

  test("an empty file loads, with a warning", () => {
    const { config, warnings } = loadConfig("");
    expect(config.models).toEqual({});
    expect(warnings.map((w) => w.message)).toEqual(["no models or peers are defined"]);
    expect(config.routing.groups).toEqual([{ id: "(default)", members: [], swap: true, exclusive: true, persistent: false }]);
  });

  test("healthCheckTimeout below 15 is raised to 15, with a warning", () => {
    const { config, warnings } = load(`healthCheckTimeout: 5\n${ONE}`);
    expect(config.healthCheckTimeout).toBe(15);
    expect(config.models.m.healthCheckTimeout).toBe(15);
    expect(warnings.map((w) => [w.path, w.line, w.message])).toEqual([["healthCheckTimeout", 1, "5 raised to the minimum of 15"]]);
  });

  test("unloadTimeout 0 means 10, a model's 0 means the global value", () => {
    const { config } = load(`unloadTimeout: 0\nmodels:\n  a:\n    cmd: srv --port \${PORT}\n    unloadTimeout: 0\n  b:\n    cmd: srv --port \${PORT}\n    unloadTimeout: 3`);
    expect(config.unloadTimeout).toBe(10);
    expect([config.models.a.unloadTimeout, config.models.b.unloadTimeout]).toEqual([10, 3]);
  });

  test("ttl: absent or -1 take globalTTL, 0 stays never", () => {
    const { config } = load(`
      globalTTL: 300
      models:
        a: {cmd: "srv --port \${PORT}"}
        b: {cmd: "srv --port \${PORT}", ttl: -1}
        c: {cmd: "srv --port \${PORT}", ttl: 0}
        d: {cmd: "srv --port \${PORT}", ttl: 7}
    `);
    expect(["a", "b", "c", "d"].map((id) => config.models[id].ttl)).toEqual([300, 300, 0, 7]);
  });

  test("concurrencyLimit 0 means 10; comfyui_auto gets at least 50", () => {
    const { config } = load(`
      models:
        a: {cmd: "srv --port \${PORT}", concurrencyLimit: 0}
        b: {cmd: "srv --port \${PORT}", concurrencyLimit: 3}
        comfyui_auto: {cmd: "srv --port \${PORT}", concurrencyLimit: 4}
    `);
    expect([config.models.a.concurrencyLimit, config.models.b.concurrencyLimit, config.models.comfyui_auto.concurrencyLimit]).toEqual([10, 3, 50]);
  });

  test("drainTimeout, requestBodyLimitMB and fifo.maxWait take fractions; a model may override drainTimeout", () => {
    const { config } = load(`
      drainTimeout: 0.5
      requestBodyLimitMB: 0.25
      routing:
        scheduler:
          use: serial
          settings:
            fifo:
              maxWait: 1.5
      models:
        a: {cmd: "srv --port \${PORT}"}
        b: {cmd: "srv --port \${PORT}", drainTimeout: 0}
    `);
    expect([config.drainTimeout, config.requestBodyLimitMB, config.routing.fifo.maxWait, config.routing.scheduler]).toEqual([0.5, 0.25, 1.5, "serial"]);
    expect([config.models.a.drainTimeout, config.models.b.drainTimeout]).toEqual([0.5, 0]);
  });

  test("sendLoadingState per model overrides the global flag", () => {
    const { config } = load(`sendLoadingState: true\nmodels:\n  a: {cmd: "srv --port \${PORT}"}\n  b: {cmd: "srv --port \${PORT}", sendLoadingState: false}`);
    expect([config.models.a.sendLoadingState, config.models.b.sendLoadingState]).toEqual([true, false]);
  });
});

describe("normalisation", () => {
  test("checkEndpoint: none stays, a path without / gets one", () => {
    const { config } = load(`models:\n  a: {cmd: "srv --port \${PORT}", checkEndpoint: none}\n  b: {cmd: "srv --port \${PORT}", checkEndpoint: " ready "}`);
    expect([config.models.a.checkEndpoint, config.models.b.checkEndpoint]).toEqual(["none", "/ready"]);
  });

  test("env list becomes a record (later entries win), values keep '='", () => {
    const { config } = load(`models:\n  a:\n    cmd: srv --port \${PORT}\n    env: ["A=1", "B=x=y", "A=2", "EMPTY="]`);
    expect(config.models.a.env).toEqual({ A: "2", B: "x=y", EMPTY: "" });
  });

  test("legacy filters.strip_params is used when stripParams is empty", () => {
    const { config } = load(`models:\n  a:\n    cmd: srv --port \${PORT}\n    filters:\n      strip_params: "b, a ,model,,a"`);
    expect(config.models.a.filters.stripParams).toEqual(["a", "b"]);
  });

  test("filters never set `model` (warned and dropped)", () => {
    const { config, warnings } = load(`models:\n  a:\n    cmd: srv --port \${PORT}\n    filters:\n      setParams: {model: x, t: 1}`);
    expect(config.models.a.filters.setParams).toEqual({ t: 1 });
    expect(warnings.map((w) => [w.path, w.line])).toEqual([["models.a.filters.setParams.model", 5]]);
  });

  test("proxy loses trailing slashes; a model without cmd is accepted with a warning", () => {
    const { config, warnings } = load(`models:\n  a:\n    proxy: http://127.0.0.1:9000/v1//`);
    expect(config.models.a.proxy).toBe("http://127.0.0.1:9000/v1");
    expect(config.models.a.cmd).toEqual([]);
    expect(warnings.map((w) => [w.path, w.message])).toEqual([["models.a", "no cmd: this model cannot be started"]]);
  });

  test("YAML 1.1 booleans and scalar-to-string, as llama-swap's decoder accepts them", () => {
    const { config } = load(`models:\n  "2024":\n    cmd: srv --port \${PORT}\n    unlisted: yes\n    sendLoadingState: off\n    name: 2024\n    aliases: [1.5, true]`);
    const m = config.models["2024"];
    expect([m.unlisted, m.sendLoadingState, m.name, m.aliases]).toEqual([true, false, "2024", ["1.5", "true"]]);
  });

  test("an empty value means 'not set'", () => {
    const { config } = load(`globalTTL:\nmodels:\n  a:\n    cmd: srv --port \${PORT}\n    cmdStop:\n    filters:\n    aliases:`);
    expect(config.globalTTL).toBe(0);
    expect(config.models.a.cmdStop).toEqual([]);
    expect(config.models.a.aliases).toEqual([]);
  });

  test("an unknown logLevel falls back to info with a warning", () => {
    const { config, warnings } = load(`logLevel: verbose\n${ONE}`);
    expect(config.logLevel).toBe("info");
    expect(warnings[0].path).toBe("logLevel");
    expect(warnings[0].message).toContain('unknown log level "verbose"');
  });

  test("logLevel is trimmed and lowercased, as llama-swap reads it", () => {
    for (const written of ["DEBUG", "Debug", '" debug "']) {
      const { config, warnings } = load(`logLevel: ${written}\n${ONE}`);
      expect([written, config.logLevel, warnings]).toEqual([written, "debug", []]);
    }
  });

  test("preload: trimmed, aliases resolved, duplicates and blanks dropped, unknown names warned", () => {
    const { config, warnings } = load(`
      models:
        a: {cmd: "srv --port \${PORT}", aliases: [fast]}
        b: {cmd: "srv --port \${PORT}"}
      hooks:
        on_startup:
          preload: [" fast ", "", b, a, ghost]
    `);
    expect(config.preload).toEqual(["a", "b"]);
    expect(warnings.map((w) => [w.path, w.line, w.message])).toEqual([
      ["hooks.on_startup.preload[4]", 6, '"ghost" is not a model ID or alias; it will not be preloaded'],
    ]);
  });

  test("scheduler priorities resolve aliases to model IDs", () => {
    const { config } = load(`
      models:
        a: {cmd: "srv --port \${PORT}", aliases: [fast]}
      routing:
        scheduler:
          settings:
            fifo:
              priority: {fast: 7}
    `);
    expect(config.routing.fifo.priority).toEqual({ a: 7 });
  });

  test("legacy top-level groups: definition order, (default) last with the ungrouped models sorted", () => {
    const { config } = load(`
      models:
        z: {cmd: "srv --port \${PORT}"}
        y: {cmd: "srv --port \${PORT}"}
        x: {cmd: "srv --port \${PORT}"}
        w: {cmd: "srv --port \${PORT}"}
      groups:
        second: {members: [x], persistent: true}
        first: {members: [w], swap: false, exclusive: false}
    `);
    expect(config.routing.groups).toEqual([
      { id: "second", members: ["x"], swap: true, exclusive: true, persistent: true },
      { id: "first", members: ["w"], swap: false, exclusive: false, persistent: false },
      { id: "(default)", members: ["y", "z"], swap: true, exclusive: true, persistent: false },
    ]);
  });

  test("routing.router.use matrix: vars, costs and sets kept as written, in document order", () => {
    const { config, warnings } = load(`
      models:
        gemma: {cmd: "srv --port \${PORT}"}
        qwen: {cmd: "srv --port \${PORT}"}
        voice: {cmd: "srv --port \${PORT}"}
      routing:
        router:
          use: matrix
          settings:
            groups:
              g: {members: [gemma]}
            matrix:
              vars: {g: gemma, q: qwen}
              evict_costs: {voice: 50, g: 2}
              sets:
                "10": "(g | q) & voice"
                "2": "+10 | gemma"
    `);
    expect(config.routing.router).toBe("matrix");
    expect(config.routing.groups).toEqual([]);
    expect(config.routing.matrix).toEqual({
      vars: { g: "gemma", q: "qwen" },
      evictCosts: { voice: 50, g: 2 },
      sets: [
        { name: "10", dsl: "(g | q) & voice" },
        { name: "2", dsl: "+10 | gemma" },
      ],
      // Compiled once at load (vars resolved, references by name): the router and --check read these.
      compiled: [
        {
          set: "10",
          dsl: "(g | q) & voice",
          models: ["gemma", "qwen", "voice"],
          expr: { kind: "and", children: [{ kind: "or", children: [{ kind: "model", id: "gemma" }, { kind: "model", id: "qwen" }] }, { kind: "model", id: "voice" }] },
        },
        { set: "2", dsl: "+10 | gemma", models: ["gemma", "qwen", "voice"], expr: { kind: "or", children: [{ kind: "ref", set: "10" }, { kind: "model", id: "gemma" }] } },
      ],
      costById: { gemma: 2, voice: 50 },
    });
    expect(expandMatrix(config.routing.matrix!.compiled)).toEqual([
      { set: "10", dsl: "(g | q) & voice", models: ["gemma", "voice"] },
      { set: "10", dsl: "(g | q) & voice", models: ["qwen", "voice"] },
      { set: "2", dsl: "+10 | gemma", models: ["gemma", "voice"] },
      { set: "2", dsl: "+10 | gemma", models: ["qwen", "voice"] },
      { set: "2", dsl: "+10 | gemma", models: ["gemma"] },
    ]);
    expect(warnings.map((w) => [w.path, w.message])).toEqual([["routing.router.settings.groups", "ignored: routing.router.use is matrix"]]);
  });

  test("legacy top-level matrix selects the matrix router", () => {
    const { config } = load(`models:\n  a: {cmd: "srv --port \${PORT}"}\nmatrix:\n  sets:\n    only: a`);
    expect(config.routing.router).toBe("matrix");
    expect(config.routing.matrix?.sets).toEqual([{ name: "only", dsl: "a" }]);
  });

  test("peers: duplicate models ignored; per-ID peer filters kept, unreachable keys and no-effect timeouts warned", () => {
    const { config, warnings } = load(`
      peers:
        box:
          proxy: http://10.0.0.9:8080/
          apiKey: secret
          models: [x, y, x]
          filters:
            setParamsByID: {x: {a: 1}, box/y: {b: 2, model: z}, other/x: {c: 3}}
          timeouts: {connect: 3, idleConn: 5}
    `);
    expect(config.peers.box).toEqual({
      id: "box",
      proxy: "http://10.0.0.9:8080",
      apiKey: "secret",
      models: ["x", "y"],
      filters: { stripParams: [], setParams: {}, setParamsByID: { x: { a: 1 }, "box/y": { b: 2 }, "other/x": { c: 3 } } },
      timeouts: { connect: 3, responseHeader: 60, keepalive: 30, tlsHandshake: 10, expectContinue: 1, idleConn: 5 },
    });
    expect(warnings.map((w) => w.path)).toEqual(["peers.box.filters.setParamsByID.box/y.model", "peers.box.filters.setParamsByID.other/x", "peers.box.timeouts.idleConn"]);
  });

  test("top-level x-* keys are ignored silently; other unknown keys are ignored with a warning, as llama-swap ignores them (version: 2, notes)", () => {
    expect(load(`x-notes: {anything: [1, 2]}\n${ONE}`).warnings).toEqual([]);
    const c = load(`version: 2\nnotes: hi\n${ONE}    comment: "Q4_K_M, 32k"\n`);
    expect(c.warnings.map((w) => [w.path, w.message])).toEqual([
      ["version", "unknown key, ignored (llama-swap ignores it too)"],
      ["notes", "unknown key, ignored (llama-swap ignores it too)"],
      [expect.stringMatching(/\.comment$/), "unknown key, ignored (llama-swap ignores it too)"],
    ]);
    expect(Object.keys(c.config.models)).toHaveLength(1);
  });
});

describe("errors", () => {
  test("every problem is reported in one pass, sorted by line", () => {
    const text = [
      "globalTTL: -1", //                                  1
      "models:", //                                        2
      "  a:", //                                           3
      "    cmd: srv --port ${PORT} ${nope}", //            4
      "    ttl: soon", //                                  5
      "    aliases: [b]", //                               6
      "  b:", //                                           7
      "    cmd: srv", //                                   8
      "groups:", //                                        9
      "  g: {members: [a, ghost]}", //                     10
    ].join("\n");
    let error: ConfigError | null = null;
    try {
      loadConfig(text, { fileName: "bad.yaml" });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.format().split("\n")).toEqual([
      "bad.yaml:1:1: globalTTL: must be >= 0, got -1",
      "bad.yaml:4:5: models.a.cmd: unknown macro ${nope}",
      'bad.yaml:5:5: models.a.ttl: must be a whole number, got "soon"',
      'bad.yaml:6:15: models.a.aliases[0]: alias "b" is the ID of another model',
      "bad.yaml:7:3: models.b.proxy: no proxy is set and cmd does not use ${PORT}: add ${PORT} to cmd, or set proxy to the URL the server listens on",
      'bad.yaml:10:20: groups.g.members[1]: "ghost" is not a model ID',
    ]);
  });

  test("semantic checks still run when a schema error is deep inside a model", () => {
    const issues = issuesOf(`
      models:
        a: {cmd: "srv --port \${PORT}", ttl: x, aliases: [b]}
        b: {cmd: "srv --port \${PORT}"}
    `);
    expect(issues.map((i) => i.path)).toEqual(["models.a.ttl", "models.a.aliases[0]"]);
  });

  test("ConfigError message is the formatted list, without a stack in format()", () => {
    try {
      loadConfig("startPort: 0", { fileName: "c.yaml" });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toBe("c.yaml:1:1: startPort: must be >= 1, got 0");
      expect((err as ConfigError).format()).toBe("c.yaml:1:1: startPort: must be >= 1, got 0");
      return;
    }
    throw new Error("loaded");
  });

  test("alias bombs are refused, not expanded", () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 8; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
    const issues = issuesOf(lines.join("\n"));
    expect(issues[0].message).toContain("cannot expand the document");
  });

  test("a likely typo of apiKeys is refused, not ignored: ignoring it would serve without the keys (fail open)", () => {
    for (const key of ["apikeys", "apiKey", "ApiKeys"]) {
      const issues = issuesOf(`${key}: [secret]\n${ONE}`);
      expect([key, issues.map((i) => [i.path, i.line, i.message])]).toEqual([key, [[key, 1, expect.stringContaining("did you mean apiKeys? Refused, not ignored")]]]);
    }
  });

  test("only the first YAML document is read, as llama-swap reads it: a closing --- loads silently, a second document with content is left out with a warning at its line", () => {
    expect(load(`${ONE}---\n`).warnings).toEqual([]);
    expect(load(`---\n${ONE}---\n# the end\n`).warnings).toEqual([]);
    const c = load(`${ONE}---\nmodels:\n  z:\n    cmd: x\n`);
    expect(Object.keys(c.config.models)).toEqual(["m"]);
    expect(c.warnings.map((w) => [w.line, w.message])).toEqual([[4, expect.stringContaining("a second YAML document begins here; only the first is read")]]);
  });

  test("an alias that repeats its model's own ID is dropped with a warning (llama-swap finds the model by its ID first)", () => {
    const c = load(`models:\n  m:\n    cmd: srv --port \${PORT}\n    aliases: [m, other]\n`);
    expect(c.config.models.m!.aliases).toEqual(["other"]);
    expect(c.warnings.map((w) => [w.path, w.line, w.message])).toEqual([["models.m.aliases[0]", 4, `alias "m" repeats the model's own ID; ignored`]]);
  });
});
