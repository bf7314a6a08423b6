/**
 * Parity with llama-swap's config loader (mostlygeek/llama-swap, internal/config): one row per
 * behaviour its own tests pin down, restated as our own YAML with the value llama-swap computes
 * (accept/reject, ports, expanded macros, aliases, defaults). `ls` names the llama-swap test (or,
 * marked "code:", the loader code) a row mirrors. Deliberate differences are listed at the end.
 */
import { describe, expect, test } from "bun:test";
import { ConfigError, type ConfigIssue } from "../../src/config/errors.ts";
import { expandMatrix } from "../../src/config/matrix-dsl.ts";
import type { Config } from "../../src/config/types.ts";
import { load } from "./helpers.ts";

type Env = Record<string, string>;

/** A config llama-swap accepts: `got` picks values out of our Config, `want` is what llama-swap computes. */
interface Accept {
  name: string;
  ls: string;
  yaml: string;
  env?: Env;
  got: (c: Config) => unknown;
  want: unknown;
  /** Paths that must carry a warning (keys llama-swap knows and switchyard ignores). */
  warns?: string[];
}

/** A config llama-swap rejects: ours must reject it too, at `path` (with a line), saying `message`. */
interface Reject {
  name: string;
  ls: string;
  yaml: string;
  env?: Env;
  path: string;
  message: string | RegExp;
}

const P = "cmd: srv --port ${PORT}"; // a model body line that takes a port
/** llama-swap's default timeouts of a model and of a peer (peers wait 60 s for headers). */
const MODEL_TIMEOUTS = { connect: 30, responseHeader: 0, keepalive: 30, tlsHandshake: 10, expectContinue: 1, idleConn: 90 };
const PEER_TIMEOUTS = { ...MODEL_TIMEOUTS, responseHeader: 60 };
const NO_CAPS = { in: [], out: [], tools: false, reranker: false, context: 0 };

// ---------------------------------------------------------------- ports

const ports: Accept[] = [
  { name: "empty file: startPort 5800", ls: "TestConfig_AutomaticPortAssignments/Default Port Ranges", yaml: ``, got: (c) => c.startPort, want: 5800 },
  { name: "startPort set", ls: "TestConfig_AutomaticPortAssignments/User specific port ranges", yaml: `startPort: 1000`, got: (c) => c.startPort, want: 1000 },
  {
    name: "ports go to models whose cmd uses ${PORT}; proxy defaults to localhost:${PORT}",
    ls: "TestConfig_AutomaticPortAssignments/Automatic port assignments",
    yaml: `
      startPort: 5800
      models:
        model1:
          cmd: svr --port \${PORT}
        model2:
          cmd: svr --port \${PORT}
          proxy: "http://172.11.22.33:\${PORT}"
        model3:
          cmd: svr --port 1999
          proxy: "http://1.2.3.4:1999"
    `,
    got: (c) => Object.values(c.models).map((m) => [m.id, m.cmd.join(" "), m.proxy, m.port]),
    want: [
      ["model1", "svr --port 5800", "http://localhost:5800", 5800],
      ["model2", "svr --port 5801", "http://172.11.22.33:5801", 5801],
      ["model3", "svr --port 1999", "http://1.2.3.4:1999", null],
    ],
  },
  {
    name: "ports in byte order of model IDs, a model without ${PORT} takes none",
    ls: "TestConfig_MacroModelId (port order) + code: sort.Strings(modelIDs)",
    yaml: `
      startPort: 9000
      models:
        model2: {cmd: "b -p \${PORT}"}
        fixed: {cmd: "c -p 1", proxy: "http://localhost:1"}
        model1: {cmd: "a -p \${PORT}"}
        "author/model:F16": {cmd: "d -p \${PORT}"}
        Zeta: {cmd: "e -p \${PORT}"}
    `,
    got: (c) => Object.fromEntries(Object.values(c.models).map((m) => [m.id, m.port])),
    want: { Zeta: 9000, "author/model:F16": 9001, fixed: null, model1: 9002, model2: 9003 },
  },
  {
    name: "${PORT} only in a comment line of cmd hands out no port",
    ls: "TestConfig_MacroInCommentStrippedBeforeExpansion + code: stripRawCommandComments",
    yaml: `
      models:
        m:
          cmd: |
            # listens on \${PORT} one day
            srv --port 7000
          proxy: http://localhost:7000
    `,
    got: (c) => [c.models.m.cmd, c.models.m.port],
    want: [["srv", "--port", "7000"], null],
  },
  {
    name: "startPort may itself be a macro",
    ls: "TestConfig_MacroResolvedStartPort",
    yaml: `
      macros:
        FIRST_PORT: 6200
      startPort: "\${FIRST_PORT}"
      models:
        model1:
          cmd: server --port \${PORT}
    `,
    got: (c) => [c.startPort, c.models.model1.cmd.join(" "), c.models.model1.proxy],
    want: [6200, "server --port 6200", "http://localhost:6200"],
  },
  {
    name: "${PORT} applies to every value of its model, typed when alone",
    ls: "TestConfig_RuntimeMacros/PORT applies throughout its model",
    yaml: `
      startPort: 6100
      models:
        model1:
          cmd: server --port \${PORT}
          proxy: http://localhost:\${PORT}
          checkEndpoint: /health/\${PORT}
          aliases: ["port-\${PORT}"]
          metadata:
            port: "\${PORT}"
    `,
    got: (c) => {
      const m = c.models.model1;
      return [m.cmd.join(" "), m.proxy, m.checkEndpoint, m.aliases, m.metadata.port, c.aliases];
    },
    want: ["server --port 6100", "http://localhost:6100", "/health/6100", ["port-6100"], 6100, { "port-6100": "model1" }],
  },
  {
    name: "${PORT} in a setParamsByID key, which becomes an alias",
    ls: "TestConfig_RuntimeMacrosIntroducedByRegularMacros/PORT expands in setParamsByID keys",
    yaml: `
      startPort: 6300
      models:
        model1:
          cmd: server --port \${PORT}
          filters:
            setParamsByID:
              "model1:\${PORT}":
                temperature: 0.5
    `,
    got: (c) => [c.models.model1.filters.setParamsByID, c.models.model1.aliases],
    want: [{ "model1:6300": { temperature: 0.5 } }, ["model1:6300"]],
  },
];

const portRejects: Reject[] = [
  { name: "startPort not a number", ls: "TestConfig_AutomaticPortAssignments/Invalid start port", yaml: `startPort: abcd`, path: "startPort", message: "must be a whole number" },
  { name: "startPort negative", ls: "TestConfig_AutomaticPortAssignments/start port must be greater than 1", yaml: `startPort: -99`, path: "startPort", message: "must be >= 1" },
  { name: "startPort zero", ls: "code: startPort < 1", yaml: `startPort: 0`, path: "startPort", message: "must be >= 1" },
  {
    name: "no ${PORT} in cmd and no proxy",
    ls: "TestConfig_AutomaticPortAssignments/Proxy value required if no ${PORT} in cmd",
    yaml: `models:\n  model1:\n    cmd: svr --port 111`,
    path: "models.model1.proxy",
    message: "no proxy is set and cmd does not use ${PORT}",
  },
  {
    name: "proxy uses ${PORT}, cmd does not",
    ls: "code: proxy uses ${PORT} but cmd does not",
    yaml: `models:\n  model1:\n    cmd: svr --port 111\n    proxy: "http://localhost:\${PORT}"`,
    path: "models.model1.proxy",
    message: "proxy uses ${PORT} but cmd does not",
  },
];

// ---------------------------------------------------------------- macros

const macros: Accept[] = [
  {
    name: "global macros, a model macro overriding one, ${PORT} inside a macro, cmdStop",
    ls: "TestConfig_MacroReplacement",
    yaml: `
      startPort: 9990
      macros:
        svr-path: "path/to/server"
        argOne: "--arg1"
        argTwo: "--arg2"
        autoPort: "--port \${PORT}"
        overriddenByModelMacro: failed
      models:
        model1:
          macros:
            overriddenByModelMacro: success
          cmd: |
            \${svr-path} \${argTwo}
            # the automatic \${PORT} is replaced
            \${autoPort}
            \${argOne}
            --arg3 three
            --overridden \${overriddenByModelMacro}
          cmdStop: |
            /path/to/stop.sh --port \${PORT} \${argTwo}
    `,
    got: (c) => [c.models.model1.cmd.join(" "), c.models.model1.cmdStop.join(" "), c.models.model1.port],
    want: ["path/to/server --arg2 --port 9990 --arg1 --arg3 three --overridden success", "/path/to/stop.sh --port 9990 --arg2", 9990],
  },
  {
    name: "macro-in-macro, one level",
    ls: "TestConfig_MacroInMacroBasic",
    yaml: `
      macros:
        A: "value-A"
        B: "prefix-\${A}-suffix"
      models:
        test: {cmd: "echo \${B}", proxy: "http://localhost:8080"}
    `,
    got: (c) => c.models.test.cmd,
    want: ["echo", "prefix-value-A-suffix"],
  },
  {
    name: "macro-in-macro, three levels (applied last to first)",
    ls: "TestConfig_MacroInMacroLIFOOrder",
    yaml: `
      macros:
        base: "/models"
        path: "\${base}/llama"
        full: "\${path}/model.gguf"
      models:
        test: {cmd: "load \${full}", proxy: "http://localhost:8080"}
    `,
    got: (c) => c.models.test.cmd,
    want: ["load", "/models/llama/model.gguf"],
  },
  {
    name: "${MODEL_ID} inside a global macro takes each model's ID",
    ls: "TestConfig_ModelIdInGlobalMacro + TestConfig_MacroModelId",
    yaml: `
      startPort: 9000
      macros:
        docker-llama: docker run --name \${MODEL_ID} -p \${PORT}:8080 docker_img
        docker-stop: docker stop \${MODEL_ID}
      models:
        model1:
          cmd: /path/to/server -p \${PORT} -hf \${MODEL_ID}
        model2:
          cmd: \${docker-llama}
          cmdStop: \${docker-stop}
        author/model:F16:
          cmd: /path/to/server -p \${PORT} -hf \${MODEL_ID}
          cmdStop: stop
    `,
    got: (c) => [
      c.models.model1.cmd.join(" "),
      c.models.model2.cmd.join(" "),
      c.models.model2.cmdStop.join(" "),
      c.models["author/model:F16"].cmd.join(" "),
    ],
    want: [
      "/path/to/server -p 9001 -hf model1",
      "docker run --name model2 -p 9002:8080 docker_img",
      "docker stop model2",
      "/path/to/server -p 9000 -hf author/model:F16",
    ],
  },
  {
    name: "a model macro overrides a global one even where another global macro uses it",
    ls: "TestConfig_ModelMacroOverridesGlobal",
    yaml: `
      macros:
        tag: "global"
        msg: "value-\${tag}"
      models:
        test:
          macros:
            tag: "model-level"
          cmd: echo \${msg}
          proxy: http://localhost:8080
    `,
    got: (c) => c.models.test.cmd,
    want: ["echo", "value-model-level"],
  },
  {
    name: "macros in name and description, ${MODEL_ID} too",
    ls: "TestConfig_MacroInNameAndDescription + TestConfig_ModelIDInNameAndDescription",
    yaml: `
      macros:
        VARIANT: "Q4_K_M"
        FAMILY: "llama"
      models:
        my-model:
          cmd: echo ok
          proxy: http://localhost:8080
          name: "\${FAMILY} \${VARIANT}"
          description: "A \${FAMILY} model in \${VARIANT} format, id \${MODEL_ID}"
    `,
    got: (c) => [c.models["my-model"].name, c.models["my-model"].description],
    want: ["llama Q4_K_M", "A llama model in Q4_K_M format, id my-model"],
  },
  {
    name: "a value that is exactly one macro keeps the macro's type; interpolation makes a string",
    ls: "TestConfig_TypedMacrosInMetadata",
    yaml: `
      startPort: 10000
      macros:
        PORT_NUM: 10001
        TEMP: 0.7
        ENABLED: true
        NAME: "llama model"
        CTX: 16384
      models:
        test-model:
          cmd: /path/to/server -p \${PORT}
          metadata:
            port: \${PORT_NUM}
            temperature: \${TEMP}
            enabled: \${ENABLED}
            model_name: \${NAME}
            context: "\${CTX}"
            note: "Running on port \${PORT_NUM} with temp \${TEMP} and context \${CTX}"
    `,
    got: (c) => c.models["test-model"].metadata,
    want: { port: 10001, temperature: 0.7, enabled: true, model_name: "llama model", context: 16384, note: "Running on port 10001 with temp 0.7 and context 16384" },
  },
  {
    name: "macros reach nested mappings and lists of metadata",
    ls: "TestConfig_NestedStructuresInMetadata",
    yaml: `
      startPort: 10000
      macros:
        TEMP: 0.7
      models:
        test-model:
          cmd: /path/to/server -p \${PORT}
          metadata:
            config:
              port: \${PORT}
              temperature: \${TEMP}
            tags: ["model:\${MODEL_ID}", "port:\${PORT}"]
            nested:
              deep:
                value: \${TEMP}
    `,
    got: (c) => c.models["test-model"].metadata,
    want: { config: { port: 10000, temperature: 0.7 }, tags: ["model:test-model", "port:10000"], nested: { deep: { value: 0.7 } } },
  },
  {
    name: "model macros take precedence over global ones, globals stay visible",
    ls: "TestConfig_ModelLevelMacroPrecedenceInMetadata",
    yaml: `
      macros:
        TEMP: 0.5
        GLOBAL_VAL: "global"
      models:
        test-model:
          cmd: /path/to/server -p \${PORT}
          macros:
            TEMP: 0.9
            LOCAL_VAL: "local"
          metadata:
            temperature: \${TEMP}
            global: \${GLOBAL_VAL}
            local: \${LOCAL_VAL}
    `,
    got: (c) => c.models["test-model"].metadata,
    want: { temperature: 0.9, global: "global", local: "local" },
  },
  {
    name: "string, int, float and bool macro values are all allowed",
    ls: "TestConfig_MacroTypeValidation (valid rows)",
    yaml: `
      macros:
        STR: "test"
        NUM: 42
        FLOAT: 3.14
        BOOL: true
      models:
        m:
          cmd: srv -p \${PORT} \${STR} \${NUM} \${FLOAT} \${BOOL}
    `,
    got: (c) => c.models.m.cmd,
    want: ["srv", "-p", "5800", "test", "42", "3.14", "true"],
  },
  {
    name: "a 63-character macro name is allowed",
    ls: "TestConfig_MacroNameValidation (boundary) + code: len(name) >= 64",
    yaml: `
      macros:
        ${"a".repeat(63)}: ok
      models:
        m:
          cmd: srv -p \${PORT} \${${"a".repeat(63)}}
    `,
    got: (c) => c.models.m.cmd[3],
    want: "ok",
  },
  {
    name: "macros apply across the whole file: top-level values, preload, model ttl (typed)",
    ls: "TestConfig_MacrosAcrossConfiguration",
    yaml: `
      macros:
        GLOBAL_TTL: 120
        MODEL_TTL: 45
        SESSION_HEADER: X-Macro-Session
        LOADING: true
        MODEL_NAME: model1
      globalTTL: "\${GLOBAL_TTL}"
      sendLoadingState: "\${LOADING}"
      ui:
        activity:
          session_id: ["\${SESSION_HEADER}"]
      hooks:
        on_startup:
          preload: ["\${MODEL_NAME}"]
      models:
        model1:
          macros:
            MODEL_TTL: 30
            CONNECT_TIMEOUT: 12
          cmd: server --port \${PORT}
          ttl: "\${MODEL_TTL}"
          timeouts:
            connect: "\${CONNECT_TIMEOUT}"
          env:
            - "MODEL=\${MODEL_ID}"
    `,
    got: (c) => [c.globalTTL, c.sendLoadingState, c.preload, c.models.model1.ttl, c.models.model1.env, c.models.model1.timeouts.connect],
    want: [120, true, ["model1"], 30, { MODEL: "model1" }, 12],
  },
  {
    name: "mapping keys are not macro targets (metadata keys stay literal)",
    ls: "TestConfig_MacroMapKeyScope/ordinary keys remain literal",
    yaml: `
      macros:
        KEY: expanded
      models:
        model1:
          cmd: server
          proxy: http://localhost:8080
          metadata:
            "\${KEY}": value
    `,
    got: (c) => c.models.model1.metadata,
    want: { "${KEY}": "value" },
  },
  {
    name: "${PID} in cmdStop survives, also when a macro brings it",
    ls: "TestConfig_RuntimeMacros/PID remains deferred in cmdStop + TestConfig_RuntimeMacrosIntroducedByRegularMacros",
    yaml: `
      macros:
        STOP_COMMAND: kill \${PID}
      models:
        model1:
          cmd: server
          cmdStop: "\${STOP_COMMAND}"
          proxy: http://localhost:8080
        model2:
          cmd: server
          cmdStop: kill -TERM \${PID}
          proxy: http://localhost:8081
    `,
    got: (c) => [c.models.model1.cmdStop, c.models.model2.cmdStop],
    want: [["kill", "${PID}"], ["kill", "-TERM", "${PID}"]],
  },
  {
    name: "a macro mentioned in a cmd comment line is not expanded into the command",
    ls: "TestConfig_MacroInCommentStrippedBeforeExpansion",
    yaml: `
      startPort: 9990
      macros:
        "latest-llama": >
          /user/llama.cpp/build/bin/llama-server
          --port \${PORT}
      models:
        "test-model":
          cmd: |
            # \${latest-llama} is a macro that is defined above
            \${latest-llama}
            --model /path/to/model.gguf
            -ngl 99
    `,
    got: (c) => c.models["test-model"].cmd,
    want: ["/user/llama.cpp/build/bin/llama-server", "--port", "9990", "--model", "/path/to/model.gguf", "-ngl", "99"],
  },
  {
    name: "YAML anchors held under an unknown top-level key, merged into models with their own macros",
    ls: "TestConfig_ModelMacrosExpandMaterializedYAMLAnchors",
    yaml: `
      defs:
        model: &model
          cmd: echo \${LOCAL}
          proxy: http://localhost:8080
          env: ["MODEL_VALUE=\${LOCAL}"]
          metadata:
            value: "\${LOCAL}"
      models:
        first:
          <<: *model
          macros:
            LOCAL: first-value
        second:
          <<: *model
          macros:
            LOCAL: second-value
    `,
    got: (c) => ["first", "second"].map((id) => [c.models[id].cmd, c.models[id].env, c.models[id].metadata]),
    want: [
      [["echo", "first-value"], { MODEL_VALUE: "first-value" }, { value: "first-value" }],
      [["echo", "second-value"], { MODEL_VALUE: "second-value" }, { value: "second-value" }],
    ],
    warns: ["defs"],
  },
  {
    name: "anchors and macros inside capabilities: each model's own macro value",
    ls: "TestConfig_ModelCapabilities_YAMLAnchorsWithMacros",
    yaml: `
      macros:
        default_ctx: 98304
      defs:
        llm-capabilities: &llm-capabilities
          in: [text]
          out: [text]
          tools: true
          context: \${default_ctx}
      models:
        model1:
          cmd: path/to/cmd --port \${PORT}
          macros:
            default_ctx: 4096
          capabilities:
            <<: [*llm-capabilities]
        model2:
          cmd: path/to/cmd --port \${PORT}
          macros:
            default_ctx: 8192
          capabilities:
            <<: [*llm-capabilities]
    `,
    got: (c) => [c.models.model1.capabilities, c.models.model2.capabilities.context],
    want: [{ in: ["text"], out: ["text"], tools: true, reranker: false, context: 4096 }, 8192],
    warns: ["defs"],
  },
];

