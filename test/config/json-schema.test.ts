import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { renderJsonSchema } from "../../src/config/json-schema.ts";

describe("config-schema.json", () => {
  test("the committed file matches the TypeBox schema (run `bun scripts/gen-schema.ts` after changing it)", () => {
    const committed = readFileSync(new URL("../../config-schema.json", import.meta.url), "utf8");
    expect(committed).toBe(renderJsonSchema());
  });

  test("is a closed draft-07 schema with descriptions, accepting ${macro} for numbers and booleans", () => {
    const schema = JSON.parse(renderJsonSchema());
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(schema.additionalProperties).toBe(false);
    expect(schema.patternProperties).toEqual({ "^x-": { description: "Ignored; a place for YAML anchors." } });
    const model = schema.properties.models.patternProperties["^(.*)$"];
    expect(model.additionalProperties).toBe(false);
    expect(Object.keys(model.properties)).toContain("drainTimeout");
    expect(model.properties.cmd.description).toContain("POSIX shell rules");
    expect(model.properties.ttl.anyOf[1].pattern).toBe("^\\$\\{[a-zA-Z0-9_.-]+\\}$");
    expect(schema.properties.routing.properties.scheduler.properties.settings.properties.fifo.properties.maxWait.default).toBe(60);
    expect(new RegExp(model.properties.ttl.anyOf[1].pattern).test("${ttl}")).toBe(true);
  });
});
