/**
 * Go regular expressions (RE2 syntax, what llama-swap's `upstream.ignorePaths` are) as JavaScript
 * RegExps with the same matches: `(?P<name>…)`, `\A`, `\z`, `\Q…\E`, `[[:alpha:]]`, `\pL`,
 * `\x{…}`, octal escapes and escaped punctuation are translated; what RE2 refuses (look-around,
 * backreferences, unknown escapes) is refused here too, so a pattern llama-swap would reject does
 * not quietly mean something else. Flags `(?ims)` are taken at the very start of a pattern and as
 * scoped groups `(?i:…)`; a flag group in the middle of a pattern and the `U` flag are refused.
 * The result is unanchored, like Go's MatchString.
 */

/** A pattern that cannot be compiled; the message says why. */
export class GoRegexpError extends Error {}

const POSIX: Record<string, string> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

/** Unicode general categories (what `\p{X}` names without `Script=`). */
const CATEGORY = /^(?:[CLMNPSZ]|C[cfos]|L[lmotu]|M[cen]|N[dlo]|P[cdefios]|S[ckmo]|Z[lps])$/;

const hex = (cp: number): string => `\\u{${cp.toString(16)}}`;
const literal = (ch: string): string => (/[A-Za-z0-9_ ]/.test(ch) ? ch : hex(ch.codePointAt(0)!));

/** The JS text of a Go escape at `i` (pattern[i] is the backslash); returns the text and its length. */
function translateEscape(p: string, i: number, inClass: boolean, multiline: boolean): [string, number] {
  const c = p[i + 1];
  if (c === undefined) throw new GoRegexpError("trailing backslash at the end of the pattern");
  if ("dDsSwW".includes(c)) return [`\\${c}`, 2];
  if ("ftnrv".includes(c)) return [`\\${c}`, 2];
  if (c === "a") return ["\\x07", 2];
  if (!inClass) {
    if (c === "b" || c === "B") return [`\\${c}`, 2];
    if (c === "A") return [multiline ? "(?<![\\s\\S])" : "^", 2];
    if (c === "z") return ["(?![\\s\\S])", 2];
    if (c === "Q") {
      const end = p.indexOf("\\E", i + 2);
      const text = end < 0 ? p.slice(i + 2) : p.slice(i + 2, end);
      return [[...text].map(literal).join(""), end < 0 ? p.length - i : end + 2 - i];
    }
  }
  if (c === "x") {
    if (p[i + 2] === "{") {
      const m = /^\{([0-9A-Fa-f]{1,6})\}/.exec(p.slice(i + 2));
      if (!m || parseInt(m[1], 16) > 0x10ffff) throw new GoRegexpError(`invalid escape ${p.slice(i, i + 4)}…`);
      return [hex(parseInt(m[1], 16)), 2 + m[0].length];
    }
    const m = /^[0-9A-Fa-f]{2}/.exec(p.slice(i + 2));
    if (!m) throw new GoRegexpError(`invalid escape ${p.slice(i, i + 4)}`);
    return [hex(parseInt(m[0], 16)), 4];
  }
  if (c === "p" || c === "P") {
    let name: string;
    let len: number;
    if (p[i + 2] === "{") {
      const end = p.indexOf("}", i + 3);
      if (end < 0) throw new GoRegexpError(`invalid character class range ${p.slice(i)}`);
      name = p.slice(i + 3, end);
      len = end + 1 - i;
    } else {
      name = p[i + 2] ?? "";
      len = 3;
    }
    let negate = c === "P";
    if (name.startsWith("^")) {
      negate = !negate;
      name = name.slice(1);
    }
    if (!/^[A-Za-z_]+$/.test(name)) throw new GoRegexpError(`invalid character class ${p.slice(i, i + len)}`);
    const prop = name === "Any" ? "Any" : CATEGORY.test(name) ? name : `Script=${name}`;
    if (prop === "Any") return [negate ? "[^\\s\\S]" : "[\\s\\S]", len];
    return [`\\${negate ? "P" : "p"}{${prop}}`, len];
  }
  if (c >= "0" && c <= "7") {
    // Go: a lone non-zero digit is a backreference, which RE2 does not have.
    if (c !== "0" && !/[0-7]/.test(p[i + 2] ?? "")) throw new GoRegexpError(`backreferences (\\${c}) are not supported by Go's regular expressions`);
    const m = /^[0-7]{1,3}/.exec(p.slice(i + 1))!;
    return [hex(parseInt(m[0], 8)), 1 + m[0].length];
  }
  if (c.charCodeAt(0) < 128 && /[^A-Za-z0-9]/.test(c)) return [hex(c.charCodeAt(0)), 2];
  throw new GoRegexpError(`invalid escape \\${c}`);
}