const macroRejects: Reject[] = [
  { name: "global macro named PORT", ls: "TestConfig_MacroReservedNames", yaml: `macros:\n  PORT: "1111"`, path: "macros.PORT", message: "macro name PORT is reserved" },
  { name: "global macro named MODEL_ID", ls: "TestConfig_MacroReservedNames", yaml: `macros:\n  MODEL_ID: model1`, path: "macros.MODEL_ID", message: "macro name MODEL_ID is reserved" },
  { name: "global macro named PID", ls: "TestConfig_MacroReservedNames", yaml: `macros:\n  PID: 1234`, path: "macros.PID", message: "macro name PID is reserved" },
  { name: "model macro named PORT", ls: "TestConfig_MacroReservedNames", yaml: `models:\n  model1:\n    ${P}\n    macros:\n      PORT: 1111`, path: "models.model1.macros.PORT", message: "reserved" },
  { name: "model macro named MODEL_ID", ls: "TestConfig_MacroReservedNames", yaml: `models:\n  model1:\n    ${P}\n    macros:\n      MODEL_ID: x`, path: "models.model1.macros.MODEL_ID", message: "reserved" },
  { name: "model macro named PID", ls: "TestConfig_MacroNameValidation", yaml: `models:\n  model1:\n    ${P}\n    macros:\n      PID: 1234`, path: "models.model1.macros.PID", message: "reserved" },
  { name: "macro name with a dot", ls: "TestConfig_MacroNameValidation/invalid characters", yaml: `macros:\n  bad.name: value`, path: 'macros["bad.name"]', message: "may only contain letters, digits" },
  { name: "64-character macro name", ls: "TestConfig_MacroNameValidation/name exceeds maximum length", yaml: `macros:\n  ${"a".repeat(64)}: value`, path: `macros.${"a".repeat(64)}`, message: "longer than 63 characters" },
  { name: "macro value is a list", ls: "TestConfig_MacroTypeValidation/array macro", yaml: `macros:\n  ARR: [1, 2, 3]`, path: "macros.ARR", message: "must be a string, number or boolean, got a list" },
  { name: "macro value is a mapping", ls: "TestConfig_InvalidMacroType", yaml: `macros:\n  INVALID:\n    nested: value`, path: "macros.INVALID", message: "got a mapping" },
  { name: "macro value is empty", ls: "code: validateMacro default case (nil)", yaml: `macros:\n  EMPTY:`, path: "macros.EMPTY", message: "got nothing" },
  { name: "self-referencing macro", ls: "TestConfig_SelfReferenceDetection", yaml: `macros:\n  recursive: "value-\${recursive}"\nmodels:\n  test:\n    cmd: echo \${recursive}\n    proxy: http://localhost:8080`, path: "macros.recursive", message: "refers to itself" },
  { name: "macro uses an undefined macro", ls: "TestConfig_UndefinedMacroReference", yaml: `macros:\n  A: "value-\${UNDEFINED}"\nmodels:\n  test:\n    cmd: echo \${A}\n    proxy: http://localhost:8080`, path: "models.test.cmd", message: "unknown macro ${UNDEFINED}" },
  { name: "macro uses one declared after it", ls: "TestConfig_MacroForwardReferenceRejected", yaml: `macros:\n  FIRST: "value-\${SECOND}"\n  SECOND: later\nmodels:\n  model1:\n    cmd: echo \${FIRST}\n    proxy: http://localhost:8080`, path: "models.model1.cmd", message: "unknown macro ${SECOND}" },
  { name: "unknown macro in cmd", ls: "TestConfig_MacroErrorOnUnknownMacros/cmd", yaml: `models:\n  model1:\n    cmd: |\n      srv --port \${PORT}\n      \${unknownMacro}`, path: "models.model1.cmd", message: "unknown macro ${unknownMacro}" },
  { name: "unknown macro in cmdStop", ls: "TestConfig_MacroErrorOnUnknownMacros/cmdStop", yaml: `models:\n  model1:\n    ${P}\n    cmdStop: "kill \${unknownMacro}"`, path: "models.model1.cmdStop", message: "unknown macro ${unknownMacro}" },
  { name: "unknown macro in proxy", ls: "TestConfig_MacroErrorOnUnknownMacros/proxy", yaml: `models:\n  model1:\n    ${P}\n    proxy: "http://\${unknownMacro}:\${PORT}"`, path: "models.model1.proxy", message: "unknown macro ${unknownMacro}" },
  { name: "unknown macro in checkEndpoint", ls: "TestConfig_MacroErrorOnUnknownMacros/checkEndpoint", yaml: `models:\n  model1:\n    ${P}\n    checkEndpoint: "http://localhost:\${unknownMacro}/health"`, path: "models.model1.checkEndpoint", message: "unknown macro ${unknownMacro}" },
  { name: "unknown macro in filters.stripParams", ls: "TestConfig_MacroErrorOnUnknownMacros/filters.stripParams", yaml: `models:\n  model1:\n    ${P}\n    filters:\n      stripParams: "model,\${unknownMacro}"`, path: "models.model1.filters.stripParams", message: "unknown macro ${unknownMacro}" },
  { name: "unknown macro in metadata", ls: "TestConfig_UnknownMacroInMetadata", yaml: `models:\n  test-model:\n    ${P}\n    metadata:\n      value: \${UNKNOWN_MACRO}`, path: "models.test-model.metadata.value", message: "unknown macro ${UNKNOWN_MACRO}" },
  { name: "unknown macro in name", ls: "TestConfig_UnknownMacroInNameDescription", yaml: `models:\n  test:\n    cmd: echo ok\n    proxy: http://localhost:8080\n    name: "Model \${UNDEFINED}"`, path: "models.test.name", message: "unknown macro ${UNDEFINED}" },
  { name: "unknown macro in capabilities (an ignored key)", ls: "TestConfig_ModelCapabilities_MacroResolution/unknown macro in capabilities errors", yaml: `models:\n  model1:\n    ${P}\n    capabilities:\n      context: \${undefined_macro}`, path: "models.model1.capabilities.context", message: "unknown macro ${undefined_macro}" },
  {
    name: "a model macro is not visible in another model",
    ls: "TestConfig_ModelMacroDoesNotLeakToOtherModels",
    yaml: `models:\n  owner:\n    macros:\n      LOCAL: owner-value\n    cmd: echo \${LOCAL}\n    proxy: http://localhost:8080\n  other:\n    cmd: echo \${LOCAL}\n    proxy: http://localhost:8081`,
    path: "models.other.cmd",
    message: "unknown macro ${LOCAL}",
  },
  {
    name: "two setParamsByID keys that expand to the same name",
    ls: "TestConfig_MacroMapKeyScope/setParamsByID key collisions fail",
    yaml: `macros:\n  FIRST: shared\n  SECOND: shared\nmodels:\n  model1:\n    cmd: server\n    proxy: http://localhost:8080\n    filters:\n      setParamsByID:\n        "\${FIRST}":\n          temperature: 0.1\n        "\${SECOND}":\n          temperature: 0.2`,
    path: "models.model1.filters.setParamsByID.${SECOND}",
    message: 'resolves to "shared", the same as another key',
  },
  { name: "${PID} outside cmdStop", ls: "TestConfig_RuntimeMacros/PID is rejected outside cmdStop", yaml: `models:\n  model1:\n    cmd: server\n    proxy: http://localhost:8080\n    metadata:\n      pid: "\${PID}"`, path: "models.model1.metadata.pid", message: "${PID} is only available in cmdStop" },
  { name: "${MODEL_ID} outside a model", ls: "code: validateConfigMacroUses (top-level values)", yaml: `macros:\n  STOP: docker stop \${MODEL_ID}\napiKeys: ["\${STOP}"]`, path: "apiKeys[0]", message: "${MODEL_ID} is only available inside a model" },
];

// ---------------------------------------------------------------- ${env.X}

