/**
 * A small Prometheus metrics registry rendering the text exposition format, version 0.0.4
 * (web-standard only, no dependencies): counters, gauges (set directly, or read by a callback at
 * scrape time), histograms, and `render()` for a `/metrics` response.
 *
 * Names are checked at registration (metric names `[a-zA-Z_:][a-zA-Z0-9_:]*`, so vLLM-style
 * `vllm:num_requests_waiting` is fine; label names `[a-zA-Z_][a-zA-Z0-9_]*`, not `__`-prefixed)
 * and a bad one throws. A counter's name gets the conventional `_total` suffix unless it already
 * ends in it. Hot path: `labels({...})` returns a cached child per label tuple (one map lookup);
 * keep the child and `inc()`/`observe()` on it is a field update (a histogram adds a binary search
 * over its buckets). Output is deterministic: families sorted by name, series by their labels,
 * each family once with its `# HELP` and `# TYPE` lines; a family with no series is left out.
 */

/** The `Content-Type` of what `render()` returns. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The client libraries' default histogram buckets (seconds), for request latencies. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One value per declared label name (numbers are rendered with `String()`). */
export type LabelValues<L extends string> = Readonly<Record<L, string | number>>;

/** A counter's series: only goes up. */
export interface CounterChild {
  /** Adds `n` (default 1); throws on a negative or NaN amount. */
  inc(n?: number): void;
  /** The current value. */
  get(): number;
}

/** A counter family; `inc()`/`get()` on the family itself work only when it has no labels. */
export interface Counter<L extends string> extends CounterChild {
  /** The cached series for this label tuple (created at 0 on first use). */
  labels(values: LabelValues<L>): CounterChild;
}

/** A gauge's series: a value that goes up and down. */
export interface GaugeChild {
  /** Sets the value. */
  set(v: number): void;
  /** Adds `n` (default 1). */
  inc(n?: number): void;
  /** Subtracts `n` (default 1). */
  dec(n?: number): void;
  /** The current value. */
  get(): number;
}

/** A gauge family; `set()`/`inc()`/`dec()`/`get()` on the family itself work only when it has no labels. */
export interface Gauge<L extends string> extends GaugeChild {
  /** The cached series for this label tuple (created at 0 on first use). */
  labels(values: LabelValues<L>): GaugeChild;
}

/** What a histogram series holds: cumulative bucket counts (the last `le` is `Infinity`), sum and count. */
export interface HistogramSnapshot {
  buckets: [le: number, cumulativeCount: number][];
  sum: number;
  count: number;
}

/** A histogram's series. */
export interface HistogramChild {
  /** Records one observation (it lands in the first bucket whose bound is >= v; NaN only in `+Inf`). */
  observe(v: number): void;
  /** The current cumulative buckets, sum and count. */
  get(): HistogramSnapshot;
}

/** A histogram family; `observe()`/`get()` on the family itself work only when it has no labels. */
export interface Histogram<L extends string> extends HistogramChild {
  /** The cached series for this label tuple (created empty on first use). */
  labels(values: LabelValues<L>): HistogramChild;
}

/** A set of metric families rendered together. */
export interface Registry {
  /** Registers a counter; `name` gets a `_total` suffix unless it already has one. */
  counter<const L extends string = never>(name: string, help: string, labelNames?: readonly L[]): Counter<L>;
  /** Registers a gauge set by the caller. */
  gauge<const L extends string = never>(name: string, help: string, labelNames?: readonly L[]): Gauge<L>;
  /** Registers a gauge whose series `collect` yields at each `render()` (a label tuple given twice: the last wins). */
  gaugeFn<const L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[],
    collect: () => Iterable<readonly [LabelValues<L>, number]>,
  ): void;
  /** Registers a histogram; `buckets` are strictly increasing upper bounds (`+Inf` is added). */
  histogram<const L extends string = never>(
    name: string,
    help: string,
    labelNames?: readonly L[],
    buckets?: readonly number[],
  ): Histogram<L>;
  /** The text exposition (format 0.0.4) of every family; "" when there is nothing to show. */
  render(): string;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Renders a sample value or bucket bound the way Prometheus writes and parses them. */
export function formatValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  // String() gives the shortest round-tripping form: integers below 1e21 without exponent, -0 as "0".
  return String(n);
}

