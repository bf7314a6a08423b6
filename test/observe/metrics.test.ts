import { describe, expect, test } from "bun:test";
import { createActivityLog } from "../../src/observe/activity.ts";
import { createMetrics, type ModelGauge } from "../../src/observe/metrics.ts";

const promtool = Bun.which("promtool");

/** `promtool check metrics` of `text`: exit code and the lines it printed. */
function promtoolCheck(text: string): { code: number; lines: string[] } {
  const p = Bun.spawnSync([promtool!, "check", "metrics"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, lines: `${p.stdout}${p.stderr}`.split("\n").filter((l) => l !== "") };
}

function setup() {
  let t = 1_000_000;
  const models: ModelGauge[] = [
    { model: "a", state: "ready", inFlight: 2, queued: 1 },
    { model: "b", state: "starting", inFlight: 0, queued: 3 },
  ];
  const m = createMetrics({ models: () => models, rssBytes: () => 123_456, system: () => ({ memTotalBytes: 1000, memFreeBytes: 400, load: [0.5, 0.25, 0.125] }), now: () => t });
  return { m, advance: (ms: number) => (t += ms), now: () => t };
}

describe("metrics", () => {
  test("router observations and activity become counters and histograms; gauges read the router at scrape time", () => {
    const { m, advance, now } = setup();
    m.observe({ type: "request", id: 1, model: "a", phase: "admitted", at: now() });
    advance(300);
    m.observe({ type: "request", id: 1, model: "a", phase: "granted", at: now() });
    m.observe({ type: "swap-start", swapId: 1, target: "a", evict: ["b"], reason: "evict", at: now() });
    m.observe({ type: "drain-start", model: "b", cause: "evict", inFlight: 1, deadline: now(), at: now() });
    m.observe({ type: "load-ready", model: "a", ms: 1500, at: now() });
    m.observe({ type: "request", id: 2, model: "b", phase: "severed", at: now() });
    m.observe({ type: "request", id: 3, model: "b", phase: "cancelled", at: now() });
    m.observe({ type: "request", id: 4, model: "b", phase: "refused", at: now(), error: { kind: "concurrency_limit", message: "busy" } });
    const log = createActivityLog({ sink: (record) => m.observe({ type: "activity", record }), now });
    const h = log.begin({ model: "a", peer: "", path: "/v1/chat/completions", client: "", bytesIn: 1, streamed: true });
    h.response(200, "text/event-stream");
    advance(50);
    h.chunk(new TextEncoder().encode('data: {"choices":[{"delta":{"content":"Hi"}}]}\n\ndata: {"usage":{"prompt_tokens":9,"completion_tokens":4}}\n\n'));
    h.end("ok");

    const text = m.render();
    for (const line of [
      'switchyard_requests_total{model="a",status="200",outcome="ok"} 1',
      'switchyard_queue_wait_seconds_bucket{model="a",le="0.5"} 1',
      'switchyard_queue_wait_seconds_sum{model="a"} 0.3',
      'switchyard_load_seconds_count{model="a"} 1',
      'switchyard_swaps_total{model="a",reason="evict"} 1',
      'switchyard_drains_total{model="b",cause="evict"} 1',
      'switchyard_severed_requests_total{model="b"} 1',
      'switchyard_cancelled_requests_total{model="b"} 1',
      'switchyard_refused_requests_total{model="b",reason="concurrency_limit"} 1',
      'switchyard_time_to_first_token_seconds_count{model="a"} 1',
      'switchyard_prompt_tokens_total{model="a"} 9',
      'switchyard_completion_tokens_total{model="a"} 4',
      'switchyard_requests_in_flight{model="a"} 2',
      'switchyard_queue_depth{model="b"} 3',
      'switchyard_model_state{model="b",state="starting"} 1',
      "process_resident_memory_bytes 123456",
      "llamaswap_memory_used_bytes 600",
      'llamaswap_load_average{interval="5m"} 0.25',
      'vllm:num_requests_waiting{model_name="b"} 3',
      'vllm:num_requests_running{model_name="a"} 2',
      'vllm:lora_requests_info{running_lora_adapters="a",waiting_lora_adapters="b",max_lora="2"}',
    ]) {
      expect(text).toContain(line);
    }
  });

  test("every configured model's counters and histograms are there at 0 before their first event (rate() cannot see a series appear at 1)", () => {
    const { m, now } = setup();
    const before = m.render();
    for (const line of [
      'switchyard_crashes_total{model="a"} 0',
      'switchyard_load_failures_total{model="b"} 0',
      'switchyard_ttl_unloads_total{model="a"} 0',
      'switchyard_severed_requests_total{model="a"} 0',
      'switchyard_cancelled_requests_total{model="b"} 0',
      'switchyard_swaps_total{model="a",reason="cold-start"} 0',
      'switchyard_swaps_total{model="a",reason="evict"} 0',
      'switchyard_drains_total{model="b",cause="unload"} 0',
      'switchyard_refused_requests_total{model="a",reason="concurrency_limit"} 0',
      'switchyard_requests_total{model="a",status="200",outcome="ok"} 0',
      'switchyard_load_seconds_count{model="a"} 0',
      'switchyard_load_seconds_bucket{model="a",le="+Inf"} 0',
      'switchyard_queue_wait_seconds_count{model="b"} 0',
      'switchyard_time_to_first_token_seconds_count{model="b"} 0',
      'switchyard_prompt_tokens_total{model="a"} 0',
      'switchyard_completion_tokens_total{model="b"} 0',
    ]) {
      expect(before).toContain(`${line}\n`);
    }
    // The first event then moves the series that was already there.
    m.observe({ type: "crash", model: "a", exitCode: 1, signal: null, at: now() });
    expect(m.render()).toContain('switchyard_crashes_total{model="a"} 1\n');
  });

  const withPromtool = promtool ? test : process.env.CI ? test : test.skip;
  if (!promtool && !process.env.CI) console.log("metrics: skipping the promtool check (promtool missing: apt-get install prometheus)");
  withPromtool("the exposition passes promtool (its only complaint: the ':' in vLLM's names)", () => {
    if (!promtool) throw new Error("promtool missing: apt-get install prometheus");
    const { m, now } = setup();
    m.observe({ type: "swap-start", swapId: 1, target: "a", evict: [], reason: "cold-start", at: now() });
    const { code, lines } = promtoolCheck(m.render());
    expect(lines.filter((l) => !/^vllm:\w+ metric names should not contain ':'$/.test(l))).toEqual([]);
    expect([0, 3]).toContain(code);
  });
});