const envs: Accept[] = [
  { name: "env in cmd", ls: "TestConfig_EnvMacros/basic env substitution in cmd", env: { TEST_MODEL_PATH: "/opt/models" }, yaml: `models:\n  test:\n    cmd: "\${env.TEST_MODEL_PATH}/llama-server"\n    proxy: "http://localhost:8080"`, got: (c) => c.models.test.cmd, want: ["/opt/models/llama-server"] },
  {
    name: "env in cmd, proxy and checkEndpoint",
    ls: "TestConfig_EnvMacros/env substitution in multiple fields",
    env: { TEST_HOST: "myserver", TEST_PORT: "9999" },
    yaml: `models:\n  test:\n    cmd: "server --host \${env.TEST_HOST}"\n    proxy: "http://\${env.TEST_HOST}:\${env.TEST_PORT}"\n    checkEndpoint: "http://\${env.TEST_HOST}/health"`,
    got: (c) => [c.models.test.cmd, c.models.test.proxy, c.models.test.checkEndpoint],
    want: [["server", "--host", "myserver"], "http://myserver:9999", "/health"],
  },
  { name: "env in a global macro", ls: "TestConfig_EnvMacros/env in global macro value", env: { TEST_BASE_PATH: "/usr/local" }, yaml: `macros:\n  SERVER_PATH: "\${env.TEST_BASE_PATH}/bin/server"\nmodels:\n  test:\n    cmd: "\${SERVER_PATH} --port 8080"\n    proxy: "http://localhost:8080"`, got: (c) => c.models.test.cmd, want: ["/usr/local/bin/server", "--port", "8080"] },
  { name: "env in a model macro", ls: "TestConfig_EnvMacros/env in model-level macro value", env: { TEST_MODEL_DIR: "/models/llama" }, yaml: `models:\n  test:\n    macros:\n      MODEL_FILE: "\${env.TEST_MODEL_DIR}/model.gguf"\n    cmd: "server --model \${MODEL_FILE}"\n    proxy: "http://localhost:8080"`, got: (c) => c.models.test.cmd, want: ["server", "--model", "/models/llama/model.gguf"] },
  { name: "env in nested metadata", ls: "TestConfig_EnvMacros/env in metadata", env: { TEST_API_KEY: "secret123" }, yaml: `models:\n  test:\n    cmd: "server"\n    proxy: "http://localhost:8080"\n    metadata:\n      api_key: "\${env.TEST_API_KEY}"\n      nested:\n        key: "\${env.TEST_API_KEY}"`, got: (c) => c.models.test.metadata, want: { api_key: "secret123", nested: { key: "secret123" } } },
  { name: "env in filters.stripParams", ls: "TestConfig_EnvMacros/env in filters.stripParams", env: { TEST_STRIP_PARAMS: "temperature,top_p" }, yaml: `models:\n  test:\n    cmd: "server"\n    proxy: "http://localhost:8080"\n    filters:\n      stripParams: "\${env.TEST_STRIP_PARAMS}"`, got: (c) => c.models.test.filters.stripParams, want: ["temperature", "top_p"] },
  { name: "env in cmdStop next to ${PID}", ls: "TestConfig_EnvMacros/env in cmdStop", env: { TEST_KILL_SIGNAL: "SIGTERM" }, yaml: `models:\n  test:\n    cmd: "server --port \${PORT}"\n    cmdStop: "kill -\${env.TEST_KILL_SIGNAL} \${PID}"\n    proxy: "http://localhost:\${PORT}"`, got: (c) => c.models.test.cmdStop, want: ["kill", "-SIGTERM", "${PID}"] },
  { name: "env combined with macros and ${MODEL_ID}", ls: "TestConfig_EnvMacros/env combined with regular macros", env: { TEST_ROOT: "/data" }, yaml: `macros:\n  MODEL_BASE: "\${env.TEST_ROOT}/models"\nmodels:\n  test:\n    cmd: "server --model \${MODEL_BASE}/\${MODEL_ID}.gguf"\n    proxy: "http://localhost:8080"`, got: (c) => c.models.test.cmd, want: ["server", "--model", "/data/models/test.gguf"] },
  { name: "two env vars in one string", ls: "TestConfig_EnvMacros/multiple env vars in same string", env: { TEST_USER: "admin", TEST_PASS: "secret" }, yaml: `models:\n  test:\n    cmd: "server --auth \${env.TEST_USER}:\${env.TEST_PASS}"\n    proxy: "http://localhost:8080"`, got: (c) => c.models.test.cmd, want: ["server", "--auth", "admin:secret"] },
  { name: "double quotes in an env value survive a double-quoted YAML string", ls: "TestConfig_EnvMacros/env value with quotes is escaped for YAML", env: { TEST_QUOTED: 'value with "quotes"' }, yaml: `models:\n  test:\n    cmd: "server --arg '\${env.TEST_QUOTED}'"\n    proxy: "http://localhost:8080"`, got: (c) => c.models.test.cmd, want: ["server", "--arg", 'value with "quotes"'] },
  { name: "backslashes in an env value survive a double-quoted YAML string", ls: "TestConfig_EnvMacros/env value with backslash is escaped for YAML", env: { TEST_BACKSLASH: "path\\to\\file" }, yaml: `models:\n  test:\n    cmd: "server --path '\${env.TEST_BACKSLASH}'"\n    proxy: "http://localhost:8080"`, got: (c) => c.models.test.cmd, want: ["server", "--path", "path\\to\\file"] },
  { name: "escaping shows in an unquoted value (as in llama-swap)", ls: "code: sanitizeEnvValueForYAML", env: { Q: 'a"b' }, yaml: `apiKeys: [\${env.Q}]`, got: (c) => c.apiKeys, want: ['a\\"b'] },
  { name: "env in apiKeys, quoted", ls: "TestConfig_APIKeys_EnvMacros", env: { TEST_API_KEY_1: "key-one", TEST_API_KEY_2: "key-two" }, yaml: `apiKeys: ["\${env.TEST_API_KEY_1}", "\${env.TEST_API_KEY_2}", "static-key"]`, got: (c) => c.apiKeys, want: ["key-one", "key-two", "static-key"] },
  { name: "env in a flow list, unquoted (substituted before YAML parsing)", ls: "code: parseSource comment on [${env.API_KEY}]", env: { K: "sk-1" }, yaml: `apiKeys: [\${env.K}, other]`, got: (c) => c.apiKeys, want: ["sk-1", "other"] },
  { name: "env in comment lines is ignored", ls: "TestConfig_PeerApiKey_EnvMacros/env macros in comments are ignored", yaml: `# apiKeys:\n#   - "\${env.COMMENTED_OUT_KEY_1}"\nmodels:\n  test:\n    cmd: "server"\n    proxy: "http://localhost:8080"`, got: (c) => c.apiKeys, want: [] },
  { name: "env in a comment next to an active one", ls: "TestConfig_PeerApiKey_EnvMacros/env macros in comments ignored while active ones resolve", env: { TEST_ACTIVE_KEY: "active-key-value" }, yaml: `# apiKeys: ["\${env.COMMENTED_OUT_KEY}"]\napiKeys: ["\${env.TEST_ACTIVE_KEY}"]`, got: (c) => c.apiKeys, want: ["active-key-value"] },
  { name: "env in an indented comment", ls: "TestConfig_PeerApiKey_EnvMacros/env macros in indented comments are ignored", yaml: `models:\n  test:\n    cmd: |\n      server\n      --port 8080\n    proxy: "http://localhost:8080"\n    # metadata:\n    #   api_key: "\${env.SOME_UNSET_KEY}"`, got: (c) => c.models.test.cmd, want: ["server", "--port", "8080"] },
  { name: "env in an inline comment", ls: "TestConfig_PeerApiKey_EnvMacros/env macros in inline comments are ignored", env: { TEST_INLINE_KEY: "real-value" }, yaml: `apiKeys: ["\${env.TEST_INLINE_KEY}"] # TODO: add \${env.FUTURE_KEY} later`, got: (c) => c.apiKeys, want: ["real-value"] },
  {
    name: "env and global macros in peers",
    ls: "TestConfig_PeerApiKey_EnvMacros (apiKey, stripParams, setParams)",
    env: { TEST_PEER_API_KEY: "sk-peer-secret-123", TEST_RETENTION_POLICY: "deny" },
    yaml: `
      macros:
        MAX_TOKENS: 4096
        STRIP_LIST: "temperature, top_p"
      peers:
        openrouter:
          proxy: https://openrouter.ai/api
          apiKey: "\${env.TEST_PEER_API_KEY}"
          models:
            - llama-3.1-8b
          filters:
            stripParams: "\${STRIP_LIST}"
            setParams:
              max_tokens: "\${MAX_TOKENS}"
              data_collection: "\${env.TEST_RETENTION_POLICY}"
    `,
    got: (c) => [c.peers.openrouter.apiKey, c.peers.openrouter.filters],
    want: ["sk-peer-secret-123", { stripParams: ["temperature", "top_p"], setParams: { max_tokens: 4096, data_collection: "deny" }, setParamsByID: {} }],
  },
];

const envRejects: Reject[] = [
  { name: "unset env in cmd", ls: "TestConfig_EnvMacros/missing env var returns error", yaml: `models:\n  test:\n    cmd: "\${env.UNDEFINED_VAR_12345}/server"\n    proxy: "http://localhost:8080"`, path: "models.test.cmd", message: "environment variable UNDEFINED_VAR_12345 is not set" },
  { name: "unset env in a global macro", ls: "TestConfig_EnvMacros/missing env var in global macro", yaml: `macros:\n  PATH: "\${env.UNDEFINED_GLOBAL_VAR}"`, path: "macros.PATH", message: "environment variable UNDEFINED_GLOBAL_VAR is not set" },
  { name: "unset env in a model macro", ls: "TestConfig_EnvMacros/missing env var in model macro", yaml: `models:\n  test:\n    macros:\n      MY_PATH: "\${env.UNDEFINED_MODEL_VAR}"\n    cmd: server\n    proxy: http://localhost:8080`, path: "models.test.macros.MY_PATH", message: "UNDEFINED_MODEL_VAR is not set" },
  { name: "unset env in metadata", ls: "TestConfig_EnvMacros/missing env var in metadata", yaml: `models:\n  test:\n    cmd: server\n    proxy: http://localhost:8080\n    metadata:\n      key: "\${env.UNDEFINED_META_VAR}"`, path: "models.test.metadata.key", message: "UNDEFINED_META_VAR is not set" },
  { name: "unset env in apiKeys", ls: "TestConfig_APIKeys_EnvMacros/missing env var in apiKeys", yaml: `apiKeys: ["\${env.NONEXISTENT_API_KEY}"]`, path: "apiKeys[0]", message: "NONEXISTENT_API_KEY is not set" },
  { name: "unset env in a peer apiKey", ls: "TestConfig_PeerApiKey_EnvMacros/missing env var in peer apiKey", yaml: `peers:\n  openrouter:\n    proxy: https://openrouter.ai/api\n    apiKey: "\${env.NONEXISTENT_PEER_KEY}"\n    models: [llama-3.1-8b]`, path: "peers.openrouter.apiKey", message: "NONEXISTENT_PEER_KEY is not set" },
  { name: "env value with a newline", ls: "TestConfig_EnvMacros/env value with newline is rejected", env: { TEST_MULTILINE: "line1\nline2" }, yaml: `models:\n  test:\n    cmd: "server --config \${env.TEST_MULTILINE}"\n    proxy: "http://localhost:8080"`, path: "models.test.cmd", message: "TEST_MULTILINE contains a newline" },
  { name: "env value with a carriage return", ls: "TestConfig_EnvMacros/env value with carriage return is rejected", env: { TEST_CR: "line1\rline2" }, yaml: `models:\n  test:\n    cmd: "server --config \${env.TEST_CR}"\n    proxy: "http://localhost:8080"`, path: "models.test.cmd", message: "TEST_CR contains a newline" },
  { name: "env that makes an empty API key", ls: "TestConfig_APIKeys_EnvMacros/env substitution results in empty key", env: { TEST_EMPTY_KEY: "" }, yaml: `apiKeys: ["\${env.TEST_EMPTY_KEY}"]`, path: "apiKeys[0]", message: "API key is empty" },
];

// ---------------------------------------------------------------- defaults and clamps

const ONE = `models:\n  model1:\n    cmd: server --port \${PORT}\n`;