/** Escapes a label value for the text format: backslash, double quote and newline. */
export function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`)) : v;
}

/** Escapes `# HELP` text for the text format: backslash and newline. */
export function escapeHelp(v: string): string {
  return /[\\\n]/.test(v) ? v.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\")) : v;
}

function checkMetricName(name: string): void {
  if (typeof name !== "string" || !METRIC_NAME.test(name)) {
    throw new Error(`metrics: invalid metric name ${JSON.stringify(name)} (must match [a-zA-Z_:][a-zA-Z0-9_:]*)`);
  }
}

function checkLabelNames(metric: string, names: readonly string[], reserved: readonly string[]): void {
  const seen = new Set<string>();
  for (const l of names) {
    if (typeof l !== "string" || !LABEL_NAME.test(l)) {
      throw new Error(`metrics: ${metric}: invalid label name ${JSON.stringify(l)} (must match [a-zA-Z_][a-zA-Z0-9_]*)`);
    }
    if (l.startsWith("__")) throw new Error(`metrics: ${metric}: label name "${l}" is reserved (starts with "__")`);
    if (reserved.includes(l)) throw new Error(`metrics: ${metric}: label name "${l}" is reserved for this metric type`);
    if (seen.has(l)) throw new Error(`metrics: ${metric}: label name "${l}" given twice`);
    seen.add(l);
  }
}

/** `name="value",...` in declared order, validating that exactly the declared names are given. */
function labelKey(metric: string, names: readonly string[], values: Readonly<Record<string, unknown>>): string {
  if (values === null || typeof values !== "object") throw new Error(`metrics: ${metric}: labels must be an object`);
  let given = 0;
  for (const _ in values) given++;
  let key = "";
  for (let i = 0; i < names.length; i++) {
    const n = names[i];
    const v = values[n];
    if (typeof v !== "string" && typeof v !== "number") {
      throw new Error(
        v === undefined
          ? `metrics: ${metric}: missing label "${n}" (expected ${names.join(", ") || "no labels"})`
          : `metrics: ${metric}: label "${n}" must be a string or number`,
      );
    }
    key += `${i === 0 ? "" : ","}${n}="${escapeLabelValue(String(v))}"`;
  }
  if (given !== names.length) {
    const extra = Object.keys(values).filter((k) => !names.includes(k));
    throw new Error(`metrics: ${metric}: unexpected label(s) ${extra.join(", ")} (expected ${names.join(", ") || "no labels"})`);
  }
  return key;
}

/** A level of ChildMap's lookup by raw label values: the next level, or the child at the last. */
type RawNode<C> = Map<string | number, RawNode<C> | C>;

/** One registered family: its name, the sample names it writes, and how to render its series. */
interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  sampleNames: string[];
  /** Appends the series lines (each ending in "\n"); returns "" when there are none. */
  series(): string;
}

/** Children keyed by their rendered label block, with a cached sorted order for rendering. */
class ChildMap<C> {
  private readonly map = new Map<string, C>();
  /** The same children by raw label values, a map level per label (only sets labelKey accepted). */
  private readonly byRaw: RawNode<C> = new Map();
  private sorted: [string, C][] | null = null;
  constructor(
    private readonly metric: string,
    private readonly names: readonly string[],
    private readonly make: () => C,
  ) {}

  get(values: Readonly<Record<string, unknown>>): C {
    // A series seen before is found by its raw values, one map level per label, without rendering
    // and escaping its label block: counters and histograms are updated on every request (issue 16).
    const seen = this.known(values);
    if (seen !== undefined) return seen;
    const key = labelKey(this.metric, this.names, values);
    let c = this.map.get(key);
    if (c === undefined) {
      c = this.make();
      this.map.set(key, c);
      this.sorted = null;
    }
    this.remember(values, c);
    return c;
  }

  /** The child of these values if they were accepted before (exactly the declared names, string or number values). */
  private known(values: Readonly<Record<string, unknown>>): C | undefined {
    if (values === null || typeof values !== "object") return undefined;
    let given = 0;
    for (const _ in values) given++;
    if (given !== this.names.length || given === 0) return undefined;
    let node: RawNode<C> | C | undefined = this.byRaw;
    for (let i = 0; i < this.names.length; i++) {
      const v = values[this.names[i]];
      if (typeof v !== "string" && typeof v !== "number") return undefined;
      node = (node as RawNode<C>).get(v);
      if (node === undefined) return undefined;
    }
    return node as C;
  }

