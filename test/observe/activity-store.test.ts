import { describe, expect, test } from "bun:test";
import { createActivityLog } from "../../src/observe/activity.ts";
import { parseActivityQuery } from "../../src/observe/activity-query.ts";
import { createMemoryActivityStore } from "../../src/observe/activity-store.ts";

describe("memory activity store", () => {
  test("reads the log's ring: pages, stats and the last id", () => {
    const log = createActivityLog();
    const store = createMemoryActivityStore(log);
    expect(store.lastId()).toBe(0);
    for (const model of ["a", "b", "a"]) log.begin({ model, peer: "", path: "/v1/completions", client: "", bytesIn: 0, streamed: false }).end("ok", { status: 200 });
    expect(store.lastId()).toBe(3);
    expect(store.query(parseActivityQuery(new URLSearchParams("model=a"))).data.map((r) => r.id)).toEqual([3, 1]);
    expect(store.stats("b").total_requests).toBe(1);
  });
});