const defaults: Accept[] = [
  {
    name: "defaults of a one-model config",
    ls: "TestConfig_DefaultValuesPosix",
    yaml: `models:\n  model1:\n    cmd: path/to/cmd --port \${PORT}`,
    got: (c) => {
      const m = c.models.model1;
      return {
        top: [c.healthCheckTimeout, c.startPort, c.logLevel, c.logToStdout, c.unloadTimeout, c.globalTTL, c.sendLoadingState, c.includeAliasesInList],
        groups: c.routing.groups,
        router: [c.routing.router, c.routing.scheduler],
        model: [m.cmd.join(" "), m.cmdStop, m.proxy, m.checkEndpoint, m.aliases, m.env, m.ttl, m.unloadTimeout, m.unlisted, m.useModelName, m.filters.stripParams],
      };
    },
    want: {
      top: [120, 5800, "info", "proxy", 10, 0, false, false],
      groups: [{ id: "(default)", members: ["model1"], swap: true, exclusive: true, persistent: false }],
      router: ["group", "fifo"],
      model: ["path/to/cmd --port 5800", [], "http://localhost:5800", "/health", [], {}, 0, 10, false, "", []],
    },
  },
  {
    name: "a full legacy config: groups, (default) group, aliases, preload, env, per-model copy of healthCheckTimeout",
    ls: "TestConfig_LoadPosix",
    yaml: `
      macros:
        svr-path: "path/to/server"
      hooks:
        on_startup:
          preload: ["model1", "model2"]
      models:
        model1:
          cmd: path/to/cmd --arg1 one
          proxy: "http://localhost:8080"
          name: "Model 1"
          description: "This is model 1"
          aliases:
            - "m1"
            - "model-one"
          env:
            - "VAR1=value1"
            - "VAR2=value2"
          checkEndpoint: "/health"
        model2:
          cmd: \${svr-path} --arg1 one
          proxy: "http://localhost:8081"
          aliases:
            - "m2"
          checkEndpoint: "/"
        model3:
          cmd: path/to/cmd --arg1 one
          proxy: "http://localhost:8081"
          aliases:
            - "mthree"
          checkEndpoint: "/"
        model4:
          cmd: path/to/cmd --arg1 one
          proxy: "http://localhost:8082"
          checkEndpoint: "/"
      healthCheckTimeout: 15
      profiles:
        test:
          description: Test profile
          pins:
            fast: model1
            disabled: ~
      groups:
        group1:
          swap: true
          exclusive: false
          members: ["model2"]
        forever:
          exclusive: false
          persistent: true
          members:
            - "model4"
    `,
    got: (c) => ({
      groups: c.routing.groups,
      aliases: c.aliases,
      preload: c.preload,
      m1: [c.models.model1.name, c.models.model1.description, c.models.model1.env, c.models.model1.aliases],
      m2: [c.models.model2.cmd, c.models.model2.checkEndpoint],
      hct: Object.values(c.models).map((m) => m.healthCheckTimeout),
      ports: Object.values(c.models).map((m) => m.port),
      profiles: c.profiles,
    }),
    want: {
      groups: [
        { id: "group1", members: ["model2"], swap: true, exclusive: false, persistent: false },
        { id: "forever", members: ["model4"], swap: true, exclusive: false, persistent: true },
        { id: "(default)", members: ["model1", "model3"], swap: true, exclusive: true, persistent: false },
      ],
      aliases: { m1: "model1", "model-one": "model1", m2: "model2", mthree: "model3" },
      preload: ["model1", "model2"],
      m1: ["Model 1", "This is model 1", { VAR1: "value1", VAR2: "value2" }, ["m1", "model-one"]],
      m2: [["path/to/server", "--arg1", "one"], "/"],
      hct: [15, 15, 15, 15],
      ports: [null, null, null, null],
      profiles: { test: { description: "Test profile", pins: { fast: "model1", disabled: "" } } },
    },
  },
  { name: "healthCheckTimeout below 15 becomes 15", ls: "code: HealthCheckTimeout < 15", yaml: `healthCheckTimeout: 5\n${ONE}`, got: (c) => [c.healthCheckTimeout, c.models.model1.healthCheckTimeout], want: [15, 15], warns: ["healthCheckTimeout"] },
  { name: "globalTTL is the default ttl of models", ls: "TestConfig_GlobalTTL/globalTTL sets default for models", yaml: `globalTTL: 300\n${ONE}`, got: (c) => [c.globalTTL, c.models.model1.ttl], want: [300, 300] },
  { name: "ttl 0 overrides globalTTL", ls: "TestConfig_GlobalTTL/model ttl=0 overrides globalTTL", yaml: `globalTTL: 300\n${ONE}    ttl: 0\n`, got: (c) => c.models.model1.ttl, want: 0 },
  { name: "explicit ttl overrides globalTTL", ls: "TestConfig_GlobalTTL/model explicit ttl overrides globalTTL", yaml: `globalTTL: 300\n${ONE}    ttl: 600\n`, got: (c) => c.models.model1.ttl, want: 600 },
  { name: "ttl -1 means globalTTL", ls: "code: MODEL_CONFIG_DEFAULT_TTL = -1", yaml: `globalTTL: 300\n${ONE}    ttl: -1\n`, got: (c) => c.models.model1.ttl, want: 300 },
  { name: "globalTTL defaults to 0", ls: "TestConfig_GlobalTTL/globalTTL defaults to 0", yaml: ONE, got: (c) => [c.globalTTL, c.models.model1.ttl], want: [0, 0] },
  { name: "unloadTimeout defaults to 10", ls: "TestConfig_UnloadTimeout/defaults to 10 seconds", yaml: ONE, got: (c) => [c.unloadTimeout, c.models.model1.unloadTimeout], want: [10, 10] },
  { name: "global unloadTimeout is the model default", ls: "TestConfig_UnloadTimeout/global unloadTimeout sets model default", yaml: `unloadTimeout: 25\n${ONE}`, got: (c) => [c.unloadTimeout, c.models.model1.unloadTimeout], want: [25, 25] },
  {
    name: "model unloadTimeout overrides the global one",
    ls: "TestConfig_UnloadTimeout/model unloadTimeout overrides global",
    yaml: `unloadTimeout: 25\n${ONE}    unloadTimeout: 45\n  model2:\n    cmd: server --port \${PORT}\n`,
    got: (c) => [c.unloadTimeout, c.models.model1.unloadTimeout, c.models.model2.unloadTimeout],
    want: [25, 45, 25],
  },
  { name: "model unloadTimeout 0 means the global one", ls: "TestConfig_UnloadTimeout/model unloadTimeout=0 uses global", yaml: `unloadTimeout: 25\n${ONE}    unloadTimeout: 0\n`, got: (c) => c.models.model1.unloadTimeout, want: 25 },
  { name: "global unloadTimeout 0 means 10", ls: "code: UnloadTimeout == 0 → DEFAULT_UNLOAD_TIMEOUT", yaml: `unloadTimeout: 0\n${ONE}`, got: (c) => [c.unloadTimeout, c.models.model1.unloadTimeout], want: [10, 10] },
  {
    name: "sendLoadingState: global default, per-model override",
    ls: "TestConfig_ModelSendLoadingState",
    yaml: `sendLoadingState: true\n${ONE}    sendLoadingState: false\n  model2:\n    cmd: path/to/cmd --port \${PORT}\n`,
    got: (c) => [c.sendLoadingState, c.models.model1.sendLoadingState, c.models.model2.sendLoadingState],
    want: [true, false, true],
  },
  ...(["proxy", "upstream", "both", "none"] as const).map(
    (v): Accept => ({ name: `logToStdout ${v}`, ls: "code: logToStdout switch", yaml: `logToStdout: ${v}`, got: (c) => c.logToStdout, want: v }),
  ),
  ...[
    { limit: undefined, want: 50 },
    { limit: 10, want: 50 },
    { limit: 50, want: 50 },
    { limit: 60, want: 60 },
  ].map(
    ({ limit, want }): Accept => ({
      name: `comfyui_auto concurrencyLimit ${limit ?? "unset"} → ${want}`,
      ls: "TestConfig_ComfyUIOverrides",
      yaml: `models:\n  comfyui_auto:\n    cmd: comfyui --port \${PORT}\n${limit === undefined ? "" : `    concurrencyLimit: ${limit}\n`}    compat:\n      ignoreWebsockets: false\n  regular:\n    cmd: regular --port \${PORT}\n    concurrencyLimit: 10\n`,
      got: (c) => [c.models.comfyui_auto.concurrencyLimit, c.models.regular.concurrencyLimit, c.models.comfyui_auto.compat.ignoreWebsockets, c.models.regular.compat.ignoreWebsockets],
      want: [want, 10, true, false],
    }),
  ),
  {
    name: "compat.ignoreWebsockets: as written, false by default",
    ls: "TestConfig_ModelCompat",
    yaml: `models:\n  enabled:\n    cmd: enabled --port \${PORT}\n    compat:\n      ignoreWebsockets: true\n  default:\n    cmd: default --port \${PORT}\n`,
    got: (c) => [c.models.enabled.compat.ignoreWebsockets, c.models.default.compat.ignoreWebsockets],
    want: [true, false],
  },
  {
    name: "concurrencyLimit 0 or negative means 10",
    ls: "code: fifo scheduler uses ConcurrencyLimit only when > 0",
    yaml: `models:\n  a: {cmd: "s -p \${PORT}", concurrencyLimit: 0}\n  b: {cmd: "s -p \${PORT}", concurrencyLimit: -1}\n  c: {cmd: "s -p \${PORT}", concurrencyLimit: 3}\n`,
    got: (c) => Object.values(c.models).map((m) => m.concurrencyLimit),
    want: [10, 10, 3],
    warns: ["models.b.concurrencyLimit"],
  },
  {
    name: "stripParams: macros expanded, trimmed, deduped, sorted, never model; legacy strip_params",
    ls: "TestConfig_ModelFilters",
    yaml: `
      macros:
        default_strip: "temperature, top_p"
      models:
        model1:
          cmd: path/to/cmd --port \${PORT}
          filters:
            stripParams: "model, top_k, top_k, temperature, \${default_strip}, , ,"
        legacy:
          cmd: path/to/cmd --port \${PORT}
          filters:
            strip_params: "model, top_k, top_k, temperature, \${default_strip}, , ,"
    `,
    got: (c) => [c.models.model1.filters.stripParams, c.models.legacy.filters.stripParams],
    want: [
      ["temperature", "top_k", "top_p"],
      ["temperature", "top_k", "top_p"],
    ],
  },
  {
    name: "setParams kept as written (lists too), model never set",
    ls: "TestConfig_ModelFiltersWithSetParams + code: ProtectedParams",
    yaml: `
      models:
        model1:
          cmd: path/to/cmd --port \${PORT}
          filters:
            stripParams: "top_k"
            setParams:
              model: other
              temperature: 0.7
              top_p: 0.9
              stop:
                - "<|end|>"
                - "<|stop|>"
    `,
    got: (c) => c.models.model1.filters,
    want: { stripParams: ["top_k"], setParams: { temperature: 0.7, top_p: 0.9, stop: ["<|end|>", "<|stop|>"] }, setParamsByID: {} },
    warns: ["models.model1.filters.setParams.model"],
  },
  {
    name: "a multi-line cmd split like a POSIX shell",
    ls: "TestConfig_SanitizeCommand",
    yaml: `
      models:
        m:
          proxy: http://localhost:8080
          cmd: |
            python model1.py \\
              -a "double quotes" \\
              --arg2 'single quotes'
              -s
              # comment 1
              --arg3 123 \\

                # comment 2
              --arg4 '"string in string"'


              # this will get stripped out as well as the white space above
              -c "'single quoted'"
    `,
    got: (c) => c.models.m.cmd,
    want: ["python", "model1.py", "-a", "double quotes", "--arg2", "single quotes", "-s", "--arg3", "123", "--arg4", '"string in string"', "-c", "'single quoted'"],
  },
  {
    name: "per-model and per-peer timeouts as written (compat beside them)",
    ls: "TestConfig_TimeoutsParsing + TestConfig_PeerTimeoutsParsing + TestConfig_ModelCompat",
    yaml: `
      models:
        model1:
          cmd: test-server --port \${PORT}
          timeouts: {connect: 45, responseHeader: 120}
          compat: {ignoreWebsockets: true}
      peers:
        peer1:
          proxy: http://example.com
          models: [model1]
          timeouts: {connect: 45, responseHeader: 120}
    `,
    got: (c) => [c.models.model1.timeouts, c.peers.peer1.timeouts],
    want: [
      { ...MODEL_TIMEOUTS, connect: 45, responseHeader: 120 },
      { ...PEER_TIMEOUTS, connect: 45, responseHeader: 120 },
    ],
  },
  {
    name: "timeouts default to Go's transport values; peers wait 60s for headers",
    ls: "TestConfig_TimeoutsDefaults + TestConfig_PeerTimeoutsDefaults",
    yaml: `models:\n  model1:\n    ${P}\npeers:\n  peer1:\n    proxy: http://example.com\n    models: [model1]\n`,
    got: (c) => [c.models.model1.timeouts, c.peers.peer1.timeouts],
    want: [MODEL_TIMEOUTS, PEER_TIMEOUTS],
  },
  {
    name: "timeouts of 0 disable the limit",
    ls: "TestConfig_TimeoutsZeroAllowed",
    yaml: `models:\n  model1:\n    ${P}\n    timeouts:\n      connect: 0\n      responseHeader: 0\n`,
    got: (c) => [c.models.model1.timeouts.connect, c.models.model1.timeouts.responseHeader],
    want: [0, 0],
  },
  {
    name: "negative timeouts mean no limit, with a warning",
    ls: "code: Go's ResponseHeaderTimeout acts only when > 0",
    yaml: `models:\n  model1:\n    ${P}\n    timeouts:\n      responseHeader: -1\n`,
    got: (c) => c.models.model1.timeouts.responseHeader,
    want: 0,
    warns: ["models.model1.timeouts.responseHeader"],
  },
  {
    name: "timeouts switchyard cannot honour are kept, with a warning each",
    ls: "code: TimeoutsConfig keepalive, tlsHandshake, expectContinue, idleConn",
    yaml: `models:\n  model1:\n    ${P}\n    timeouts: {keepalive: 5, tlsHandshake: 5, expectContinue: 5, idleConn: 5}\n`,
    got: (c) => c.models.model1.timeouts,
    want: { connect: 30, responseHeader: 0, keepalive: 5, tlsHandshake: 5, expectContinue: 5, idleConn: 5 },
    warns: ["models.model1.timeouts.keepalive", "models.model1.timeouts.tlsHandshake", "models.model1.timeouts.expectContinue", "models.model1.timeouts.idleConn"],
  },
  {
    name: "capabilities: all fields",
    ls: "TestConfig_ModelCapabilities/all fields",
    yaml: `models:\n  model1:\n    ${P}\n    capabilities:\n      in: [text, audio, image]\n      out: [text, audio, image]\n      tools: true\n      context: 32000\n`,
    got: (c) => c.models.model1.capabilities,
    want: { in: ["text", "audio", "image"], out: ["text", "audio", "image"], tools: true, reranker: false, context: 32000 },
  },
  {
    name: "capabilities: partial fields",
    ls: "TestConfig_ModelCapabilities/partial fields",
    yaml: `models:\n  model1:\n    ${P}\n    capabilities:\n      tools: true\n      context: 8192\n`,
    got: (c) => c.models.model1.capabilities,
    want: { ...NO_CAPS, tools: true, context: 8192 },
  },
  ...(
    [
      ["not set", ""],
      ["tools false is empty", "    capabilities:\n      tools: false\n"],
      ["reranker false is empty", "    capabilities:\n      reranker: false\n"],
    ] as const
  ).map(([name, block]) => ({
    name: `capabilities: ${name}`,
    ls: `TestConfig_ModelCapabilities/${name}`,
    yaml: `models:\n  model1:\n    ${P}\n${block}`,
    got: (c: Config) => c.models.model1.capabilities,
    want: NO_CAPS,
  })),
  {
    name: "capabilities: reranker true",
    ls: "TestConfig_ModelCapabilities/reranker true is not empty",
    yaml: `models:\n  model1:\n    ${P}\n    capabilities:\n      reranker: true\n`,
    got: (c) => c.models.model1.capabilities.reranker,
    want: true,
  },
  {
    name: "capabilities from macros: global, model override, modality, tools, reranker, quoted direct macros keep types",
    ls: "TestConfig_ModelCapabilities_MacroResolution",
    yaml: `
      macros:
        default_ctx: 98304
        img_modality: image
        has_tools: true
        is_reranker: true
      models:
        a:
          cmd: path/to/cmd --port \${PORT}
          capabilities:
            in: [text, "\${img_modality}"]
            out: [text]
            tools: \${has_tools}
            context: \${default_ctx}
        b:
          cmd: path/to/cmd --port \${PORT}
          macros:
            default_ctx: 65536
          capabilities:
            reranker: \${is_reranker}
            context: "\${default_ctx}"
            tools: "\${has_tools}"
    `,
    got: (c) => [c.models.a.capabilities, c.models.b.capabilities],
    want: [
      { in: ["text", "image"], out: ["text"], tools: true, reranker: false, context: 98304 },
      { in: [], out: [], tools: true, reranker: true, context: 65536 },
    ],
  },
  {
    name: "upstream.ignorePaths: llama-swap's default when absent, when the section is empty, and when the list is empty",
    ls: "TestConfig_UpstreamIgnorePaths_DefaultWhenAbsent + _DefaultWhenSectionEmpty",
    yaml: `upstream: {}\n${ONE}`,
    got: (c) => c.upstreamIgnorePaths,
    want: [".*\\.(js|json|css|png|gif|jpg|jpeg|ico|txt)$"],
  },
  {
    name: "upstream.ignorePaths as written",
    ls: "TestConfig_UpstreamIgnorePaths_Compiles",
    yaml: `upstream:\n  ignorePaths:\n    - ".*\\\\.(js|json|css|png|gif|jpg|jpeg|txt)$"\n    - "^/static/.*"\n${ONE}`,
    got: (c) => c.upstreamIgnorePaths,
    want: [".*\\.(js|json|css|png|gif|jpg|jpeg|txt)$", "^/static/.*"],
  },
  {
    name: "logTimeFormat: a layout name in any case; empty means no timestamp; absent is switchyard's ISO stamp",
    ls: "code: llama-swap.go logTimeFormats (strings.ToLower(strings.TrimSpace(...)))",
    yaml: `logTimeFormat: " RFC3339Nano "\n${ONE}`,
    got: (c) => c.logTimeFormat,
    want: "rfc3339nano",
  },
  { name: "logTimeFormat empty", ls: "config.example.yaml: default (disabled) \"\"", yaml: `logTimeFormat: ""\n${ONE}`, got: (c) => c.logTimeFormat, want: "" },
  { name: "logTimeFormat absent", ls: "switchyard's default", yaml: ONE, got: (c) => c.logTimeFormat, want: null },
  {
    name: "logTimeFormat that is not a layout name: no timestamp (as llama-swap), with a warning",
    ls: "code: an unrecognised value yields no timestamp prefix",
    yaml: `logTimeFormat: "2006-01-02"\n${ONE}`,
    got: (c) => c.logTimeFormat,
    want: "",
    warns: ["logTimeFormat"],
  },
  {
    name: "checkEndpoint: a path, a bare word, an absolute URL (its path and query: the request goes through the proxy), none",
    ls: "code: process health check sends checkEndpoint through the reverse proxy",
    yaml: `models:\n  a: {cmd: "s -p \${PORT}", checkEndpoint: /v1/models}\n  b: {cmd: "s -p \${PORT}", checkEndpoint: health}\n  c: {cmd: "s -p \${PORT}", checkEndpoint: "http://localhost:9/ready?full=1"}\n  d: {cmd: "s -p \${PORT}", checkEndpoint: none}\n`,
    got: (c) => Object.values(c.models).map((m) => m.checkEndpoint),
    want: ["/v1/models", "/health", "/ready?full=1", "none"],
  },
];