  /** File `c` under its raw values (called after labelKey accepted them). */
  private remember(values: Readonly<Record<string, unknown>>, c: C): void {
    let node = this.byRaw;
    const last = this.names.length - 1;
    if (last < 0) return;
    for (let i = 0; i < last; i++) {
      const v = values[this.names[i]] as string | number;
      let next = node.get(v) as RawNode<C> | undefined;
      if (next === undefined) node.set(v, (next = new Map()));
      node = next;
    }
    node.set(values[this.names[last]] as string | number, c);
  }

  entries(): [string, C][] {
    if (this.sorted === null) this.sorted = [...this.map].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return this.sorted;
  }
}

class CounterSeries implements CounterChild {
  value = 0;
  constructor(private readonly metric: string) {}
  inc(n = 1): void {
    if (!(n >= 0)) throw new Error(`metrics: ${this.metric}: counter increment must be >= 0 (got ${n})`);
    this.value += n;
  }
  get(): number {
    return this.value;
  }
}

class GaugeSeries implements GaugeChild {
  value = 0;
  set(v: number): void {
    this.value = v;
  }
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
  get(): number {
    return this.value;
  }
}

class HistogramSeries implements HistogramChild {
  /** Per-bucket (not cumulative) counts; the last slot is `+Inf`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    const b = this.bounds;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (v <= b[mid]) hi = mid;
      else lo = mid + 1;
    }
    // NaN compares false everywhere, so it lands in +Inf (as client_golang does).
    this.counts[lo]++;
    this.sum += v;
    this.count++;
  }
  get(): HistogramSnapshot {
    const buckets: [number, number][] = [];
    let acc = 0;
    for (let i = 0; i < this.counts.length; i++) {
      acc += this.counts[i];
      buckets.push([i < this.bounds.length ? this.bounds[i] : Infinity, acc]);
    }
    return { buckets, sum: this.sum, count: this.count };
  }
}

function checkBuckets(metric: string, buckets: readonly number[]): number[] {
  if (!Array.isArray(buckets)) throw new Error(`metrics: ${metric}: buckets must be an array of numbers`);
  const out = buckets.slice();
  if (out.length > 0 && out[out.length - 1] === Infinity) out.pop();
  for (let i = 0; i < out.length; i++) {
    const b = out[i];
    if (typeof b !== "number" || !Number.isFinite(b)) {
      throw new Error(`metrics: ${metric}: bucket bound ${String(b)} is not a finite number (+Inf may only come last)`);
    }
    if (i > 0 && !(b > out[i - 1])) throw new Error(`metrics: ${metric}: buckets must be strictly increasing (${out[i - 1]} then ${b})`);
  }
  return out;
}

/** Forwards a family's unlabeled methods to its `{}` child, refusing when the family has labels. */
function unlabeled<C>(metric: string, names: readonly string[], children: ChildMap<C>): () => C {
  let child: C | undefined;
  if (names.length === 0) child = children.get({});
  return () => {
    if (child === undefined) throw new Error(`metrics: ${metric} has labels (${names.join(", ")}); use .labels({...})`);
    return child;
  };
}

/** Creates an empty registry. */
export function createRegistry(): Registry {
  const families = new Map<string, Family>();
  /** Every family and sample name in use, so `x_count` (gauge) cannot clash with histogram `x`. */
  const taken = new Map<string, string>();
  let sorted: Family[] | null = null;

  function add(f: Family): void {
    for (const n of [f.name, ...f.sampleNames]) {
      const owner = taken.get(n);
      if (owner !== undefined) {
        throw new Error(
          owner === f.name ? `metrics: ${f.name} is already registered` : `metrics: ${f.name}: name "${n}" clashes with metric ${owner}`,
        );
      }
    }
    for (const n of [f.name, ...f.sampleNames]) taken.set(n, f.name);
    families.set(f.name, f);
    sorted = null;
  }

  function checkHelp(metric: string, help: string): void {
    if (typeof help !== "string" || help.trim() === "") throw new Error(`metrics: ${metric}: help text is required`);
  }

  /** Lines `name{labels} value` for simple (counter/gauge) series. */
  function simpleLines(name: string, entries: Iterable<readonly [string, number]>): string {
    let out = "";
    for (const [key, value] of entries) out += `${name}${key === "" ? "" : `{${key}}`} ${formatValue(value)}\n`;
    return out;
  }

  return {
    counter<const L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
      checkMetricName(name);
      const full = name.endsWith("_total") ? name : `${name}_total`;
      checkHelp(full, help);
      checkLabelNames(full, labelNames, []);
      const names = labelNames.slice();
      const children = new ChildMap(full, names, () => new CounterSeries(full));
      add({
        name: full,
        help,
        type: "counter",
        sampleNames: [full],
        series: () => simpleLines(full, children.entries().map(([k, c]) => [k, c.value] as const)),
      });
      const self = unlabeled(full, names, children);
      return {
        labels: (values) => children.get(values),
        inc: (n) => self().inc(n),
        get: () => self().get(),
      };
    },

    gauge<const L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
      checkMetricName(name);
      checkHelp(name, help);
      checkLabelNames(name, labelNames, []);
      const names = labelNames.slice();
      const children = new ChildMap(name, names, () => new GaugeSeries());
      add({
        name,
        help,
        type: "gauge",
        sampleNames: [name],
        series: () => simpleLines(name, children.entries().map(([k, c]) => [k, c.value] as const)),
      });
      const self = unlabeled(name, names, children);
      return {
        labels: (values) => children.get(values),
        set: (v) => self().set(v),
        inc: (n) => self().inc(n),
        dec: (n) => self().dec(n),
        get: () => self().get(),
      };
    },

