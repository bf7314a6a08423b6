import { describe, expect, test } from "bun:test";
import {
  CONTENT_TYPE,
  createRegistry,
  DEFAULT_BUCKETS,
  escapeHelp,
  escapeLabelValue,
  formatValue,
  type Registry,
} from "../../src/observe/metrics-registry.ts";

describe("render", () => {
  test("exact text of a small registry", () => {
    const r = createRegistry();
    const req = r.counter("switchyard_requests", "Proxied requests.", ["model", "status"]);
    req.labels({ model: "b", status: 200 }).inc();
    req.labels({ model: "a", status: "500" }).inc(2);
    req.labels({ model: "a", status: "200" }).inc();
    r.counter("switchyard_swaps_total", "Model swaps.").inc(3);
    r.gauge("switchyard_up", "1 while serving.").set(1);
    r.gaugeFn("vllm:num_requests_waiting", "Requests waiting.", ["model"], () => [
      [{ model: "b" }, 0],
      [{ model: "a" }, 4],
    ]);
    const lat = r.histogram("switchyard_request_duration_seconds", "Request latency.", ["model"], [0.1, 1, 10]);
    lat.labels({ model: "a" }).observe(0.05);
    lat.labels({ model: "a" }).observe(0.5);
    lat.labels({ model: "a" }).observe(20);

    expect(r.render()).toBe(
      [
        "# HELP switchyard_request_duration_seconds Request latency.",
        "# TYPE switchyard_request_duration_seconds histogram",
        'switchyard_request_duration_seconds_bucket{model="a",le="0.1"} 1',
        'switchyard_request_duration_seconds_bucket{model="a",le="1"} 2',
        'switchyard_request_duration_seconds_bucket{model="a",le="10"} 2',
        'switchyard_request_duration_seconds_bucket{model="a",le="+Inf"} 3',
        'switchyard_request_duration_seconds_sum{model="a"} 20.55',
        'switchyard_request_duration_seconds_count{model="a"} 3',
        "# HELP switchyard_requests_total Proxied requests.",
        "# TYPE switchyard_requests_total counter",
        'switchyard_requests_total{model="a",status="200"} 1',
        'switchyard_requests_total{model="a",status="500"} 2',
        'switchyard_requests_total{model="b",status="200"} 1',
        "# HELP switchyard_swaps_total Model swaps.",
        "# TYPE switchyard_swaps_total counter",
        "switchyard_swaps_total 3",
        "# HELP switchyard_up 1 while serving.",
        "# TYPE switchyard_up gauge",
        "switchyard_up 1",
        "# HELP vllm:num_requests_waiting Requests waiting.",
        "# TYPE vllm:num_requests_waiting gauge",
        'vllm:num_requests_waiting{model="a"} 4',
        'vllm:num_requests_waiting{model="b"} 0',
        "",
      ].join("\n"),
    );
  });

  test("empty registry renders nothing; labeled families without series are left out", () => {
    const r = createRegistry();
    expect(r.render()).toBe("");
    r.counter("a", "A.", ["x"]);
    r.gauge("b", "B.", ["x"]);
    r.histogram("c", "C.", ["x"]);
    r.gaugeFn("d", "D.", [], () => []);
    expect(r.render()).toBe("");
  });

  test("unlabeled metrics show from registration, at zero", () => {
    const r = createRegistry();
    r.counter("hits", "Hits.");
    r.gauge("depth", "Depth.");
    r.histogram("size_bytes", "Sizes.", [], [1]);
    expect(r.render()).toBe(
      [
        "# HELP depth Depth.",
        "# TYPE depth gauge",
        "depth 0",
        "# HELP hits_total Hits.",
        "# TYPE hits_total counter",
        "hits_total 0",
        "# HELP size_bytes Sizes.",
        "# TYPE size_bytes histogram",
        'size_bytes_bucket{le="1"} 0',
        'size_bytes_bucket{le="+Inf"} 0',
        "size_bytes_sum 0",
        "size_bytes_count 0",
        "",
      ].join("\n"),
    );
  });

  test("series order is stable whatever the insertion order, and each family appears once", () => {
    const build = (order: string[]): string => {
      const r = createRegistry();
      const g = r.gauge("g", "G.", ["k", "j"]);
      for (const k of order) g.labels({ j: "1", k }).set(k.length);
      r.counter("a", "A.").inc();
      return r.render();
    };
    const one = build(["c", "a", "b", "aa"]);
    expect(build(["aa", "b", "a", "c"])).toBe(one);
    expect(one.match(/# TYPE g gauge/g)?.length).toBe(1);
    expect(one.split("\n").filter((l) => l.startsWith("g{"))).toEqual([
      'g{k="a",j="1"} 1',
      'g{k="aa",j="1"} 2',
      'g{k="b",j="1"} 1',
      'g{k="c",j="1"} 1',
    ]);
    expect(one.indexOf("# HELP a_total")).toBeLessThan(one.indexOf("# HELP g"));
  });

  test("CONTENT_TYPE names format 0.0.4", () => {
    expect(CONTENT_TYPE).toBe("text/plain; version=0.0.4; charset=utf-8");
  });
});

describe("numbers", () => {
  test("formatValue", () => {
    expect(formatValue(Infinity)).toBe("+Inf");
    expect(formatValue(-Infinity)).toBe("-Inf");
    expect(formatValue(NaN)).toBe("NaN");
    expect(formatValue(0)).toBe("0");
    expect(formatValue(-0)).toBe("0");
    expect(formatValue(42)).toBe("42");
    expect(formatValue(1e6)).toBe("1000000");
    expect(formatValue(123456789012)).toBe("123456789012");
    expect(formatValue(2 ** 53)).toBe("9007199254740992");
    expect(formatValue(-3)).toBe("-3");
    expect(formatValue(0.25)).toBe("0.25");
    expect(formatValue(0.1 + 0.2)).toBe("0.30000000000000004");
    expect(formatValue(1e-7)).toBe("1e-7");
    expect(Number(formatValue(1e21))).toBe(1e21);
  });

  test("special values in series", () => {
    const r = createRegistry();
    const g = r.gauge("v", "V.", ["k"]);
    g.labels({ k: "inf" }).set(Infinity);
    g.labels({ k: "nan" }).set(NaN);
    g.labels({ k: "ninf" }).set(-Infinity);
    g.labels({ k: "big" }).set(1.5e9);
    expect(r.render()).toContain('v{k="big"} 1500000000\nv{k="inf"} +Inf\nv{k="nan"} NaN\nv{k="ninf"} -Inf\n');
  });
});

describe("escaping", () => {
  test("label values: backslash, double quote, newline", () => {
    expect(escapeLabelValue("plain")).toBe("plain");
    expect(escapeLabelValue("a\\b")).toBe("a\\\\b");
    expect(escapeLabelValue('say "hi"')).toBe('say \\"hi\\"');
    expect(escapeLabelValue("l1\nl2")).toBe("l1\\nl2");
    expect(escapeLabelValue('\\"\n')).toBe('\\\\\\"\\n');
    expect(escapeLabelValue("tab\there, cr\r, }{,= 模型 🚀")).toBe("tab\there, cr\r, }{,= 模型 🚀");
  });

  test("help: backslash and newline, quotes untouched", () => {
    expect(escapeHelp('a "quoted" \\ path\nnext')).toBe('a "quoted" \\\\ path\\nnext');
  });

  test("in rendered output", () => {
    const r = createRegistry();
    r.counter("x", 'Help with \\ and "q"\nline two.', ["v"]).labels({ v: 'C:\\dir\\"n"\n' }).inc();
    expect(r.render()).toBe(
      '# HELP x_total Help with \\\\ and "q"\\nline two.\n# TYPE x_total counter\nx_total{v="C:\\\\dir\\\\\\"n\\"\\n"} 1\n',
    );
  });

  test("values that escape alike do not share a series", () => {
    const r = createRegistry();
    const c = r.counter("x", "X.", ["a", "b"]);
    expect(c.labels({ a: 'p",b="q', b: "" })).not.toBe(c.labels({ a: "p", b: 'q",b="' }));
  });
});

describe("names", () => {
  const r = (): Registry => createRegistry();

  test("legal metric names, colon included", () => {
    const reg = r();
    reg.gauge("vllm:num_requests_waiting", "W.");
    reg.gauge(":leading_colon", "L.");
    reg.gauge("_under", "U.");
    reg.counter("job:requests:rate5m", "R.");
    expect(reg.render()).toContain("# TYPE job:requests:rate5m_total counter\n");
  });

  test.each(["", "1abc", "a-b", "a b", "é", "a.b", "a{b}"])("bad metric name %p throws", (name) => {
    expect(() => r().counter(name, "H.")).toThrow(/invalid metric name/);
    expect(() => r().gauge(name, "H.")).toThrow(/invalid metric name/);
    expect(() => r().gaugeFn(name, "H.", [], () => [])).toThrow(/invalid metric name/);
    expect(() => r().histogram(name, "H.")).toThrow(/invalid metric name/);
  });

  test.each(["", "1a", "a:b", "a-b", "é", "a b"])("bad label name %p throws", (label) => {
    expect(() => r().counter("m", "H.", [label])).toThrow(/invalid label name/);
    expect(() => r().gaugeFn("m", "H.", [label], () => [])).toThrow(/invalid label name/);
  });

  test("reserved and duplicate label names throw", () => {
    expect(() => r().gauge("m", "H.", ["__name__"])).toThrow(/reserved/);
    expect(() => r().gauge("m", "H.", ["__x"])).toThrow(/reserved/);
    expect(() => r().histogram("m", "H.", ["le"])).toThrow(/reserved/);
    expect(() => r().gauge("m", "H.", ["a", "a"])).toThrow(/given twice/);
    expect(() => r().gauge("m", "H.", ["_a", "A9"])).not.toThrow();
  });

  test("counters get _total once", () => {
    const reg = r();
    reg.counter("a", "A.").inc();
    reg.counter("b_total", "B.").inc();
    const text = reg.render();
    expect(text).toContain("\na_total 1\n");
    expect(text).toContain("\nb_total 1\n");
    expect(text).not.toContain("_total_total");
  });

  test("duplicate and clashing registrations throw", () => {
    const reg = r();
    reg.counter("req", "R.");
    expect(() => reg.counter("req_total", "R.")).toThrow(/already registered/);
    expect(() => reg.gauge("req_total", "R.")).toThrow(/already registered/);
    reg.histogram("lat_seconds", "L.");
    expect(() => reg.gauge("lat_seconds_count", "C.")).toThrow(/clashes with metric lat_seconds/);
    expect(() => reg.gaugeFn("lat_seconds", "C.", [], () => [])).toThrow(/already registered/);
    reg.gauge("q_sum", "S.");
    expect(() => reg.histogram("q", "Q.")).toThrow(/clashes with metric q_sum/);
  });

  test("empty help throws", () => {
    expect(() => r().gauge("m", "")).toThrow(/help text is required/);
    expect(() => r().counter("m", "  ")).toThrow(/help text is required/);
  });
});

describe("children", () => {
  test("labels() returns the same cached child, whatever the key order or number-vs-string", () => {
    const c = createRegistry().counter("req", "R.", ["model", "status"]);
    const child = c.labels({ model: "a", status: "200" });
    expect(c.labels({ status: "200", model: "a" })).toBe(child);
    expect(c.labels({ model: "a", status: 200 })).toBe(child);
    expect(c.labels({ model: "a", status: "201" })).not.toBe(child);
    child.inc();
    child.inc(2.5);
    expect(child.get()).toBe(3.5);
  });

  test("wrong label sets throw", () => {
    const c = createRegistry().counter("req", "R.", ["model"]);
    // @ts-expect-error missing label
    expect(() => c.labels({})).toThrow(/missing label "model"/);
    // @ts-expect-error extra label
    expect(() => c.labels({ model: "a", other: "b" })).toThrow(/unexpected label\(s\) other/);
    // @ts-expect-error wrong name
    expect(() => c.labels({ modle: "a" })).toThrow(/missing label "model"/);
    expect(() => c.inc()).toThrow(/has labels \(model\); use \.labels/);
  });

  test("a known series is found again by its values, and wrong sets still throw once it is known", () => {
    const c = createRegistry().counter("req", "R.", ["model", "status"]);
    const child = c.labels({ model: "a", status: 200 });
    // The lookup by raw values: the same child for the same values, in any order, string or number.
    expect(c.labels({ status: "200", model: "a" })).toBe(child);
    expect(c.labels({ model: "a", status: 200 })).toBe(child);
    // A prefix of a known set is not a series.
    // @ts-expect-error missing label
    expect(() => c.labels({ model: "a" })).toThrow(/missing label "status"/);
    // @ts-expect-error extra label
    expect(() => c.labels({ model: "a", status: 200, other: "b" })).toThrow(/unexpected label\(s\) other/);
    // @ts-expect-error wrong type
    expect(() => c.labels({ model: "a", status: null })).toThrow(/label "status" must be a string or number/);
    const zero = createRegistry().counter("plain", "P.", []);
    expect(() => zero.labels({ model: "a" } as never)).toThrow(/unexpected label\(s\) model/);
  });

  test("counter rejects negative and NaN increments", () => {
    const c = createRegistry().counter("req", "R.");
    expect(() => c.inc(-1)).toThrow(/must be >= 0/);
    expect(() => c.inc(NaN)).toThrow(/must be >= 0/);
    c.inc(0);
    c.inc();
    expect(c.get()).toBe(1);
  });

  test("gauge set/inc/dec", () => {
    const r = createRegistry();
    const g = r.gauge("inflight", "In flight.", ["model"]);
    const a = g.labels({ model: "a" });
    a.inc();
    a.inc(4);
    a.dec();
    a.dec(0.5);
    expect(a.get()).toBe(3.5);
    a.set(-2);
    expect(a.get()).toBe(-2);
    const u = r.gauge("u", "U.");
    u.inc();
    u.dec(3);
    expect(u.get()).toBe(-2);
    expect(r.render()).toContain('inflight{model="a"} -2\n');
  });

  test("gaugeFn is read at every render; a repeated label tuple keeps the last value", () => {
    const r = createRegistry();
    let depth = 1;
    let calls = 0;
    r.gaugeFn("queue_depth", "Queued.", ["model"], () => {
      calls++;
      return [
        [{ model: "a" }, depth],
        [{ model: "a" }, depth * 10],
      ];
    });
    expect(r.render()).toContain('queue_depth{model="a"} 10\n');
    depth = 2;
    expect(r.render()).toContain('queue_depth{model="a"} 20\n');
    expect(calls).toBe(2);
  });

  test("gaugeFn accepts a generator and checks the labels it yields", () => {
    const r = createRegistry();
    r.gaugeFn("rss_bytes", "RSS.", [], function* () {
      yield [{}, 1024] as const;
    });
    expect(r.render()).toBe("# HELP rss_bytes RSS.\n# TYPE rss_bytes gauge\nrss_bytes 1024\n");
    const bad = createRegistry();
    // @ts-expect-error wrong label set from collect
    bad.gaugeFn("q", "Q.", ["model"], () => [[{ nope: "x" }, 1]]);
    expect(() => bad.render()).toThrow(/q: missing label "model"/);
  });
});

describe("histogram", () => {
  test("bucket math: bounds are inclusive upper bounds, counts cumulative, +Inf = count", () => {
    const h = createRegistry().histogram("h", "H.", [], [1, 2, 5]);
    for (const v of [0, 1, 1.0000001, 2, 3, 5, 5.5, 100, -7]) h.observe(v);
    const s = h.get();
    expect(s.buckets).toEqual([
      [1, 3],
      [2, 5],
      [5, 7],
      [Infinity, 9],
    ]);
    expect(s.count).toBe(9);
    expect(s.sum).toBeCloseTo(0 + 1 + 1.0000001 + 2 + 3 + 5 + 5.5 + 100 - 7, 9);
  });

  test("NaN lands only in +Inf; +Inf observations too", () => {
    const h = createRegistry().histogram("h", "H.", [], [1]);
    h.observe(NaN);
    h.observe(Infinity);
    const s = h.get();
    expect(s.buckets).toEqual([
      [1, 0],
      [Infinity, 2],
    ]);
    expect(s.sum).toBeNaN();
    expect(s.count).toBe(2);
  });

  test("rendered buckets for a labeled child, default buckets, trailing +Inf accepted", () => {
    const r = createRegistry();
    const h = r.histogram("d_seconds", "D.", ["m"], [0.5, Infinity]);
    h.labels({ m: "x" }).observe(0.5);
    h.labels({ m: "x" }).observe(0.75);
    expect(r.render()).toBe(
      [
        "# HELP d_seconds D.",
        "# TYPE d_seconds histogram",
        'd_seconds_bucket{m="x",le="0.5"} 1',
        'd_seconds_bucket{m="x",le="+Inf"} 2',
        'd_seconds_sum{m="x"} 1.25',
        'd_seconds_count{m="x"} 2',
        "",
      ].join("\n"),
    );
    const d = createRegistry().histogram("z", "Z.");
    d.observe(0.3);
    expect(d.get().buckets.map(([le]) => le)).toEqual([...DEFAULT_BUCKETS, Infinity]);
    expect(d.get().buckets.find(([le]) => le === 0.5)?.[1]).toBe(1);
    expect(d.get().buckets.find(([le]) => le === 0.25)?.[1]).toBe(0);
  });

  test("no finite buckets: only +Inf", () => {
    const r = createRegistry();
    r.histogram("only", "O.", [], []).observe(3);
    expect(r.render()).toContain('only_bucket{le="+Inf"} 1\nonly_sum 3\nonly_count 1\n');
  });

  test("bad buckets throw", () => {
    const r = createRegistry();
    expect(() => r.histogram("a", "A.", [], [1, 1])).toThrow(/strictly increasing/);
    expect(() => r.histogram("b", "B.", [], [2, 1])).toThrow(/strictly increasing/);
    expect(() => r.histogram("c", "C.", [], [1, NaN])).toThrow(/not a finite number/);
    expect(() => r.histogram("d", "D.", [], [-Infinity, 1])).toThrow(/not a finite number/);
    expect(() => r.histogram("e", "E.", [], [Infinity, 1])).toThrow(/not a finite number/);
    expect(() => r.histogram("f", "F.", [], [-1, 0, 0.5])).not.toThrow();
  });

  test("many buckets: binary search agrees with a linear scan", () => {
    const bounds = Array.from({ length: 40 }, (_, i) => i * 0.5 - 3);
    const h = createRegistry().histogram("h", "H.", [], bounds);
    const values = Array.from({ length: 500 }, (_, i) => ((i * 7919) % 1000) / 40 - 5);
    for (const v of values) h.observe(v);
    const expected = bounds.map((b) => values.filter((v) => v <= b).length);
    expect(h.get().buckets.slice(0, -1).map(([, c]) => c)).toEqual(expected);
    expect(h.get().buckets.at(-1)).toEqual([Infinity, values.length]);
  });
});

describe("promtool check metrics", () => {
  const promtool = Bun.which("promtool");
  const install = "promtool missing: apt-get install prometheus";

  /** A registry with every kind, labeled and not, special values and nasty label values. */
  function full(withColonNames: boolean): Registry {
    const r = createRegistry();
    const nasty = [
      "plain",
      'dq"uote',
      "back\\slash",
      "trailing\\",
      "new\nline",
      '\\"\n',
      "tab\tcr\r",
      "}{,= ",
      "模型 🚀",
      "",
    ];
    const req = r.counter("switchyard_requests", 'Proxied requests, "by" model \\ status.\nSecond line.', ["model", "status"]);
    nasty.forEach((m, i) => req.labels({ model: m, status: 200 + i }).inc(i + 1));
    r.counter("switchyard_swaps_total", "Model swaps.").inc(2);
    r.counter("switchyard_idle_total", "Never incremented.");
    const g = r.gauge("switchyard_inflight_requests", "In-flight requests.", ["model"]);
    g.labels({ model: nasty[1] }).set(3);
    g.labels({ model: "inf" }).set(Infinity);
    g.labels({ model: "ninf" }).set(-Infinity);
    g.labels({ model: "nan" }).set(NaN);
    g.labels({ model: "tiny" }).set(1e-9);
    r.gauge("switchyard_up", "1 while serving.").set(1);
    r.gaugeFn("switchyard_process_resident_memory_bytes", "RSS.", [], () => [[{}, 123456789]]);
    r.gaugeFn("switchyard_queue_depth", "Queued requests.", ["model"], () => nasty.map((m, i) => [{ model: m }, i] as const));
    const lat = r.histogram("switchyard_request_duration_seconds", "Request latency.", ["model"], [0.01, 0.1, 1, 10]);
    for (const m of nasty) for (const v of [0.005, 0.2, 3, 42]) lat.labels({ model: m }).observe(v);
    r.histogram("switchyard_body_size_bytes", "Body sizes.", [], [1024, 65536]).observe(2000);
    if (withColonNames) {
      r.gaugeFn("vllm:num_requests_waiting", "Waiting (vLLM).", ["model_name"], () => [[{ model_name: nasty[4] }, 2]]);
      r.counter("vllm:prompt_tokens", "Prompt tokens (vLLM).", ["model_name"]).labels({ model_name: nasty[2] }).inc(7);
      r.histogram("vllm:e2e_request_latency_seconds", "E2E latency (vLLM).", ["model_name"], [1]).labels({ model_name: "m" }).observe(0.5);
    }
    return r;
  }

  function check(text: string): { code: number; out: string } {
    if (promtool === null) throw new Error(install);
    const p = Bun.spawnSync([promtool, "check", "metrics"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
    return { code: p.exitCode ?? -1, out: `${p.stdout.toString()}${p.stderr.toString()}` };
  }

  if (promtool === null) {
    if (process.env.CI) {
      test("promtool is installed", () => {
        throw new Error(install);
      });
    } else {
      console.log(`metrics-registry: skipping promtool validation (${install})`);
      test.skip("registry output passes promtool (promtool not installed)", () => {});
    }
    return;
  }

  test("every metric kind with nasty label values parses and lints clean (exit 0, no output)", () => {
    const text = full(false).render();
    expect(text).toContain('model="\\\\\\"\\n"');
    expect(check(text)).toEqual({ code: 0, out: "" });
  });

  test("colon names parse; the only complaint allowed is promtool's ':' lint", () => {
    const text = full(true).render();
    expect(text).toContain("# TYPE vllm:prompt_tokens_total counter\n");
    const { code, out } = check(text);
    // promtool's linter flags ':' in any metric name (exit 3, "lint problems"); a parse error is exit 1.
    const lines = out.split("\n").filter((l) => l !== "");
    const colonLint = /^vllm:(num_requests_waiting|prompt_tokens_total|e2e_request_latency_seconds) metric names should not contain ':'$/;
    if (code === 0) expect(out).toBe("");
    else {
      expect(code).toBe(3);
      expect(lines.filter((l) => !colonLint.test(l))).toEqual([]);
      expect(lines.length).toBe(3);
    }
  });

  test("the harness does catch a parse error (control)", () => {
    const { code, out } = check('# TYPE x gauge\nx{a="unterminated} 1\n');
    expect(code).toBe(1);
    expect(out).toContain("parsing error");
  });
});
