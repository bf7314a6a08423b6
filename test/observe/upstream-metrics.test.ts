import { describe, expect, test } from "bun:test";
import { familyNames, relabelUpstreamMetrics, withModelLabel } from "../../src/observe/upstream-metrics.ts";

/** What llama-server --metrics answers (abridged, its own names). */
const LLAMA = (n: number) => `# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total ${n}
# HELP llamacpp:requests_processing Number of requests processing.
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing 0
`;

/** Check an exposition text with promtool where it is installed (CI installs it). */
function promtool(text: string): string[] {
  const bin = Bun.which("promtool");
  if (!bin) {
    if (process.env.CI) throw new Error("promtool missing: apt-get install prometheus");
    console.log("upstream-metrics: promtool missing; the text was not validated");
    return [];
  }
  const p = Bun.spawnSync([bin, "check", "metrics"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
  return `${p.stdout}${p.stderr}`.split("\n").filter((l) => l !== "" && !/ metric names should not contain ':'$/.test(l));
}

describe("upstream metrics re-export", () => {
  test("every sample gets a model label; families merge across models with one HELP and TYPE", () => {
    const text = relabelUpstreamMetrics(
      [
        { model: "a", text: LLAMA(5) },
        { model: "b", text: LLAMA(7) },
        { model: "c", text: null },
      ],
      new Set(),
    );
    expect(text).toBe(`# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total{model="a"} 5
llamacpp:prompt_tokens_total{model="b"} 7
# HELP llamacpp:requests_processing Number of requests processing.
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing{model="a"} 0
llamacpp:requests_processing{model="b"} 0
# HELP switchyard_upstream_metrics_up Whether a running model's own /metrics answered this scrape (metrics.upstream).
# TYPE switchyard_upstream_metrics_up gauge
switchyard_upstream_metrics_up{model="a"} 1
switchyard_upstream_metrics_up{model="b"} 1
switchyard_upstream_metrics_up{model="c"} 0
`);
    expect(promtool(text)).toEqual([]);
  });

  test("labels, a clashing model label, histograms, timestamps; our own families are left out", () => {
    const vllm = `# HELP vllm:num_requests_running Running.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="x"} 1
# HELP vllm:e2e_request_latency_seconds Latency.
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{le="1.0",model="x"} 2
vllm:e2e_request_latency_seconds_bucket{le="+Inf",model="x"} 3
vllm:e2e_request_latency_seconds_sum{model="x"} 2.5
vllm:e2e_request_latency_seconds_count{model="x"} 3
# HELP odd_metric Untyped, with a timestamp.
odd_metric{} 4 1700000000000
not a sample line
`;
    const text = relabelUpstreamMetrics([{ model: 'we"ird', text: vllm }], new Set(["vllm:num_requests_running"]));
    expect(text).not.toContain("vllm:num_requests_running");
    expect(text).toContain('vllm:e2e_request_latency_seconds_bucket{model="we\\"ird",le="1.0",exported_model="x"} 2');
    expect(text).toContain('vllm:e2e_request_latency_seconds_count{model="we\\"ird",exported_model="x"} 3');
    expect(text).toContain('odd_metric{model="we\\"ird"} 4 1700000000000');
    expect(text).not.toContain("not a sample");
    expect(promtool(text)).toEqual([]);
  });

  test("withModelLabel and familyNames", () => {
    expect(withModelLabel("m 1", "a")).toBe('m{model="a"} 1');
    expect(withModelLabel('m{x="1"} 1', "a")).toBe('m{model="a",x="1"} 1');
    expect(withModelLabel("m", "a")).toBeNull();
    expect(withModelLabel('m{x="1",} 1', "a")).toBe('m{model="a",x="1"} 1');
    // Malformed label blocks are dropped rather than passed on to break the whole scrape.
    expect(withModelLabel('m{x=1} 1', "a")).toBeNull();
    expect(withModelLabel('m{x="1",x="2"} 1', "a")).toBeNull();
  });

  test("a label value that reads like a label (`,model=`) is not renamed; the real model label is, past an exported_model already there", () => {
    const line = 'app_info{args="--host 0.0.0.0,model=/m/q.gguf",model="qwen2.5-7b"} 1';
    expect(withModelLabel(line, "qwen")).toBe('app_info{model="qwen",args="--host 0.0.0.0,model=/m/q.gguf",exported_model="qwen2.5-7b"} 1');
    expect(withModelLabel('x{exported_model="a",model="b"} 1', "m")).toBe('x{model="m",exported_model="a",exported_exported_model="b"} 1');
    expect(withModelLabel('x{ model = "b" , y="}" } 1', "m")).toBe('x{model="m",exported_model="b",y="}"} 1');
    const text = relabelUpstreamMetrics([{ model: "qwen", text: `# HELP app_info Build.\n# TYPE app_info gauge\n${line}\n` }], new Set());
    expect(promtool(text)).toEqual([]);
    expect(familyNames("# TYPE a counter\na 1\n# TYPE b:c gauge\n")).toEqual(new Set(["a", "b:c"]));
    expect(relabelUpstreamMetrics([], new Set())).toBe("");
  });
});