const defaultRejects: Reject[] = [
  { name: "negative globalTTL", ls: "TestConfig_GlobalTTL/negative globalTTL rejected", yaml: `globalTTL: -1\n${ONE}`, path: "globalTTL", message: "must be >= 0" },
  { name: "ttl below -1", ls: "code: invalid TTL value", yaml: `${ONE}    ttl: -2\n`, path: "models.model1.ttl", message: "must be >= -1" },
  { name: "negative global unloadTimeout", ls: "TestConfig_UnloadTimeout/negative global unloadTimeout rejected", yaml: `unloadTimeout: -1\n${ONE}`, path: "unloadTimeout", message: "must be >= 0" },
  { name: "negative model unloadTimeout", ls: "TestConfig_UnloadTimeout/negative model unloadTimeout rejected", yaml: `${ONE}    unloadTimeout: -1\n`, path: "models.model1.unloadTimeout", message: "must be >= 0" },
  { name: "unknown logToStdout", ls: "code: logToStdout must be one of", yaml: `logToStdout: stderr`, path: "logToStdout", message: "must be one of proxy, upstream, both, none" },
  { name: "ttl as a quoted number", ls: "code: yaml.v3 will not decode !!str into int", yaml: `${ONE}    ttl: "60"\n`, path: "models.model1.ttl", message: "must be a whole number" },
];

// ---------------------------------------------------------------- aliases and API keys

const aliases: Accept[] = [
  {
    name: "setParamsByID keys other than the model ID become aliases",
    ls: "TestConfig_SetParamsByIDAutoAlias",
    yaml: `
      models:
        model1:
          cmd: path/to/cmd --port \${PORT}
          filters:
            setParamsByID:
              "\${MODEL_ID}":
                reasoning_effort: medium
              "\${MODEL_ID}:high":
                reasoning_effort: high
              "\${MODEL_ID}:low":
                reasoning_effort: low
    `,
    got: (c) => [c.aliases, c.models.model1.aliases, Object.keys(c.models.model1.filters.setParamsByID)],
    want: [{ "model1:high": "model1", "model1:low": "model1" }, ["model1:high", "model1:low"], ["model1", "model1:high", "model1:low"]],
  },
  {
    name: "a setParamsByID key that is already the model's own alias is not added twice",
    ls: "code: already registered as explicit alias for this model",
    yaml: `models:\n  model1:\n    ${P}\n    aliases: [fast]\n    filters:\n      setParamsByID:\n        fast: {temperature: 0.1}`,
    got: (c) => [c.aliases, c.models.model1.aliases],
    want: [{ fast: "model1" }, ["fast"]],
  },
  { name: "API keys as written", ls: "TestConfig_APIKeys_EnvMacros/static", yaml: `apiKeys: ["sk-hunter2", "sk-a+b/c=="]`, got: (c) => c.apiKeys, want: ["sk-hunter2", "sk-a+b/c=="] },
  {
    name: "preload: aliases resolved to IDs, blanks and unknown names dropped",
    ls: "code: Clean up hooks preload",
    yaml: `${ONE}    aliases: [one]\n  model2:\n    cmd: server --port \${PORT}\nhooks:\n  on_startup:\n    preload: [" one ", "", model2, nope]\n`,
    got: (c) => c.preload,
    want: ["model1", "model2"],
    warns: ["hooks.on_startup.preload[3]"],
  },
];

const aliasRejects: Reject[] = [
  {
    name: "the same alias on two models",
    ls: "TestConfig_ModelAliasesAreUnique",
    yaml: `models:\n  model1:\n    cmd: path/to/cmd --arg1 one\n    proxy: "http://localhost:8080"\n    aliases:\n      - m1\n  model2:\n    cmd: path/to/cmd --arg1 one\n    proxy: "http://localhost:8081"\n    aliases:\n      - m1\n      - m2`,
    path: "models.model2.aliases[0]",
    message: 'duplicate alias "m1": already an alias of model model1',
  },
  { name: "the same alias twice on one model", ls: "code: duplicate alias %s found in model", yaml: `${ONE}    aliases: [x, x]\n`, path: "models.model1.aliases[1]", message: 'alias "x" is listed twice' },
  { name: "setParamsByID key is another model's ID", ls: "TestConfig_SetParamsByIDAutoAliasConflictWithModelID", yaml: `models:\n  model1:\n    ${P}\n    filters:\n      setParamsByID:\n        model2:\n          reasoning_effort: high\n  model2:\n    ${P}`, path: "models.model1.filters.setParamsByID.model2", message: "is the ID of model model2" },
  {
    name: "setParamsByID key shared by two models",
    ls: "TestConfig_SetParamsByIDAutoAliasConflictWithOtherModel",
    yaml: `models:\n  model1:\n    ${P}\n    filters:\n      setParamsByID:\n        shared-alias: {reasoning_effort: high}\n  model2:\n    ${P}\n    filters:\n      setParamsByID:\n        shared-alias: {reasoning_effort: low}`,
    path: "models.model2.filters.setParamsByID.shared-alias",
    message: 'duplicate alias "shared-alias"',
  },
  { name: "empty API key", ls: "TestConfig_APIKeys_Invalid/empty string", yaml: `apiKeys: [""]`, path: "apiKeys[0]", message: "API key is empty" },
  { name: "blank API key", ls: "TestConfig_APIKeys_Invalid/blank spaces only", yaml: `apiKeys: ["   "]`, path: "apiKeys[0]", message: "contains whitespace" },
  { name: "API key with a leading space", ls: "TestConfig_APIKeys_Invalid/contains leading space", yaml: `apiKeys: [" key123"]`, path: "apiKeys[0]", message: "contains whitespace" },
  { name: "API key with a trailing space", ls: "TestConfig_APIKeys_Invalid/contains trailing space", yaml: `apiKeys: ["key123 "]`, path: "apiKeys[0]", message: "contains whitespace" },
  { name: "API key with a space inside", ls: "TestConfig_APIKeys_Invalid/contains middle space", yaml: `apiKeys: ["key 123"]`, path: "apiKeys[0]", message: "contains whitespace" },
  { name: "bad second API key is named by index", ls: "TestConfig_APIKeys_Invalid/space in second key", yaml: `apiKeys: ["valid-key", "bad key"]`, path: "apiKeys[1]", message: "contains whitespace" },
  { name: "empty API key between valid ones", ls: "TestConfig_APIKeys_Invalid/empty in list with valid keys", yaml: `apiKeys: ["valid-key", "", "another-key"]`, path: "apiKeys[1]", message: "API key is empty" },
];

// ---------------------------------------------------------------- groups and routing

const TWO = `models:\n  gemma:\n    cmd: echo gemma\n    proxy: http://localhost:8080\n  qwen:\n    cmd: echo qwen\n    proxy: http://localhost:8081\n`;

const routing: Accept[] = [
  { name: "legacy top-level groups", ls: "TestConfig_Routing_LegacyTopLevelGroups", yaml: `${TWO}groups:\n  g1:\n    members: [gemma, qwen]\n`, got: (c) => [c.routing.router, c.routing.scheduler, c.routing.groups.map((g) => [g.id, g.members])], want: ["group", "fifo", [["g1", ["gemma", "qwen"]], ["(default)", []]]] },
  { name: "legacy top-level matrix", ls: "TestConfig_Routing_LegacyTopLevelMatrix", yaml: `${TWO}matrix:\n  vars:\n    g: gemma\n    q: qwen\n  sets:\n    combo: "g | q"\n`, got: (c) => [c.routing.router, { ...c.routing.matrix, compiled: expandMatrix(c.routing.matrix!.compiled) }, c.routing.groups], want: ["matrix", { vars: { g: "gemma", q: "qwen" }, evictCosts: {}, sets: [{ name: "combo", dsl: "g | q" }], compiled: [{ set: "combo", dsl: "g | q", models: ["gemma"] }, { set: "combo", dsl: "g | q", models: ["qwen"] }], costById: {} }, []] },
  { name: "routing.router.use matrix", ls: "TestConfig_Routing_RouterUseMatrix", yaml: `${TWO}routing:\n  router:\n    use: matrix\n    settings:\n      matrix:\n        vars: {g: gemma, q: qwen}\n        sets:\n          combo: "g | q"\n`, got: (c) => [c.routing.router, c.routing.matrix?.sets], want: ["matrix", [{ name: "combo", dsl: "g | q" }]] },
  { name: "routing.router.use group", ls: "TestConfig_Routing_RouterUseGroup", yaml: `${TWO}routing:\n  router:\n    use: group\n    settings:\n      groups:\n        g1:\n          members: [gemma, qwen]\n`, got: (c) => [c.routing.router, c.routing.groups.map((g) => g.id)], want: ["group", ["g1", "(default)"]] },
  { name: "no routing: group router, fifo scheduler", ls: "TestConfig_Routing_DefaultsToGroup", yaml: TWO, got: (c) => [c.routing.router, c.routing.scheduler], want: ["group", "fifo"] },
  { name: "empty use strings mean the defaults", ls: "code: case \"group\", \"\" / Scheduler.Use == \"\"", yaml: `${TWO}routing:\n  router:\n    use: ""\n  scheduler:\n    use: ""\n`, got: (c) => [c.routing.router, c.routing.scheduler], want: ["group", "fifo"] },
  {
    name: "settings with both groups and matrix: use picks groups, the matrix is ignored",
    ls: "TestConfig_Routing_RouterSettingsBothGroupsAndMatrix",
    yaml: `${TWO}routing:\n  router:\n    use: group\n    settings:\n      groups:\n        g1:\n          members: [gemma, qwen]\n      matrix:\n        sets:\n          s: "gemma"\n`,
    got: (c) => [c.routing.router, c.routing.matrix, c.routing.groups.map((g) => g.id)],
    want: ["group", null, ["g1", "(default)"]],
    warns: ["routing.router.settings.matrix"],
  },
  {
    name: "an unused matrix under settings is not validated (only its types)",
    ls: "code: ValidateMatrix runs only for the active matrix",
    yaml: `${TWO}routing:\n  router:\n    use: group\n    settings:\n      matrix:\n        vars: {a_b: nowhere}\n        evict_costs: {x: 0}\n`,
    got: (c) => [c.routing.router, c.routing.matrix],
    want: ["group", null],
    warns: ["routing.router.settings.matrix"],
  },
  { name: "fifo priority for a known model", ls: "TestConfig_Routing_FifoPriorityKnownModel", yaml: `${TWO}routing:\n  scheduler:\n    settings:\n      fifo:\n        priority:\n          gemma: 5\n`, got: (c) => c.routing.fifo.priority, want: { gemma: 5 } },
  { name: "fifo priority through an alias", ls: "code: RealModelName accepts aliases", yaml: `${TWO}    aliases: [q]\nrouting:\n  scheduler:\n    settings:\n      fifo:\n        priority:\n          q: 2\n`, got: (c) => c.routing.fifo.priority, want: { qwen: 2 } },
  { name: "a group without members is allowed (members default to none)", ls: "code: GroupConfig defaults Members []", yaml: `${TWO}groups:\n  empty:\n    swap: false\n`, got: (c) => c.routing.groups, want: [{ id: "empty", members: [], swap: false, exclusive: true, persistent: false }, { id: "(default)", members: ["gemma", "qwen"], swap: true, exclusive: true, persistent: false }] },
];

