/**
 * Re-export of the backends' own Prometheus metrics (`metrics.upstream`, llama-swap #262): each
 * running model's `/metrics` text (llama-server with `--metrics`: `llamacpp:*`), every sample
 * given a `model` label, families merged across models so each has one HELP and one TYPE line,
 * then `switchyard_upstream_metrics_up{model}` saying which backends answered this scrape.
 * A backend's own `model` label is kept as `exported_model` (Prometheus' rule for clashing
 * labels, `exported_exported_model` when that is taken too; the labels are read outside quoted
 * values); a family switchyard exports itself is left out, so the output stays valid.
 * Text in, text out (web-standard).
 */

/** One backend's answer to this scrape: its exposition text, or null when it gave none. */
export interface UpstreamScrape {
  model: string;
  text: string | null;
}

interface Family {
  name: string;
  help: string | null;
  type: string | null;
  samples: string[];
}

/** Suffixes of a histogram's or summary's sample names. */
const SUFFIXES = ["_bucket", "_sum", "_count", "_created", "_total", "_info"];
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

/** The family a sample named `name` belongs to, given the families typed so far in its text. */
function familyOf(name: string, typed: ReadonlyMap<string, Family>): string {
  if (typed.has(name)) return name;
  for (const s of SUFFIXES) if (name.endsWith(s) && typed.has(name.slice(0, -s.length))) return name.slice(0, -s.length);
  return name;
}

/** A label value escaped for the exposition format. */
function labelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** A sample's value and optional timestamp, as the exposition format writes them. */
const VALUE = /^[ \t]+([-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf|NaN))(?:[ \t]+-?[0-9]+)?[ \t]*$/;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * A label block's pairs (name and the value's text with its quotes), read outside quoted values:
 * a value may hold `,`, `=` and `}`. Null when malformed.
 */
function labelPairs(block: string): [string, string][] | null {
  const pairs: [string, string][] = [];
  let i = 0;
  for (;;) {
    while (block[i] === " " || block[i] === "\t") i++;
    if (i >= block.length) return pairs;
    const eq = block.indexOf("=", i);
    if (eq < 0) return null;
    const name = block.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) return null;
    i = eq + 1;
    while (block[i] === " " || block[i] === "\t") i++;
    if (block[i] !== '"') return null;
    let j = i + 1;
    for (; j < block.length && block[j] !== '"'; j++) if (block[j] === "\\") j++;
    if (j >= block.length) return null;
    pairs.push([name, block.slice(i, j + 1)]);
    i = j + 1;
    while (block[i] === " " || block[i] === "\t") i++;
    if (i >= block.length) return pairs;
    if (block[i] !== ",") return null;
    i++;
  }
}

/** `sample` (name, optional labels, value, optional timestamp) with model="…" as its first label; null when malformed. */
export function withModelLabel(sample: string, model: string): string | null {
  const name = NAME.exec(sample)?.[0];
  if (!name) return null;
  let pairs: [string, string][] = [];
  let rest = sample.slice(name.length);
  if (rest.startsWith("{")) {
    // The closing brace outside quoted values.
    let i = 1;
    for (let quoted = false; i < rest.length; i++) {
      const c = rest[i];
      if (quoted && c === "\\") i++;
      else if (c === '"') quoted = !quoted;
      else if (c === "}" && !quoted) break;
    }
    if (i >= rest.length) return null;
    const read = labelPairs(rest.slice(1, i));
    if (read === null) return null;
    pairs = read;
    rest = rest.slice(i + 1);
  }
  if (!VALUE.test(rest)) return null;
  // A backend's own model label would clash with ours: it becomes exported_model, or
  // exported_exported_model when that is taken too (Prometheus' rule for clashing labels).
  const names = new Set(pairs.map(([n]) => n));
  if (names.size !== pairs.length) return null;
  let renamed = "model";
  if (names.has("model")) {
    do renamed = `exported_${renamed}`;
    while (names.has(renamed));
  }
  const labels = [`model="${labelValue(model)}"`, ...pairs.map(([n, v]) => `${n === "model" ? renamed : n}=${v}`)];
  return `${name}{${labels.join(",")}}${rest}`;
}

/**
 * The merged exposition of every scrape, then the up gauge. `reserved`: family names switchyard
 * exports itself (left out of the re-export). Malformed lines are dropped.
 */
export function relabelUpstreamMetrics(scrapes: readonly UpstreamScrape[], reserved: ReadonlySet<string>): string {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, help: null, type: null, samples: [] }));
    return f;
  };
  for (const { model, text } of scrapes) {
    if (text === null) continue;
    // Families typed in this backend's text, so its _bucket/_sum/_count lines find their family.
    const typed = new Map<string, Family>();
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (line === "") continue;
      if (line.startsWith("#")) {
        const m = /^#\s*(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(.*)$/.exec(line);
        if (!m || reserved.has(m[2])) continue;
        const f = family(m[2]);
        typed.set(m[2], f);
        if (m[1] === "HELP") f.help ??= m[3];
        else f.type ??= m[3];
        continue;
      }
      const name = NAME.exec(line)?.[0];
      if (!name) continue;
      const fam = familyOf(name, typed);
      if (reserved.has(fam)) continue;
      const relabelled = withModelLabel(line, model);
      if (relabelled) family(fam).samples.push(relabelled);
    }
  }
  const out: string[] = [];
  for (const f of families.values()) {
    if (f.samples.length === 0) continue;
    if (f.help !== null) out.push(`# HELP ${f.name} ${f.help}`);
    if (f.type !== null) out.push(`# TYPE ${f.name} ${f.type}`);
    out.push(...f.samples);
  }
  if (scrapes.length > 0) {
    out.push("# HELP switchyard_upstream_metrics_up Whether a running model's own /metrics answered this scrape (metrics.upstream).");
    out.push("# TYPE switchyard_upstream_metrics_up gauge");
    for (const s of scrapes) out.push(`switchyard_upstream_metrics_up{model="${labelValue(s.model)}"} ${s.text === null ? 0 : 1}`);
  }
  return out.length > 0 ? `${out.join("\n")}\n` : "";
}

/** The family names of an exposition text (its TYPE lines). */
export function familyNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) /gm)) names.add(m[1]);
  return names;
}
