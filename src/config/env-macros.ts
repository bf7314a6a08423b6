/**
 * `${env.NAME}` substitution on the raw config text, before YAML parsing (so `[${env.KEY}]` works),
 * skipping YAML comments. Values are sanitised as llama-swap does: newline, CR and NUL are refused,
 * backslash and double quote are escaped for double-quoted YAML strings.
 */
import { Lexer } from "yaml";

/** A problem found while substituting; `offset` indexes the original text. */
export interface EnvIssue {
  offset: number;
  message: string;
}

/** The substituted text, the issues, and a map from offsets in the new text back to the original. */
export interface EnvResult {
  text: string;
  issues: EnvIssue[];
  toOriginalOffset(offset: number): number;
}

const ENV_MACRO = /\$\{env\.([a-zA-Z_][a-zA-Z0-9_]*)\}/g;

// yaml's Lexer emits these zero-width control tokens besides slices of the source.
const CONTROL_TOKENS = new Set(["\x02", "\x18", "\x1f"]);

/** Ranges [start, end) of YAML comments in `text`, found with yaml's lexer (block scalars are not comments). */
export function commentRanges(text: string): [number, number][] {
  const ranges: [number, number][] = [];
  let offset = 0;
  let prev = "";
  for (const tok of new Lexer().lex(text)) {
    if (CONTROL_TOKENS.has(tok)) {
      prev = tok;
      continue;
    }
    // A block scalar's body follows a SCALAR control token and may itself start with '#'.
    if (tok.startsWith("#") && prev !== "\x1f") ranges.push([offset, offset + tok.length]);
    offset += tok.length;
    prev = tok;
  }
  return ranges;
}

/** Replaces `${env.NAME}` outside comments with the sanitised value of `env[NAME]`. */
export function substituteEnvMacros(text: string, env: Record<string, string | undefined>): EnvResult {
  const comments = commentRanges(text);
  const inComment = (at: number): boolean => comments.some(([s, e]) => at >= s && at < e);
  const issues: EnvIssue[] = [];
  // [offset in new text, length in new text, offset in original, length in original]
  const edits: [number, number, number, number][] = [];
  let out = "";
  let last = 0;
  let delta = 0;
  for (const match of text.matchAll(ENV_MACRO)) {
    const at = match.index;
    if (inComment(at)) continue;
    const name = match[1];
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    if (value === undefined) {
      issues.push({ offset: at, message: `environment variable ${name} is not set` });
      continue;
    }
    if (/[\n\r\0]/.test(value)) {
      issues.push({ offset: at, message: `environment variable ${name} contains a newline or NUL, which cannot be substituted` });
      continue;
    }
    const sanitised = value.replaceAll("\\", "\\\\").replaceAll('"', '\\"');
    out += text.slice(last, at);
    edits.push([at + delta, sanitised.length, at, match[0].length]);
    out += sanitised;
    delta += sanitised.length - match[0].length;
    last = at + match[0].length;
  }
  out += text.slice(last);

  const toOriginalOffset = (offset: number): number => {
    let shift = 0;
    for (const [newAt, newLen, origAt, origLen] of edits) {
      if (offset < newAt) break;
      if (offset < newAt + newLen) return origAt;
      shift = origAt + origLen - (newAt + newLen);
    }
    return offset + shift;
  };
  return { text: out, issues, toOriginalOffset };
}