const routingRejects: Reject[] = [
  {
    name: "a model in two groups",
    ls: "TestConfig_GroupMemberIsUnique",
    yaml: `models:\n  model1:\n    cmd: path/to/cmd --arg1 one\n    proxy: "http://localhost:8080"\n  model2:\n    cmd: path/to/cmd --arg1 one\n    proxy: "http://localhost:8081"\n    checkEndpoint: "/"\nhealthCheckTimeout: 15\ngroups:\n  group1:\n    swap: true\n    exclusive: false\n    members: ["model2"]\n  group2:\n    swap: true\n    exclusive: false\n    members: ["model2"]`,
    path: "groups.group2.members[0]",
    message: "model model2 is already a member of group group1",
  },
  { name: "a model twice in one group", ls: "code: duplicate model member", yaml: `${TWO}groups:\n  g:\n    members: [gemma, gemma]\n`, path: "groups.g.members[1]", message: 'duplicate member "gemma"' },
  { name: "a group member that is not a model", ls: "code: router NewGroup: no model config", yaml: `${TWO}groups:\n  g:\n    members: [gemma, llama]\n`, path: "groups.g.members[1]", message: '"llama" is not a model ID' },
  { name: "legacy groups plus routing.router", ls: "TestConfig_Routing_LegacyAndRoutingConflict", yaml: `${TWO}groups:\n  g1:\n    members: [gemma, qwen]\nrouting:\n  router:\n    use: group\n`, path: "groups", message: "cannot be combined with routing.router" },
  { name: "use matrix without settings.matrix", ls: "TestConfig_Routing_RouterUseMatrixWithoutSettings", yaml: `${TWO}routing:\n  router:\n    use: matrix\n`, path: "routing.router.use", message: "routing.router.settings.matrix is not set" },
  { name: "unknown router", ls: "TestConfig_Routing_UnknownRouter", yaml: `${TWO}routing:\n  router:\n    use: bogus\n`, path: "routing.router.use", message: "must be one of group, matrix" },
  { name: "unknown scheduler", ls: "code: unknown scheduler", yaml: `${TWO}routing:\n  scheduler:\n    use: lifo\n`, path: "routing.scheduler.use", message: "must be one of fifo" },
  { name: "fifo priority for an unknown model", ls: "TestConfig_Routing_FifoPriorityUnknownModel", yaml: `${TWO}routing:\n  scheduler:\n    settings:\n      fifo:\n        priority:\n          nope: 5\n`, path: "routing.scheduler.settings.fifo.priority.nope", message: 'unknown model "nope"' },
  { name: "legacy groups and matrix together", ls: "TestValidateMatrix_ConfigXOR", yaml: `models:\n  model1:\n    cmd: echo model1\n    proxy: http://localhost:8080\ngroups:\n  group1:\n    members:\n      - model1\nmatrix:\n  sets:\n    s: "model1"`, path: "matrix", message: "cannot use both groups and matrix" },
];

// ---------------------------------------------------------------- matrix

const FIVE = ["gemma", "qwen", "mistral", "voxtral", "llama70B", "reranker"].map((id, i) => `  ${id}:\n    cmd: echo ${id}\n    proxy: http://localhost:${8080 + i}\n`).join("");

/** Expanded combinations of the loaded matrix, as `set:sorted+models`. */
function combos(c: Config): string[] {
  return expandMatrix(c.routing.matrix!.compiled).map((e) => `${e.set}:${[...e.models].sort().join("+")}`);
}

/** 4 GPUs × 10 models a slot (10^4 combinations in one set), plus a set of 10^6 over the same models: llama-swap has no expansion limit. */
const SLOTS = Array.from({ length: 4 }, (_, g) => Array.from({ length: 10 }, (_, k) => `g${g}m${k}`));
const SLOT_MODELS = SLOTS.flat().map((id, i) => `  ${id}:\n    cmd: echo ${id}\n    proxy: http://localhost:${9000 + i}\n`).join("");
const BIG_SET = SLOTS.map((s) => `(${s.join(" | ")})`).join(" & ");

const matrix: Accept[] = [
  {
    name: "no expansion limit: a set of 10^4 combinations and one of 10^6",
    ls: "TestProgram_NoExpansionLimit (internal/matrix/dsl_test.go)",
    yaml: `models:\n${SLOT_MODELS}matrix:\n  sets:\n    gpus: "${BIG_SET}"\n    more: "${BIG_SET} & (${SLOTS.flat().slice(0, 10).join(" | ")}) & (${SLOTS.flat().slice(10, 20).join(" | ")})"\n`,
    got: (c) => c.routing.matrix!.compiled.map((s) => [s.set, s.models.length]),
    want: [["gpus", 40], ["more", 40]],
  },
  {
    name: "vars, evict_costs and sets as written",
    ls: "TestValidateMatrix_Basic",
    yaml: `models:\n${FIVE}matrix:\n  vars: {g: gemma, q: qwen, m: mistral, v: voxtral, L: llama70B}\n  evict_costs: {L: 30, v: 50}\n  sets:\n    standard: "(g | q | m) & v"\n    full: "L"\n`,
    got: (c) => [c.routing.matrix?.evictCosts, combos(c)],
    want: [{ L: 30, v: 50 }, ["standard:gemma+voxtral", "standard:qwen+voxtral", "standard:mistral+voxtral", "full:llama70B"]],
  },
  {
    name: "+set references",
    ls: "TestValidateMatrix_WithRef",
    yaml: `models:\n${FIVE}matrix:\n  vars: {g: gemma, q: qwen, m: mistral, v: voxtral, e: reranker}\n  sets:\n    llms: "g | q | m"\n    with_tts: "+llms & v"\n    mega: "+with_tts & e"\n`,
    got: (c) => combos(c).filter((s) => s.startsWith("mega:")),
    want: ["mega:gemma+reranker+voxtral", "mega:qwen+reranker+voxtral", "mega:mistral+reranker+voxtral"],
  },
  { name: "model IDs directly, without vars", ls: "TestValidateMatrix_DirectAndMixedModelNames/direct", yaml: `models:\n${FIVE}matrix:\n  sets:\n    combo: "gemma & voxtral"\n`, got: combos, want: ["combo:gemma+voxtral"] },
  { name: "vars and model IDs mixed", ls: "TestValidateMatrix_DirectAndMixedModelNames/mixed", yaml: `models:\n${FIVE}matrix:\n  vars: {g: gemma}\n  sets:\n    base: "g | qwen"\n    combo: "+base & voxtral"\n`, got: combos, want: ["base:gemma", "base:qwen", "combo:gemma+voxtral", "combo:qwen+voxtral"] },
  { name: "a var and its model in one set count once", ls: "TestValidateMatrix_DirectAndMixedModelNames/deduplicates", yaml: `models:\n${FIVE}matrix:\n  vars: {g: gemma}\n  sets:\n    combo: "g & gemma"\n`, got: combos, want: ["combo:gemma"] },
  { name: "a var shadows a model ID of the same name", ls: "TestValidateMatrix_DirectAndMixedModelNames/vars take precedence", yaml: `models:\n${FIVE}matrix:\n  vars: {qwen: gemma}\n  sets:\n    combo: "qwen"\n`, got: combos, want: ["combo:gemma"] },
  ...["abcdefghijklmnopqrstuvwxyzABCDEF", "model-var", "model.var"].map(
    (key): Accept => ({ name: `var key ${key} is valid`, ls: "TestValidateMatrix_VarKeyValidation (valid)", yaml: `models:\n${FIVE}matrix:\n  vars: {"${key}": gemma}\n  sets:\n    s: "${key}"\n`, got: combos, want: ["s:gemma"] }),
  ),
  { name: "a model ID in evict_costs", ls: "TestValidateMatrix_EvictCostInvalid/direct model name in evict_costs", yaml: `models:\n${FIVE}matrix:\n  evict_costs: {gemma: 5}\n  sets:\n    s: "gemma"\n`, got: (c) => c.routing.matrix?.evictCosts, want: { gemma: 5 } },
];

const M5 = `models:\n${FIVE}matrix:\n`;
const matrixRejects: Reject[] = [
  { name: "var key of 33 characters", ls: "TestValidateMatrix_VarKeyValidation/too long", yaml: `${M5}  vars: {abcdefghijklmnopqrstuvwxyzABCDEFG: gemma}\n  sets: {s: gemma}\n`, path: "matrix.vars.abcdefghijklmnopqrstuvwxyzABCDEFG", message: /1-32|must match/ },
  { name: "var key with an underscore", ls: "TestValidateMatrix_VarKeyValidation/has underscore", yaml: `${M5}  vars: {a_b: gemma}\n  sets: {s: gemma}\n`, path: "matrix.vars.a_b", message: /letters, digits|must match/ },
  { name: "empty var key", ls: "TestValidateMatrix_VarKeyValidation/empty", yaml: `${M5}  vars: {"": gemma}\n  sets: {s: gemma}\n`, path: 'matrix.vars[""]', message: /1-32|must match/ },
  { name: "var names an unknown model", ls: "TestValidateMatrix_AliasReferencesUnknownModel", yaml: `${M5}  vars: {x: nonexistent}\n  sets: {s: x}\n`, path: "matrix.vars.x", message: '"nonexistent" is not a model ID' },
  { name: "evict cost 0", ls: "TestValidateMatrix_EvictCostInvalid/zero cost", yaml: `${M5}  vars: {g: gemma}\n  evict_costs: {g: 0}\n  sets: {s: g}\n`, path: "matrix.evict_costs.g", message: "must be >= 1" },
  { name: "negative evict cost", ls: "TestValidateMatrix_EvictCostInvalid/negative cost", yaml: `${M5}  vars: {g: gemma}\n  evict_costs: {g: -1}\n  sets: {s: g}\n`, path: "matrix.evict_costs.g", message: "must be >= 1" },
  { name: "evict cost for an unknown name", ls: "TestValidateMatrix_EvictCostInvalid/unknown var or model", yaml: `${M5}  vars: {g: gemma}\n  evict_costs: {unknown: 5}\n  sets: {s: g}\n`, path: "matrix.evict_costs.unknown", message: 'unknown var or model "unknown"' },
  { name: "sets referring to each other", ls: "TestValidateMatrix_CycleDetection", yaml: `${M5}  vars: {g: gemma}\n  sets:\n    a: "+b"\n    b: "+a"\n`, path: "matrix.sets.a", message: "circular reference" },
  { name: "reference to an undefined set", ls: "TestValidateMatrix_UndefinedRefTarget", yaml: `${M5}  vars: {g: gemma}\n  sets:\n    a: "+nonexistent"\n`, path: "matrix.sets.a", message: 'undefined set "nonexistent"' },
  { name: "no sets", ls: "TestValidateMatrix_NoSets", yaml: `${M5}  sets: {}\n`, path: "matrix.sets", message: "at least one set" },
  { name: "sets missing", ls: "TestValidateMatrix_NoSets", yaml: `${M5}  vars: {g: gemma}\n`, path: "matrix.sets", message: "at least one set" },
  { name: "unknown name in a set", ls: "TestValidateMatrix_UnknownMapIDInDSL", yaml: `${M5}  vars: {g: gemma}\n  sets:\n    s: "g & nonexistent"\n`, path: "matrix.sets.s", message: 'unknown var or model "nonexistent"' },
  { name: "DSL: dangling operator", ls: "matrix dsl: unexpected token", yaml: `${M5}  sets:\n    s: "gemma &"\n`, path: "matrix.sets.s", message: "unexpected end of expression" },
  { name: "DSL: unclosed parenthesis", ls: "matrix dsl: missing closing parenthesis", yaml: `${M5}  sets:\n    s: "(gemma | qwen"\n`, path: "matrix.sets.s", message: "missing ')'" },
  { name: "DSL: unexpected character", ls: "matrix dsl: unexpected character", yaml: `${M5}  sets:\n    s: "gemma $ qwen"\n`, path: "matrix.sets.s", message: 'unexpected character "$"' },
  { name: "DSL: + without a set name", ls: "matrix dsl: expected set name after '+'", yaml: `${M5}  sets:\n    s: "gemma & +"\n`, path: "matrix.sets.s", message: "expected a set name after '+'" },
  { name: "DSL: empty expression", ls: "matrix dsl: empty DSL expression", yaml: `${M5}  sets:\n    s: "  "\n`, path: "matrix.sets.s", message: "empty expression" },
];

// ---------------------------------------------------------------- peers