/** Compile a Go regular expression; throws GoRegexpError with a reason a person can act on. */
export function compileGoRegexp(pattern: string): RegExp {
  let flags = "u";
  let i = 0;
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(pattern);
  if (lead) {
    for (const f of lead[1]) {
      if (f === "U") throw new GoRegexpError("the ungreedy flag (?U) is not supported by switchyard");
      if (!"ims".includes(f)) throw new GoRegexpError(`invalid or unsupported Perl syntax: (?${lead[1]})`);
      if (!flags.includes(f)) flags += f;
    }
    i = lead[0].length;
  }
  const multiline = flags.includes("m");
  let out = "";
  let inClass = false;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "\\") {
      const [text, n] = translateEscape(pattern, i, inClass, multiline);
      out += text;
      i += n;
      continue;
    }
    if (inClass) {
      if (c === "[" && pattern[i + 1] === ":") {
        const end = pattern.indexOf(":]", i + 2);
        const name = end < 0 ? "" : pattern.slice(i + 2, end);
        if (Object.hasOwn(POSIX, name)) {
          out += POSIX[name];
          i = end + 2;
          continue;
        }
        if (end >= 0 && /^\^?[a-z]+$/.test(name)) throw new GoRegexpError(`unsupported character class [:${name}:]`);
      }
      if (c === "]") inClass = false;
      out += c === "[" ? "\\[" : c;
      i++;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += "[";
      i++;
      if (pattern[i] === "^") {
        out += "^";
        i++;
      }
      // A "]" first in a class is a literal one in Go.
      if (pattern[i] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if (c === "(" && pattern[i + 1] === "?") {
      const rest = pattern.slice(i);
      if (rest.startsWith("(?P<")) {
        out += "(?<";
        i += 4;
      } else if (/^\(\?(=|!|<=|<!)/.test(rest)) {
        throw new GoRegexpError("look-ahead and look-behind are not supported by Go's regular expressions");
      } else if (rest.startsWith("(?<") || rest.startsWith("(?:")) {
        out += rest.slice(0, 3);
        i += 3;
      } else {
        const m = /^\(\?([a-zA-Z-]*)([:)])/.exec(rest);
        if (!m || m[2] === ")") throw new GoRegexpError(`flags ${m ? m[0] : "(?"} are supported only at the start of a pattern`);
        if (/[^ims-]/.test(m[1])) throw new GoRegexpError(`invalid or unsupported Perl syntax: ${m[0]}`);
        out += m[0];
        i += m[0].length;
      }
      continue;
    }
    if (c === "{") {
      // A repetition when well formed; a literal brace otherwise (Go), which JS's u mode wants escaped.
      const m = /^\{\d+(,\d*)?\}/.exec(pattern.slice(i));
      out += m ? m[0] : "\\{";
      i += m ? m[0].length : 1;
      continue;
    }
    out += c === "}" || c === "]" ? `\\${c}` : c;
    i++;
  }
  if (inClass) throw new GoRegexpError("missing closing ]");
  try {
    return new RegExp(out, flags);
  } catch (err) {
    const why = (err as Error).message.replace(/^Invalid regular expression: /, "");
    throw new GoRegexpError(why);
  }
}
