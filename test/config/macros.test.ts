import { describe, expect, test } from "bun:test";
import { formatMacroValue } from "../../src/config/macros.ts";
import { issuesOf, load } from "./helpers.ts";

describe("macros", () => {
  test("a macro may use macros declared before it (applied last to first)", () => {
    const { config } = load(`
      macros:
        bin: /opt/srv
        base: "\${bin} --port \${PORT}"
        full: "\${base} --verbose"
      models:
        m:
          cmd: \${full}
    `);
    expect(config.models.m.cmd).toEqual(["/opt/srv", "--port", "5800", "--verbose"]);
  });

  test("MODEL_ID works inside a global macro; model macros override in place and do not leak", () => {
    const { config } = load(`
      macros:
        ctx: 4096
        args: "--model \${MODEL_ID}.gguf --ctx \${ctx}"
      models:
        a:
          macros:
            ctx: 8192
          cmd: srv --port \${PORT} \${args}
        b:
          cmd: srv --port \${PORT} \${args}
    `);
    expect(config.models.a.cmd).toEqual(["srv", "--port", "5800", "--model", "a.gguf", "--ctx", "8192"]);
    expect(config.models.b.cmd).toEqual(["srv", "--port", "5801", "--model", "b.gguf", "--ctx", "4096"]);
  });

  test("a value that is exactly one macro keeps the macro's type", () => {
    const { config } = load(`
      macros:
        ttl: 30
        hc: 60
        flag: true
        temp: 0.25
        word: hello
      globalTTL: \${ttl}
      healthCheckTimeout: "\${hc}"
      sendLoadingState: \${flag}
      models:
        m:
          cmd: srv --port \${PORT} --temp \${temp}
          metadata:
            t: \${temp}
            ts: "t=\${temp}"
            f: \${flag}
            w: \${word}
            p: \${PORT}
            id: \${MODEL_ID}
    `);
    expect(config.globalTTL).toBe(30);
    expect(config.healthCheckTimeout).toBe(60);
    expect(config.sendLoadingState).toBe(true);
    expect(config.models.m.ttl).toBe(30);
    expect(config.models.m.cmd).toEqual(["srv", "--port", "5800", "--temp", "0.25"]);
    expect(config.models.m.metadata).toEqual({ t: 0.25, ts: "t=0.25", f: true, w: "hello", p: 5800, id: "m" });
  });

  test("startPort may be a macro; ports go in code-point order of IDs, only to models whose cmd uses ${PORT}", () => {
    const { config } = load(`
      macros:
        sp: 7000
      startPort: \${sp}
      models:
        b:
          cmd: srv --port \${PORT}
        B:
          cmd: srv --port \${PORT}
        a-fixed:
          cmd: srv --port 9000
          proxy: http://127.0.0.1:9000
        a:
          cmd: srv --port \${PORT}
    `);
    const ports = Object.fromEntries(Object.values(config.models).map((m) => [m.id, m.port]));
    expect(ports).toEqual({ B: 7000, a: 7001, "a-fixed": null, b: 7002 });
    expect(config.models["a-fixed"].proxy).toBe("http://127.0.0.1:9000");
    expect(config.models.B.proxy).toBe("http://localhost:7000");
  });

  test("${PORT} reaches every field of its model: aliases, checkEndpoint, env, setParamsByID keys", () => {
    const { config } = load(`
      models:
        m:
          cmd: srv --port \${PORT}
          aliases: ["m-\${PORT}"]
          checkEndpoint: /health/\${PORT}
          env: ["SRV_PORT=\${PORT}"]
          filters:
            setParamsByID:
              "\${MODEL_ID}@\${PORT}": {x: 1}
    `);
    const m = config.models.m;
    expect(m.aliases).toEqual(["m-5800", "m@5800"]);
    expect(m.checkEndpoint).toBe("/health/5800");
    expect(m.env).toEqual({ SRV_PORT: "5800" });
    expect(Object.keys(m.filters.setParamsByID)).toEqual(["m@5800"]);
    expect(config.aliases).toEqual({ "m-5800": "m", "m@5800": "m" });
  });

  test("${PID} survives in cmdStop only", () => {
    const { config } = load(`
      models:
        m:
          cmd: srv --port \${PORT}
          cmdStop: kill -TERM \${PID}
    `);
    expect(config.models.m.cmdStop).toEqual(["kill", "-TERM", "${PID}"]);
  });

  test("${SWITCHYARD} expands to the shell-quoted self command, also inside macros", () => {
    const yaml = `
      macros:
        sim: \${SWITCHYARD} simulate --port \${PORT}
      models:
        direct:
          cmd: \${SWITCHYARD} simulate --port \${PORT} --model \${MODEL_ID}
        viaMacro:
          cmd: \${sim}
    `;
    const { config } = load(yaml, { selfCommand: ["/opt/my tools/bun", "/src/main.ts"] });
    expect(config.models.direct.cmd).toEqual(["/opt/my tools/bun", "/src/main.ts", "simulate", "--port", "5800", "--model", "direct"]);
    expect(config.models.viaMacro.cmd).toEqual(["/opt/my tools/bun", "/src/main.ts", "simulate", "--port", "5801"]);
    expect(load(yaml).config.models.direct.cmd[0]).toBe("switchyard");
  });

  test("macros in cmd comment lines never expand (an unknown one there is no error)", () => {
    const { config } = load(`
      models:
        m:
          cmd: |
            # uses \${undefined_macro} on purpose
            srv --port \${PORT}
    `);
    expect(config.models.m.cmd).toEqual(["srv", "--port", "5800"]);
  });

  test("mapping keys are not expanded (only setParamsByID keys are)", () => {
    const { config } = load(`
      macros:
        k: key
      models:
        m:
          cmd: srv --port \${PORT}
          metadata:
            "\${k}": "\${k}"
    `);
    expect(config.models.m.metadata).toEqual({ "${k}": "key" });
  });

  test("macros apply to top-level values other than models", () => {
    const { config } = load(`
      macros:
        key: sk-123
        peerUrl: http://10.0.0.2:8080
      apiKeys: ["\${key}"]
      peers:
        remote:
          proxy: \${peerUrl}
          models: [x]
    `);
    expect(config.apiKeys).toEqual(["sk-123"]);
    expect(config.peers.remote.proxy).toBe("http://10.0.0.2:8080");
  });

  test("YAML anchors and merge keys are materialised per model before macros", () => {
    const { config, warnings } = load(`
      x-defaults: &defaults
        cmd: srv --port \${PORT} --model \${MODEL_ID}
        ttl: 120
      models:
        one:
          <<: *defaults
        two:
          <<: *defaults
          ttl: 5
    `);
    expect(config.models.one.cmd).toEqual(["srv", "--port", "5800", "--model", "one"]);
    expect(config.models.two.cmd).toEqual(["srv", "--port", "5801", "--model", "two"]);
    expect([config.models.one.ttl, config.models.two.ttl]).toEqual([120, 5]);
    expect(warnings).toEqual([]);
  });

  test("errors inside an anchor point at where the anchor is written", () => {
    const issues = issuesOf(`
      x-defaults: &defaults
        cmd: srv --port \${PORT}
        ttl: soon
      models:
        one:
          <<: *defaults
    `);
    expect(issues.map((i) => [i.path, i.line, i.message])).toEqual([["models.one.ttl", 3, 'must be a whole number, got "soon"']]);
  });

  test("formatMacroValue follows Go's %v", () => {
    expect(formatMacroValue(4096)).toBe("4096");
    expect(formatMacroValue(0.7)).toBe("0.7");
    expect(formatMacroValue(0.00001)).toBe("1e-05");
    expect(formatMacroValue(true)).toBe("true");
    expect(formatMacroValue("s")).toBe("s");
  });
});