const peers: Accept[] = [
  {
    name: "peers with and without apiKey, filters with nested setParams",
    ls: "TestPeerConfig_UnmarshalYAML (valid) + TestPeerConfig_WithFilters + TestPeerConfig_WithBothFilters",
    yaml: `
      peers:
        local:
          proxy: http://192.168.1.23
          models:
            - model_a
            - model_b
        openrouter:
          proxy: https://openrouter.ai/api
          apiKey: sk-test
          models:
            - meta-llama/llama-3.1-8b-instruct
          filters:
            stripParams: "temperature, top_p"
            setParams:
              max_tokens: 1000
              provider:
                data_collection: deny
    `,
    got: (c) => c.peers,
    want: {
      local: { id: "local", proxy: "http://192.168.1.23", apiKey: "", models: ["model_a", "model_b"], filters: { stripParams: [], setParams: {}, setParamsByID: {} }, timeouts: PEER_TIMEOUTS },
      openrouter: {
        id: "openrouter",
        proxy: "https://openrouter.ai/api",
        apiKey: "sk-test",
        models: ["meta-llama/llama-3.1-8b-instruct"],
        filters: { stripParams: ["temperature", "top_p"], setParams: { max_tokens: 1000, provider: { data_collection: "deny" } }, setParamsByID: {} },
        timeouts: PEER_TIMEOUTS,
      },
    },
  },
  { name: "a peer listing a model twice", ls: "code: ResolvePeerModel skips duplicates", yaml: `peers:\n  p:\n    proxy: http://h\n    models: [a, a, b]`, got: (c) => c.peers.p.models, want: ["a", "b"] },
  { name: "a peer model name equal to a local model ID (bare names are fine)", ls: "TestConfig_ResolvePeerModel (shared)", yaml: `models:\n  shared:\n    ${P}\npeers:\n  p1:\n    proxy: http://h\n    models: [shared, org/model]`, got: (c) => c.peers.p1.models, want: ["shared", "org/model"] },
];

const peerRejects: Reject[] = [
  { name: "peer without proxy", ls: "TestPeerConfig_UnmarshalYAML/missing proxy", yaml: `peers:\n  p:\n    models:\n      - model_a`, path: "peers.p.proxy", message: "is required" },
  { name: "peer with an empty proxy", ls: "TestPeerConfig_UnmarshalYAML/empty proxy", yaml: `peers:\n  p:\n    proxy: ""\n    models:\n      - model_a`, path: "peers.p.proxy", message: "is required" },
  { name: "peer with an invalid proxy URL", ls: "TestPeerConfig_UnmarshalYAML/invalid proxy URL", yaml: `peers:\n  p:\n    proxy: "://invalid"\n    models:\n      - model_a`, path: "peers.p.proxy", message: "invalid proxy URL" },
  { name: "peer without models", ls: "TestPeerConfig_UnmarshalYAML/missing models", yaml: `peers:\n  p:\n    proxy: http://localhost:8080`, path: "peers.p.models", message: "is required" },
  { name: "peer with an empty models list", ls: "TestPeerConfig_UnmarshalYAML/empty models", yaml: `peers:\n  p:\n    proxy: http://localhost:8080\n    models: []`, path: "peers.p.models", message: "at least 1 entry" },
  { name: "unknown macro in a peer apiKey", ls: "TestConfig_PeerApiKey_EnvMacros/unknown macro in peer apiKey fails", yaml: `peers:\n  openrouter:\n    proxy: https://openrouter.ai/api\n    apiKey: "\${UNDEFINED_MACRO}"\n    models: [llama-3.1-8b]`, path: "peers.openrouter.apiKey", message: "unknown macro ${UNDEFINED_MACRO}" },
  { name: "unknown macro in peer setParams", ls: "TestConfig_PeerApiKey_EnvMacros/unknown macro in peer filters.setParams fails", yaml: `peers:\n  openrouter:\n    proxy: https://openrouter.ai/api\n    models: [llama-3.1-8b]\n    filters:\n      setParams:\n        value: "\${UNDEFINED_MACRO}"`, path: "peers.openrouter.filters.setParams.value", message: "unknown macro ${UNDEFINED_MACRO}" },
  {
    name: "a setParamsByID alias equal to a peer's full model name",
    ls: "TestConfig_LoadPeerNamespaceConflict",
    yaml: `models:\n  local:\n    cmd: echo \${PORT}\n    filters:\n      setParamsByID:\n        peer/model:\n          temperature: 0.5\npeers:\n  peer:\n    proxy: http://example.com\n    models: [model]`,
    path: "peers.peer.models[0]",
    message: 'peer model name "peer/model" is also an alias of model local',
  },
  { name: "two peers giving the same full name", ls: "TestConfig_ValidatePeerNamespace/ambiguous constructed name", yaml: `peers:\n  a:\n    proxy: http://h\n    models: [b/c]\n  a/b:\n    proxy: http://h\n    models: [c]`, path: "peers.a/b.models[0]", message: 'peer model name "a/b/c" is ambiguous' },
  { name: "a local model ID equal to a peer's full name", ls: "TestConfig_ValidatePeerNamespace/local model", yaml: `models:\n  peer/model:\n    ${P}\npeers:\n  peer:\n    proxy: http://h\n    models: [model]`, path: "peers.peer.models[0]", message: "is also a local model ID" },
  { name: "a local alias equal to a peer's full name", ls: "TestConfig_ValidatePeerNamespace/local alias", yaml: `models:\n  local:\n    ${P}\n    aliases: [peer/model]\npeers:\n  peer:\n    proxy: http://h\n    models: [model]`, path: "peers.peer.models[0]", message: "is also an alias of model local" },
];

// ---------------------------------------------------------------- keys switchyard ignores (llama-swap's rules still apply)

const SEL_BASE = `models:\n  a:\n    cmd: echo \${PORT}\n    aliases: [alias-a]\n    filters:\n      setParamsByID:\n        variant:\n          temperature: 0\n  b:\n    cmd: echo \${PORT}\npeers:\n  remote:\n    proxy: http://example.com\n    models: [remote-model]\n`;

const ignoredKeys: Accept[] = [
  { name: "performance.every 30s, with an unknown sub-key", ls: "TestPerformanceConfig_CustomValues", yaml: `performance:\n  enable: true\n  every: 30s\n${ONE}`, got: (c) => c.performance, want: { enabled: true, everyMs: 30_000 }, warns: ["performance.enable"] },
  { name: "performance.every 1m30s", ls: "TestPerformanceConfig_ComplexDurations", yaml: `performance:\n  every: 1m30s\n${ONE}`, got: (c) => c.performance, want: { enabled: true, everyMs: 90_000 } },
  { name: "performance.disabled", ls: "TestPerformanceConfig_Disabled", yaml: `performance:\n  disabled: true\n${ONE}`, got: (c) => c.performance, want: { enabled: false, everyMs: 5000 } },
  { name: "performance.every 0s means the default", ls: "code: Performance.Every == 0 → 5s", yaml: `performance:\n  every: 0s\n${ONE}`, got: (c) => c.performance, want: { enabled: true, everyMs: 5000 } },
  { name: "no performance section: enabled, every 5s", ls: "TestPerformanceConfig_Defaults", yaml: ONE, got: (c) => c.performance, want: { enabled: true, everyMs: 5000 } },
  { name: "performance.every 10s alone", ls: "TestPerformanceConfig_PartialValues", yaml: `performance:\n  every: 10s\n${ONE}`, got: (c) => c.performance, want: { enabled: true, everyMs: 10_000 } },
  {
    name: "profiles pinning models, aliases, setParamsByID aliases, peer models (bare and full), disabled pins",
    ls: "TestConfig_Profiles_LoadAndResolve",
    yaml: `
      models:
        local:
          cmd: echo \${PORT}
          aliases: [local-fast]
          filters:
            setParamsByID:
              local-thinking:
                thinking: true
      peers:
        remote:
          proxy: http://example.com
          models: [peer-model]
      profiles:
        coding:
          description: Coding profile
          pins:
            direct: local
            alias: local-fast
            variant: local-thinking
            peer: peer-model
            peer-qualified: remote/peer-model
            disabled-empty: ""
            disabled-null: ~
            local: peer-model
    `,
    got: (c) => [c.aliases, c.profiles.coding],
    want: [
      { "local-fast": "local", "local-thinking": "local" },
      {
        description: "Coding profile",
        pins: { direct: "local", alias: "local-fast", variant: "local-thinking", peer: "peer-model", "peer-qualified": "remote/peer-model", "disabled-empty": "", "disabled-null": "", local: "peer-model" },
      },
    ],
  },
  {
    name: "selectors with their fields (warm and spillover over a swap: false group)",
    ls: "TestConfig_Selectors_LoadDefaultsAndFields + TestConfig_Selectors_SpilloverCoexistence/group",
    yaml: `
      models:
        a:
          cmd: echo \${PORT}
        b:
          cmd: echo \${PORT}
      groups:
        balanced:
          swap: false
          members: [a, b]
      selectors:
        coding:
          strategy: warm
          targets: [a, b]
          name: Coding Model
          description: Best available coding model
          unlisted: true
          metadata:
            family: coding
        workers:
          strategy: spillover
          targets: [a, b]
          settings:
            spillover: 4
    `,
    got: (c) => [c.routing.groups[0], c.selectors],
    want: [
      { id: "balanced", members: ["a", "b"], swap: false, exclusive: true, persistent: false },
      {
        coding: { strategy: "warm", targets: ["a", "b"], spillover: 1, name: "Coding Model", description: "Best available coding model", unlisted: true, metadata: { family: "coding" } },
        workers: { strategy: "spillover", targets: ["a", "b"], spillover: 4, name: "", description: "", unlisted: false, metadata: {} },
      },
    ],
  },
  { name: "a selector over a peer model's full name, named like the bare peer model", ls: "TestConfig_Selectors_PeerModelFQN", yaml: `peers:\n  remote:\n    proxy: http://example.com\n    models: [remote-model]\nselectors:\n  remote-model:\n    strategy: spillover\n    targets: [remote/remote-model]\n`, got: (c) => c.selectors["remote-model"].targets, want: ["remote/remote-model"] },
  { name: "spillover over one expanded matrix set", ls: "TestConfig_Selectors_SpilloverCoexistence/matrix common set", yaml: `models:\n  a:\n    cmd: echo \${PORT}\n  b:\n    cmd: echo \${PORT}\nmatrix:\n  vars:\n    A: a\n    B: b\n  sets:\n    pool: "A & B"\nselectors:\n  public:\n    strategy: spillover\n    targets: [a, b]\n`, got: (c) => c.selectors.public.spillover, want: 1, warns: [] },
  { name: "spillover over two peer models", ls: "TestConfig_Selectors_SpilloverCoexistence/remote targets", yaml: `peers:\n  remote:\n    proxy: http://example.com\n    models: [a, b]\nselectors:\n  public:\n    strategy: spillover\n    targets: [remote/a, remote/b]\n`, got: (c) => c.selectors.public.targets, want: ["remote/a", "remote/b"] },
  { name: "spillover over a local and a peer model", ls: "TestConfig_Selectors_SpilloverCoexistence/mixed local and remote targets", yaml: `models:\n  local:\n    cmd: echo \${PORT}\npeers:\n  remote:\n    proxy: http://example.com\n    models: [remote-model]\nselectors:\n  public:\n    strategy: spillover\n    targets: [local, remote/remote-model]\n`, got: (c) => c.selectors.public.targets, want: ["local", "remote/remote-model"] },
  { name: "a profile pin may target a selector", ls: "TestConfig_Selectors_ProfileTargetsSelector", yaml: `models:\n  a:\n    cmd: echo \${PORT}\nselectors:\n  public:\n    strategy: pin\n    targets: [a]\nprofiles:\n  coding:\n    pins:\n      llm-code: public\n`, got: (c) => c.profiles.coding.pins["llm-code"], want: "public" },
  {
    name: "capabilities, ui, upstream, store and the scalar settings with llama-swap's types",
    ls: "TestConfig_ModelCapabilities + ui_test + upstream_test + TestConfig_StorePath",
    yaml: `
      logTimeFormat: "2006-01-02"
      metricsMaxInMemory: 500
      captureBuffer: 15
      logRequests: true
      ui:
        activity:
          session_id: ["X-Session-ID"]
      upstream:
        ignorePaths: ['.*\.(js|css)$']
      store:
        path: ./activity.db
      models:
        m:
          cmd: srv --port \${PORT}
          capabilities:
            in: [text, audio, image]
            out: [text]
            tools: true
            reranker: false
            context: 32000
    `,
    got: (c) => [c.models.m.port, c.store],
    want: [5800, { path: "./activity.db", maxRecords: 100000, maxAgeDays: 30 }],
    warns: ["logTimeFormat", "logRequests"],
  },
];

