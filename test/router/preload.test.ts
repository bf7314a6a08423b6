import { expect, test } from "bun:test";
import { preload } from "../../src/router/preload.ts";
import { RouteError, type Router, type Grant } from "../../src/router/types.ts";
import type { Logger } from "../../src/log/types.ts";

test("preload acquires each model in order, releases it, and logs failures without stopping", async () => {
  const calls: string[] = [];
  const lines: string[] = [];
  const router: Router = {
    async acquire(model) {
      calls.push(`acquire ${model}`);
      if (model === "bad") throw new RouteError("start_failed", "exit 1");
      const grant: Grant = {
        model,
        baseUrl: "http://127.0.0.1:1",
        severed: new AbortController().signal,
        done: () => calls.push(`done ${model}`),
      };
      return grant;
    },
    unload: async () => {},
    shutdown: async () => {},
    status: () => [],
  };
  const log: Logger = { debug() {}, info: (m) => lines.push(m), warn() {}, error: (m) => lines.push(m) };
  await preload(router, ["a", "bad", "b"], log);
  expect(calls).toEqual(["acquire a", "done a", "acquire bad", "acquire b", "done b"]);
  expect(lines).toEqual(["preload: a is ready", "preload: bad failed: exit 1", "preload: b is ready"]);
});
