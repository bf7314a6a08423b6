import { describe, expect, test } from "bun:test";
import type { ActivityRecord } from "../../src/observe/activity.ts";
import { ActivityQueryError, activityStats, parseActivityQuery, queryActivity } from "../../src/observe/activity-query.ts";

function rec(id: number, model: string, minute: number, gen: number): ActivityRecord {
  return {
    id,
    timestamp: new Date(Date.UTC(2026, 11, 2, 10, minute)).toISOString(),
    model,
    peer: "",
    req_path: "/v1/chat/completions",
    client: "",
    resp_status_code: 200,
    resp_content_type: "application/json",
    tokens: { cache_tokens: -1, draft_tokens: 0, draft_acc_tokens: 0, input_tokens: id, output_tokens: 10 * id, prompt_per_second: 0, tokens_per_second: gen },
    duration_ms: 100 - id,
    has_capture: false,
    queue_wait_ms: 0,
    load_wait_ms: 0,
    ttfb_ms: 1,
    ttft_ms: null,
    streamed: false,
    outcome: "ok",
    bytes_in: 1,
    bytes_out: 1,
    usage: { promptTokens: id, completionTokens: 10 * id, cachedTokens: null, draftTokens: null, draftAccepted: null, promptPerSecond: null, generationPerSecond: gen, promptMs: null, generationMs: null },
  };
}

const rows = [rec(1, "a", 1, 10), rec(2, "b", 2, 20), rec(3, "a", 3, 30), rec(4, "c", 4, 40), rec(5, "a", 5, 50)];
const q = (s: string) => queryActivity(rows, parseActivityQuery(new URLSearchParams(s)));

describe("activity queries", () => {
  test("newest first by default; models, time and id ranges filter; pages count", () => {
    expect(q("").data.map((r) => r.id)).toEqual([5, 4, 3, 2, 1]);
    expect(q("model=a&model=c").data.map((r) => r.id)).toEqual([5, 4, 3, 1]);
    expect(q("start=2026-12-02T10:02:00Z&end=2026-12-02T10:04:00Z").data.map((r) => r.id)).toEqual([4, 3, 2]);
    expect(q("min_id=2&max_id=3").data.map((r) => r.id)).toEqual([3, 2]);
    expect(q("limit=2&page=3")).toMatchObject({ page: 3, limit: 2, total: 5, total_pages: 3, data: [{ id: 1 }] });
    expect(q("sort=duration&order=asc").data.map((r) => r.id)).toEqual([5, 4, 3, 2, 1]);
    expect(q("sort=model&order=asc").data.map((r) => r.id)).toEqual([1, 3, 5, 2, 4]);
    expect(q("model=nobody")).toEqual({ data: [], page: 1, limit: 25, total: 0, total_pages: 0 });
  });

  test("every mistake is an ActivityQueryError naming it", () => {
    for (const bad of ["colour=red", "start=2026-12-02", "min_id=0", "limit=1000", "limit=x", "page=0", "sort=x", "order=up", "start=2026-12-03T00:00:00Z&end=2026-12-02T00:00:00Z"]) {
      expect(() => q(bad)).toThrow(ActivityQueryError);
    }
    expect(() => q("limit=2&page=4")).toThrow("page 4 is out of range: there are 3 pages");
  });

  test("stats: totals and a generation-speed histogram with percentiles", () => {
    const s = activityStats(rows);
    expect(s).toMatchObject({ total_requests: 5, total_input_tokens: 15, total_output_tokens: 150, total_cache_tokens: 0, prompt_histogram: null });
    expect(s.gen_histogram).toMatchObject({ min: 10, max: 50, p50: 30, p95: 50, p99: 50 });
    expect(s.gen_histogram!.bins.reduce((x, y) => x + y, 0)).toBe(5);
    expect(activityStats(rows, "a").total_requests).toBe(3);
  });
});