const ignoredRejects: Reject[] = [
  { name: "performance.every below 5s", ls: "TestPerformanceConfig_InvalidEvery", yaml: `performance:\n  every: 4s\n${ONE}`, path: "performance.every", message: "must be at least 5s" },
  { name: "performance.every not a duration", ls: "code: yaml.v3 time.ParseDuration", yaml: `performance:\n  every: often\n${ONE}`, path: "performance.every", message: /must match|not a duration/ },
  { name: "empty store.path", ls: "TestConfig_StorePath/empty path rejected", yaml: `store:\n  path: ""`, path: "store.path", message: "must not be empty" },
  { name: "profile in the removed list syntax", ls: "TestConfig_Profiles_Validation/legacy list", yaml: `${ONE}profiles:\n  old: [model1]\n`, path: "profiles.old", message: "must be a mapping" },
  { name: "profile without pins", ls: "TestConfig_Profiles_Validation/empty pins", yaml: `${ONE}profiles:\n  empty:\n    pins: {}\n`, path: "profiles.empty.pins", message: "at least one entry" },
  { name: "profile pin to an unknown model", ls: "TestConfig_Profiles_Validation/unknown target", yaml: `${ONE}profiles:\n  bad:\n    pins:\n      public: missing\n`, path: "profiles.bad.pins.public", message: '"missing" is not a model' },
  { name: "profile pins do not chain", ls: "TestConfig_Profiles_DoNotChain", yaml: `${ONE}profiles:\n  test:\n    pins:\n      first: model1\n      second: first\n`, path: "profiles.test.pins.second", message: '"first" is not a model' },
  { name: "blank selector name", ls: "TestConfig_Selectors_Validation/empty selector id", yaml: `${SEL_BASE}selectors:\n  " ":\n    strategy: pin\n    targets: [a]\n`, path: 'selectors[" "]', message: "selector name is empty" },
  { name: "selector without strategy", ls: "TestConfig_Selectors_Validation/missing strategy", yaml: `${SEL_BASE}selectors:\n  public:\n    targets: [a]\n`, path: "selectors.public.strategy", message: "is required" },
  { name: "selector with an unknown strategy", ls: "TestConfig_Selectors_Validation/unknown strategy", yaml: `${SEL_BASE}selectors:\n  public:\n    strategy: random\n    targets: [a]\n`, path: "selectors.public.strategy", message: 'unknown strategy "random"' },
  { name: "selector without targets", ls: "TestConfig_Selectors_Validation/missing targets", yaml: `${SEL_BASE}selectors:\n  public:\n    strategy: pin\n`, path: "selectors.public.targets", message: "at least one target" },
  { name: "selector target unknown", ls: "TestConfig_Selectors_Validation/unknown target", yaml: `${SEL_BASE}selectors:\n  public:\n    strategy: pin\n    targets: [missing]\n`, path: "selectors.public.targets[0]", message: '"missing" is not a model' },
  { name: "selector targeting a selector", ls: "TestConfig_Selectors_Validation/selector chaining", yaml: `${SEL_BASE}selectors:\n  first:\n    strategy: pin\n    targets: [a]\n  second:\n    strategy: pin\n    targets: [first]\n`, path: "selectors.second.targets[0]", message: "selectors cannot chain" },
  { name: "warm selector over a peer model", ls: "TestConfig_Selectors_Validation/warm peer target", yaml: `${SEL_BASE}selectors:\n  public:\n    strategy: warm\n    targets: [remote-model]\n`, path: "selectors.public.targets[0]", message: "strategy warm needs local models" },
  { name: "spillover 0", ls: "TestConfig_Selectors_Validation/invalid spillover", yaml: `${SEL_BASE}selectors:\n  public:\n    strategy: spillover\n    targets: [a]\n    settings:\n      spillover: 0\n`, path: "selectors.public.settings.spillover", message: "must be >= 1" },
  { name: "spillover naming one model twice (through an alias)", ls: "TestConfig_Selectors_Validation/duplicate resolved spillover target", yaml: `${SEL_BASE}selectors:\n  public:\n    strategy: spillover\n    targets: [a, alias-a]\n`, path: "selectors.public.targets[1]", message: '"alias-a" is model a again' },
  { name: "spillover naming one peer model twice", ls: "TestConfig_Selectors_Validation/duplicate resolved peer spillover target", yaml: `${SEL_BASE}selectors:\n  public:\n    strategy: spillover\n    targets: [remote-model, remote/remote-model]\n`, path: "selectors.public.targets[1]", message: "is model remote/remote-model again" },
  { name: "selector named like a model", ls: "TestConfig_Selectors_Validation/model id collision", yaml: `${SEL_BASE}selectors:\n  a:\n    strategy: pin\n    targets: [a]\n`, path: "selectors.a", message: 'name conflicts with model ID "a"' },
  { name: "selector named like an alias", ls: "TestConfig_Selectors_Validation/explicit alias collision", yaml: `${SEL_BASE}selectors:\n  alias-a:\n    strategy: pin\n    targets: [a]\n`, path: "selectors.alias-a", message: "name conflicts with an alias of model a" },
  { name: "selector named like a setParamsByID key", ls: "TestConfig_Selectors_Validation/generated alias collision", yaml: `${SEL_BASE}selectors:\n  variant:\n    strategy: pin\n    targets: [a]\n`, path: "selectors.variant", message: "name conflicts with an alias of model a" },
  { name: "selector named like a peer model", ls: "ValidatePeerNamespace: selector ID conflicts with fully qualified peer model name", yaml: `${SEL_BASE}selectors:\n  remote/remote-model:\n    strategy: pin\n    targets: [a]\n`, path: "selectors.remote/remote-model", message: "conflicts with the peer model name" },
  { name: "profile pin named like a peer model", ls: "ValidatePeerNamespace: profile pin conflicts with fully qualified peer model name", yaml: `${SEL_BASE}profiles:\n  p:\n    pins:\n      remote/remote-model: a\n`, path: "profiles.p.pins.remote/remote-model", message: "conflicts with the peer model name" },
  { name: "spillover over a swapping group", ls: "TestConfig_Selectors_Validation/spillover swapping group", yaml: `${SEL_BASE}selectors:\n  public:\n    strategy: spillover\n    targets: [a, b]\n`, path: "selectors.public.targets", message: "must share a group with swap: false" },
  { name: "spillover over separate matrix sets", ls: "TestConfig_Selectors_SpilloverCoexistence/matrix separate sets", yaml: `models:\n  a:\n    cmd: echo \${PORT}\n  b:\n    cmd: echo \${PORT}\nmatrix:\n  vars:\n    A: a\n    B: b\n  sets:\n    pool: "A | B"\nselectors:\n  public:\n    strategy: spillover\n    targets: [a, b]\n`, path: "selectors.public.targets", message: "must all appear together in one expanded matrix set" },
  { name: "capabilities with an unknown modality", ls: "TestConfig_ModelCapabilities_Validate/rejects_invalid_at_load", yaml: `${ONE}    capabilities:\n      in: [text, video]\n`, path: "models.model1.capabilities.in[1]", message: "must be one of text, audio, image" },
  { name: "negative capabilities.context", ls: "TestConfig_ModelCapabilities_Validate/negative_context", yaml: `${ONE}    capabilities:\n      context: -1\n`, path: "models.model1.capabilities.context", message: "must be >= 0" },
  { name: "timeouts that are not numbers", ls: "code: TimeoutsConfig ints", yaml: `${ONE}    timeouts:\n      connect: soon\n`, path: "models.model1.timeouts.connect", message: "must be a whole number" },
  { name: "captureBuffer not a number", ls: "code: Config.CaptureBuffer int", yaml: `captureBuffer: lots`, path: "captureBuffer", message: "must be a whole number" },
  { name: "upstream.ignorePaths that is not a regular expression", ls: "TestConfig_UpstreamIgnorePaths_InvalidRegexReturnsError", yaml: `upstream:\n  ignorePaths:\n    - "[invalid("\n${ONE}`, path: "upstream.ignorePaths[0]", message: 'invalid regular expression "[invalid(": missing closing ]' },
  { name: "upstream.ignorePaths with look-ahead (RE2 has none)", ls: "code: regexp.Compile (RE2 syntax)", yaml: `upstream:\n  ignorePaths: ["^(?!/v1)"]\n${ONE}`, path: "upstream.ignorePaths[0]", message: "look-ahead and look-behind are not supported" },
];

// ---------------------------------------------------------------- deliberate differences

/**
 * Where switchyard deliberately departs from llama-swap. Stricter cases name the mistake llama-swap lets
 * through (or only reports at start-up, or never); the accepted ones are switchyard's own extensions or
 * concern a llama-swap feature switchyard does not have.
 */
const stricter: Reject[] = [
  { name: "an alias equal to another model's ID (llama-swap lets the ID win)", ls: "code: RealModelName checks models first", yaml: `${ONE}    aliases: [model2]\n  model2:\n    ${P}\n`, path: "models.model1.aliases[0]", message: "is the ID of another model" },
  { name: "an empty alias", ls: "code: aliases are not checked", yaml: `${ONE}    aliases: [""]\n`, path: "models.model1.aliases[0]", message: "alias is empty" },
  { name: "an unterminated quote in cmd (llama-swap fails only when starting the model)", ls: "code: SanitizeCommand at start", yaml: `${ONE}    cmdStop: "kill 'oops"\n`, path: "models.model1.cmdStop", message: "unterminated single quote" },
  { name: "a proxy that is not an absolute http(s) URL (url.Parse accepts it)", ls: "code: url.Parse", yaml: `models:\n  m:\n    cmd: s\n    proxy: localhost:8080\n`, path: "models.m.proxy", message: "must be an absolute http:// or https:// URL" },
  { name: "an empty proxy (llama-swap keeps it and cannot reach the model)", ls: "code: proxy default only when absent or null", yaml: `models:\n  m:\n    cmd: s\n    proxy: ""\n`, path: "models.m.proxy", message: "invalid proxy URL" },
  { name: "a startPort above 65535", ls: "code: only startPort < 1 is refused", yaml: `startPort: 70000`, path: "startPort", message: "must be <= 65535" },
  { name: "an env entry without =", ls: "code: env passed to exec as is", yaml: `${ONE}    env: [FOO]\n`, path: "models.model1.env[0]", message: "must be NAME=value" },
  { name: "a group named (default) (llama-swap silently replaces it)", ls: "code: AddDefaultGroupToConfig", yaml: `${TWO}groups:\n  "(default)":\n    members: [gemma]\n`, path: "groups.(default)", message: "reserved" },
  { name: "a group member given by alias (llama-swap starts a second process for it)", ls: "code: router NewGroup uses FindConfig", yaml: `${TWO}    aliases: [q]\ngroups:\n  g:\n    members: [q]\n`, path: "groups.g.members[0]", message: "is an alias of model qwen" },
  { name: "an API key with a tab (llama-swap checks spaces only)", ls: "code: strings.Contains(apikey, \" \")", yaml: `apiKeys: ["a\\tb"]`, path: "apiKeys[0]", message: "contains whitespace" },
  { name: "a macro named SWITCHYARD (reserved by switchyard)", ls: "code: reserved PID, PORT, MODEL_ID", yaml: `macros:\n  SWITCHYARD: x`, path: "macros.SWITCHYARD", message: "reserved" },
  { name: "an empty peer model name", ls: "code: peer models unchecked", yaml: `peers:\n  p:\n    proxy: http://h\n    models: [""]\n`, path: "peers.p.models[0]", message: "model name is empty" },
  { name: "a model with an empty body (llama-swap makes a model that cannot start)", ls: "code: null decodes to a zero ModelConfig", yaml: `models:\n  m: ~\n`, path: "models.m", message: "must be a mapping" },
];

const laxer: Accept[] = [
  { name: "an unknown key is ignored, as llama-swap's decoder ignores it, with a warning and a suggestion", ls: "yaml.v3 non-strict decoding", yaml: `${ONE}    tll: 5\n    timeouts:\n      responseHeaders: 5\n`, got: (c) => [c.models.model1.ttl, c.models.model1.timeouts.responseHeader], want: [0, 0], warns: ["models.model1.tll", "models.model1.timeouts.responseHeaders"] },
  { name: "a misspelt known key holding anchors is ignored with a warning", ls: "yaml.v3 non-strict decoding", yaml: `modles:\n  base: &base {cmd: x}\n${ONE}`, got: (c) => Object.keys(c.models), want: ["model1"], warns: ["modles"] },
  { name: "a per-model healthCheckTimeout applies (llama-swap overwrites it with the global one)", ls: "code: ModelConfig.HealthCheckTimeout = config.HealthCheckTimeout", yaml: `healthCheckTimeout: 60\n${ONE}    healthCheckTimeout: 999\n  model2:\n    cmd: server --port \${PORT}\n    healthCheckTimeout: 5\n`, got: (c) => [c.models.model1.healthCheckTimeout, c.models.model2.healthCheckTimeout], want: [999, 15], warns: ["models.model2.healthCheckTimeout"] },
  { name: "the serial scheduler (switchyard's own)", ls: "llama-swap: unknown scheduler", yaml: `${TWO}routing:\n  scheduler:\n    use: serial\n`, got: (c) => c.routing.scheduler, want: "serial" },
  { name: "a store.path in a directory that does not exist (not checked by the loader, which has no file system: serve refuses to start when it cannot open the store)", ls: "TestConfig_StorePath/non-existent directory rejected", yaml: `store:\n  path: /no/such/dir/llama-swap.db\n${ONE}`, got: (c) => c.store?.path, want: "/no/such/dir/llama-swap.db" },
];

// ---------------------------------------------------------------- running the table

function loadOk(c: { yaml: string; env?: Env }) {
  try {
    return load(c.yaml, { env: c.env ?? {} });
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(`expected the config to load, got:\n${err.format()}`);
    throw err;
  }
}

function issues(c: { yaml: string; env?: Env }): ConfigIssue[] {
  try {
    load(c.yaml, { env: c.env ?? {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error("expected the config to be rejected, but it loaded");
}

const accepted = { ports, macros, envs, defaults, aliases, routing, matrix, peers, ignoredKeys, laxer };
const rejected = { portRejects, macroRejects, envRejects, defaultRejects, aliasRejects, routingRejects, matrixRejects, peerRejects, ignoredRejects, stricter };

describe("llama-swap parity: configs llama-swap accepts", () => {
  for (const [group, cases] of Object.entries(accepted)) {
    describe(group, () => {
      for (const c of cases) {
        test(c.name, () => {
          const { config, warnings } = loadOk(c);
          expect(c.got(config)).toEqual(c.want);
          const warned = warnings.map((w) => w.path);
          for (const path of c.warns ?? []) expect(warned).toContain(path);
        });
      }
    });
  }
});

describe("llama-swap parity: configs llama-swap rejects", () => {
  for (const [group, cases] of Object.entries(rejected)) {
    describe(group, () => {
      for (const c of cases) {
        test(c.name, () => {
          const found = issues(c);
          const match = found.find((i) => i.path === c.path);
          if (!match) throw new Error(`no issue at ${JSON.stringify(c.path)}; got:\n${found.map((i) => `${i.line} ${i.path}: ${i.message}`).join("\n")}`);
          if (typeof c.message === "string") expect(match.message).toContain(c.message);
          else expect(match.message).toMatch(c.message);
          expect(match.line).toBeGreaterThanOrEqual(1);
        });
      }
    });
  }
});

describe("llama-swap parity: the table", () => {
  test("covers every area with llama-swap's own cases", () => {
    const total = Object.values(accepted).flat().length + Object.values(rejected).flat().length;
    expect(total).toBeGreaterThanOrEqual(150);
    for (const cases of [...Object.values(accepted), ...Object.values(rejected)]) expect(cases.length).toBeGreaterThan(0);
  });
});
