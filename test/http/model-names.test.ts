/** Name resolution over the live config: spillover reservations of requests still running survive a config reload. */
import { expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { createModelNames } from "../../src/http/model-names.ts";
import { dedent } from "../config/helpers.ts";

const YAML = dedent(`
  models:
    a:
      cmd: echo a --port \${PORT}
    b:
      cmd: echo b --port \${PORT}
  groups:
    pair:
      swap: false
      members: [a, b]
  selectors:
    balanced:
      strategy: spillover
      targets: [a, b]
      settings:
        spillover: 1
`);

test("a reload (even one that changes nothing) keeps the reservations of requests still running: the next one spills over", () => {
  let config: Config = loadConfig(YAML, { env: {} }).config;
  const names = createModelNames({ config: () => config, stateOf: () => "ready" });
  const first = names.choose("balanced");
  expect(first.name).toBe("a");
  // A reload: a new config object, the same selector.
  config = loadConfig(YAML, { env: {} }).config;
  const second = names.choose("balanced");
  expect(second.name).toBe("b");
  expect([...names.reservations("balanced")]).toEqual([
    ["a", 1],
    ["b", 1],
  ]);
  // The request from before the reload gives its reservation back into the counts in use.
  first.release();
  expect([...names.reservations("balanced")]).toEqual([["b", 1]]);
  expect(names.choose("balanced").name).toBe("a");
});
