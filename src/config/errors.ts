/**
 * Config error reporting: issues with a key path and a YAML position, the error that carries them,
 * path formatting and "did you mean" suggestions.
 */

/** One segment of a key path: a mapping key or a sequence index. */
export type PathSeg = string | number;

/** One problem found in a config file. `line`/`column` are 1-based positions in the original text. */
export interface ConfigIssue {
  /** Dotted key path such as `models.llama.ttl` (empty when the problem is not tied to a key). */
  path: string;
  line: number | null;
  column: number | null;
  message: string;
  /** The file it is in (set by the loader; a config may come from several files). */
  file?: string;
}

/** Thrown by the loader when a config cannot be used; carries every issue found in one pass. */
export class ConfigError extends Error {
  constructor(
    readonly issues: ConfigIssue[],
    readonly fileName: string = "config.yaml",
  ) {
    super(formatIssues(issues, fileName));
    this.name = "ConfigError";
  }

  /** One line per issue: `config.yaml:12:5: models.llama.tll: unknown key, did you mean ttl?` (the issue's own file first). */
  format(): string {
    return formatIssues(this.issues, this.fileName);
  }
}

/** Formats issues one per line, `file:line:col: path: message`, omitting what is unknown. */
export function formatIssues(issues: readonly ConfigIssue[], fileName: string): string {
  return issues.map((i) => formatIssue(i, fileName)).join("\n");
}

/** Formats one issue (or warning) as `file:line:col: path: message`; the issue's own file wins over `fileName`. */
export function formatIssue(
  issue: { path: string; line: number | null; column?: number | null; message: string; file?: string },
  fileName: string,
): string {
  let where = issue.file ?? fileName;
  if (issue.line !== null) {
    where += `:${issue.line}`;
    if (issue.column !== null && issue.column !== undefined) where += `:${issue.column}`;
  }
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}

const PLAIN_KEY = /^[^\s.[\]"'`]+$/;

/** Renders path segments as `a.b[0].c`; keys with dots, brackets, spaces or quotes become `["k.e.y"]`. */
export function formatPath(path: readonly PathSeg[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = [];
  for (let i = 0; i <= m; i++) {
    d.push(new Array<number>(n + 1).fill(0));
    d[i][0] = i;
  }
  for (let j = 0; j <= n; j++) d[0][j] = j;
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i][j] = v;
    }
  }
  return d[m][n];
}

/** The closest candidate to `word` (case-insensitive, small edit distance), or null when none is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string | null {
  const w = word.toLowerCase();
  let best: string | null = null;
  let bestDist = Infinity;
  for (const c of candidates) {
    const dist = editDistance(w, c.toLowerCase());
    const limit = Math.max(1, Math.min(3, Math.floor(Math.max(w.length, c.length) / 3)));
    if (dist <= limit && dist < bestDist) {
      best = c;
      bestDist = dist;
    }
  }
  return best;
}
