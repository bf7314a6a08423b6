/**
 * The llama-swap-shaped fixture: rejected as written (undefined group members and priorities, a model
 * with neither ${PORT} nor proxy), accepted once fixed, with every resolved value worked out by hand.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { ConfigError } from "../../src/config/errors.ts";
import { loadConfig } from "../../src/config/load.ts";

const text = readFileSync(new URL("./fixtures/llama-swap-shaped.yaml", import.meta.url), "utf8");
const env = { MODELS_ROOT: "/srv/models", KEY_ONE: "sk-one", KEY_TWO: 'sk-"two"', OPENROUTER_KEY: "or-key" };

function replaceOnce(s: string, from: string, to: string): string {
  expect(s.split(from).length).toBe(2);
  return s.replace(from, to);
}

/** The two fixes the file needs: a proxy for hidden-model, and the models the groups name. */
function fixed(): string {
  let s = replaceOnce(text, "    cmd: some-upstream-server\n", "    cmd: some-upstream-server\n    proxy: http://127.0.0.1:9000\n");
  const extra = ["speedy", "model-a", "model-b", "forever-a", "forever-b"]
    .map((id) => `  "${id}":\n    cmd: llama-server --port \${PORT} -m ${id}.gguf\n`)
    .join("");
  s = replaceOnce(s, "\nhooks:\n", `${extra}\nhooks:\n`);
  return s;
}