    gaugeFn<const L extends string = never>(
      name: string,
      help: string,
      labelNames: readonly L[],
      collect: () => Iterable<readonly [LabelValues<L>, number]>,
    ): void {
      checkMetricName(name);
      checkHelp(name, help);
      checkLabelNames(name, labelNames, []);
      if (typeof collect !== "function") throw new Error(`metrics: ${name}: collect must be a function`);
      const names = labelNames.slice();
      add({
        name,
        help,
        type: "gauge",
        sampleNames: [name],
        series: () => {
          const byKey = new Map<string, number>();
          for (const [labels, value] of collect()) {
            if (typeof value !== "number") throw new Error(`metrics: ${name}: collected value must be a number`);
            byKey.set(labelKey(name, names, labels), value);
          }
          return simpleLines(name, [...byKey].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
        },
      });
    },

    histogram<const L extends string = never>(
      name: string,
      help: string,
      labelNames: readonly L[] = [],
      buckets: readonly number[] = DEFAULT_BUCKETS,
    ): Histogram<L> {
      checkMetricName(name);
      checkHelp(name, help);
      checkLabelNames(name, labelNames, ["le"]);
      const bounds = checkBuckets(name, buckets);
      const les = [...bounds.map(formatValue), "+Inf"];
      const names = labelNames.slice();
      const children = new ChildMap(name, names, () => new HistogramSeries(bounds));
      add({
        name,
        help,
        type: "histogram",
        sampleNames: [`${name}_bucket`, `${name}_sum`, `${name}_count`],
        series: () => {
          let out = "";
          for (const [key, h] of children.entries()) {
            const pre = key === "" ? "" : `${key},`;
            const braces = key === "" ? "" : `{${key}}`;
            let acc = 0;
            for (let i = 0; i < les.length; i++) {
              acc += h.counts[i];
              out += `${name}_bucket{${pre}le="${les[i]}"} ${formatValue(acc)}\n`;
            }
            out += `${name}_sum${braces} ${formatValue(h.sum)}\n${name}_count${braces} ${formatValue(h.count)}\n`;
          }
          return out;
        },
      });
      const self = unlabeled(name, names, children);
      return {
        labels: (values) => children.get(values),
        observe: (v) => self().observe(v),
        get: () => self().get(),
      };
    },

    render(): string {
      if (sorted === null) sorted = [...families.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      let out = "";
      for (const f of sorted) {
        const body = f.series();
        if (body === "") continue;
        out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n${body}`;
      }
      return out;
    },
  };
}
