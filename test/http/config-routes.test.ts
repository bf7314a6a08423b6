import { describe, expect, test } from "bun:test";
import { maskedConfig } from "../../src/http/config-routes.ts";
import { makeConfig, modelConfig, peerConfig } from "./helpers.ts";

describe("/api/config masking", () => {
  test("API keys, peers' keys, secret env values, key flags and any value holding a key are masked", () => {
    const config = makeConfig(
      [
        modelConfig("m", {
          cmd: ["llama-server", "--api-key", "sk-local-1", "--hf-token=hf_abc", "--port", "9000", "--header=Bearer sk-server-key"],
          env: { HF_TOKEN: "hf_abc", OPENAI_API_KEY: "x", PATH_EXTRA: "/opt/bin", NOTE: "uses sk-server-key" },
        }),
      ],
      { apiKeys: ["sk-server-key"], peers: { p: peerConfig("p", "http://peer", ["a"], { apiKey: "peer-secret" }) } },
    );
    const out = maskedConfig(config) as typeof config;
    const text = JSON.stringify(out);
    for (const secret of ["sk-server-key", "sk-local-1", "hf_abc", "peer-secret"]) expect(text).not.toContain(secret);
    expect(out.models.m.cmd).toEqual(["llama-server", "--api-key", "********", "--hf-token=********", "--port", "9000", "--header=Bearer ********"]);
    expect(out.models.m.env).toEqual({ HF_TOKEN: "********", OPENAI_API_KEY: "********", PATH_EXTRA: "/opt/bin", NOTE: "uses ********" });
    expect(out.apiKeys).toEqual(["********"]);
    expect(out.peers.p.apiKey).toBe("********");
    // Nothing else changes.
    expect(out.models.m.proxy).toBe(config.models.m.proxy);
    expect(config.models.m.cmd[2]).toBe("sk-local-1");
  });
});