describe("llama-swap-shaped config", () => {
  test("is rejected as written, with every problem named by path and line", () => {
    let error: ConfigError | null = null;
    try {
      loadConfig(text, { env, fileName: "shaped.yaml" });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const got = error!.issues.map((i) => `${i.line} ${i.path}: ${i.message}`);
    expect(got).toEqual([
      "105 models.hidden-model.proxy: no proxy is set and cmd does not use ${PORT}: add ${PORT} to cmd, or set proxy to the URL the server listens on",
      '132 routing.router.settings.groups.g-one.members[0]: "speedy" is not a model ID',
      '139 routing.router.settings.groups.g-two.members[1]: "model-a" is not a model ID',
      '140 routing.router.settings.groups.g-two.members[2]: "model-b" is not a model ID',
      '146 routing.router.settings.groups.forever.members[0]: "forever-a" is not a model ID',
      '147 routing.router.settings.groups.forever.members[1]: "forever-b" is not a model ID',
      '160 routing.scheduler.settings.fifo.priority.model-a: unknown model "model-a"',
      '161 routing.scheduler.settings.fifo.priority.model-b: unknown model "model-b"',
      '162 routing.scheduler.settings.fifo.priority.speedy: unknown model "speedy"',
    ]);
    expect(error!.format().split("\n")[0]).toBe(
      "shaped.yaml:105:3: models.hidden-model.proxy: no proxy is set and cmd does not use ${PORT}: add ${PORT} to cmd, or set proxy to the URL the server listens on",
    );
  });

  test("an unset environment variable is named with its line (the one in a comment is not)", () => {
    const { MODELS_ROOT: _, ...partial } = env;
    try {
      loadConfig(fixed(), { env: partial });
      throw new Error("loaded");
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const issues = (err as ConfigError).issues;
      expect(issues.map((i) => [i.line, i.path, i.message])).toEqual([[29, "macros.models-dir", "environment variable MODELS_ROOT is not set"]]);
    }
  });

  describe("once fixed", () => {
    const { config, warnings } = loadConfig(fixed(), { env, fileName: "shaped.yaml" });

    test("top-level values and defaults", () => {
      expect(config.healthCheckTimeout).toBe(500);
      expect(config.logLevel).toBe("info");
      expect(config.logToStdout).toBe("proxy");
      expect(config.startPort).toBe(10001);
      expect(config.sendLoadingState).toBe(true);
      expect(config.includeAliasesInList).toBe(false);
      expect(config.globalTTL).toBe(0);
      expect(config.unloadTimeout).toBe(10);
      expect(config.drainTimeout).toBe(30);
      expect(config.requestBodyLimitMB).toBe(256);
      expect(config.performance).toEqual({ enabled: true, everyMs: 15_000 });
      expect(config.apiKeys).toEqual(["sk-plain-key", "sk-one", 'sk-"two"']);
      expect(config.preload).toEqual(["speedy"]);
    });

    test("ports go to models whose cmd uses ${PORT}, in sorted ID order", () => {
      const ports = Object.fromEntries(Object.values(config.models).map((m) => [m.id, m.port]));
      expect(ports).toEqual({
        "big-thinker": 10001, // ${PORT} arrives through the global macro `server`
        "container-llama": 10002,
        "forever-a": 10003,
        "forever-b": 10004,
        "hidden-model": null,
        "model-a": 10005,
        "model-b": 10006,
        speedy: 10007,
      });
      expect(config.models["hidden-model"].proxy).toBe("http://127.0.0.1:9000");
      expect(config.models["model-a"].proxy).toBe("http://localhost:10005");
      expect(config.models["container-llama"].proxy).toBe("http://127.0.0.1:10002");
    });

    test("big-thinker: macros (model override in place, macro-in-macro, env), comments dropped, argv", () => {
      const m = config.models["big-thinker"];
      expect(m.cmd).toEqual(["/opt/llama/llama-server", "--port", "10001", "--model", "/srv/models/gguf/thinker.gguf", "--ctx-size", "16384", "--temp", "0.7"]);
      expect(m.proxy).toBe("http://127.0.0.1:8999");
      expect(m.env).toEqual({ CUDA_VISIBLE_DEVICES: "0,1" });
      expect(m.checkEndpoint).toBe("/custom-endpoint");
      expect(m.ttl).toBe(60);
      expect(m.unloadTimeout).toBe(10);
      expect(m.useModelName).toBe("vendor/big-thinker");
      expect(m.name).toBe("Big Thinker");
      expect(m.description).toBe("A thinking model");
      expect(m.concurrencyLimit).toBe(10);
      expect(m.sendLoadingState).toBe(false);
      expect(m.healthCheckTimeout).toBe(500);
      expect(m.unlisted).toBe(false);
    });

    test("big-thinker: filters and setParamsByID aliases", () => {
      const m = config.models["big-thinker"];
      expect(m.filters.stripParams).toEqual(["temperature", "top_k", "top_p"]);
      expect(m.filters.setParams).toEqual({ temperature: 0.7, top_p: 0.9 });
      expect(m.filters.setParamsByID).toEqual({
        "big-thinker": { reasoning_effort: "medium" },
        "big-thinker:high": { reasoning_effort: "high" },
        "big-thinker:low": { reasoning_effort: "low" },
      });
      expect(m.aliases).toEqual(["gpt-4o-mini", "big-thinker:high", "big-thinker:low"]);
      expect(config.aliases).toEqual({ "gpt-4o-mini": "big-thinker", "big-thinker:high": "big-thinker", "big-thinker:low": "big-thinker" });
    });

    test("big-thinker: metadata keeps macro types", () => {
      expect(config.models["big-thinker"].metadata).toEqual({
        port: 10001,
        temperature: 0.7,
        note: "The big-thinker is on port 10001 temp=0.7, ctx=16384",
        a_list: [1, 1.23, "macros in lists: big-thinker"],
        an_obj: { a: "1", c: [0.7, false, "model: big-thinker"] },
      });
    });

    test("container-llama: MODEL_ID and PORT in cmd, cmdStop, proxy; quoted word kept whole", () => {
      const m = config.models["container-llama"];
      expect(m.cmd).toEqual([
        "docker", "run", "--name", "container-llama", "--init", "--rm", "-p", "10002:8080", "-v", "/mnt/models:/models",
        "ghcr.io/ggml-org/llama.cpp:server", "--model", "/models/small coder.gguf",
      ]);
      expect(m.cmdStop).toEqual(["docker", "stop", "container-llama"]);
    });

    test("groups, the (default) group, scheduler priorities", () => {
      expect(config.routing.router).toBe("group");
      expect(config.routing.matrix).toBeNull();
      expect(config.routing.groups).toEqual([
        { id: "g-one", members: ["speedy", "hidden-model"], swap: true, exclusive: true, persistent: false },
        { id: "g-two", members: ["container-llama", "model-a", "model-b"], swap: false, exclusive: false, persistent: false },
        { id: "forever", members: ["forever-a", "forever-b"], swap: false, exclusive: false, persistent: true },
        { id: "(default)", members: ["big-thinker"], swap: true, exclusive: true, persistent: false },
      ]);
      expect(config.routing.scheduler).toBe("fifo");
      expect(config.routing.fifo).toEqual({ priority: { "model-a": 10, "model-b": 5, speedy: 1 }, maxWait: 60 });
    });

    test("peers", () => {
      expect(config.peers).toEqual({
        "remote-box": { id: "remote-box", proxy: "http://192.168.1.23", apiKey: "", models: ["model_a", "embeddings/model_c"], filters: { stripParams: [], setParams: {}, setParamsByID: {} }, timeouts: { connect: 30, responseHeader: 60, keepalive: 30, tlsHandshake: 10, expectContinue: 1, idleConn: 90 } },
        openrouter: {
          id: "openrouter",
          proxy: "https://openrouter.ai/api",
          apiKey: "or-key",
          models: ["meta-llama/llama-3.1-8b-instruct", "z-ai/glm-4.7"],
          filters: { stripParams: ["temperature", "top_p"], setParams: { provider: { data_collection: "deny" } }, setParamsByID: {} },
          timeouts: { connect: 30, responseHeader: 60, keepalive: 30, tlsHandshake: 10, expectContinue: 1, idleConn: 90 },
        },
      });
    });

    test("capabilities, timeouts, upstream.ignorePaths and logTimeFormat as written", () => {
      const m = config.models["big-thinker"];
      expect(m.capabilities).toEqual({ in: ["text", "image"], out: [], tools: true, reranker: false, context: 0 });
      expect(m.timeouts).toEqual({ connect: 30, responseHeader: 60, keepalive: 30, tlsHandshake: 10, expectContinue: 1, idleConn: 90 });
      expect(config.peers.openrouter.timeouts.connect).toBe(30);
      expect(config.upstreamIgnorePaths).toEqual([".*\\.(js|css|png)$"]);
      // "" is llama-swap's "no timestamp".
      expect(config.logTimeFormat).toBe("");
    });

    test("one warning: the inactive matrix (profiles and selectors are implemented)", () => {
      expect(warnings.map((w) => `${w.line} ${w.path}`)).toEqual(["159 routing.router.settings.matrix"]);
      expect(config.warnings).toEqual(warnings);
    });
  });
});