describe("${GPU}", () => {
  test("left in cmd and env for the fit router to fill at start; with another router, or elsewhere, it is an error; a macro named GPU wins", () => {
    const c = load(`
      routing:
        router:
          use: fit
      models:
        a:
          cmd: srv --port \${PORT} --device \${GPU}
          env: ["CUDA_VISIBLE_DEVICES=\${GPU}"]
    `).config;
    expect(c.models.a.cmd).toEqual(["srv", "--port", "5800", "--device", "${GPU}"]);
    expect(c.models.a.env.CUDA_VISIBLE_DEVICES).toBe("${GPU}");
    // As llama-swap: without the fit router nothing fills it, so it would reach the process as text.
    expect(issuesOf(`
      models:
        a:
          cmd: srv --port \${PORT} --device \${GPU}
    `).map((i) => [i.path, i.message])).toEqual([["models.a.cmd", "${GPU} is only available with routing.router.use: fit (it is the GPUs that router placed the model on)"]]);
    expect(issuesOf(`
      models:
        a:
          cmd: srv --port \${PORT}
          name: on \${GPU}
    `).map((i) => i.message)).toEqual(["${GPU} is only available in a model's cmd and env"]);
    const own = load(`
      macros:
        GPU: "-ngl 99"
      models:
        a:
          cmd: srv --port \${PORT} \${GPU}
    `).config;
    expect(own.models.a.cmd).toEqual(["srv", "--port", "5800", "-ngl", "99"]);
  });
});
