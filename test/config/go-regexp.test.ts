/** Go (RE2) regular expressions as JS RegExps: the same matches, and RE2's refusals kept. */
import { describe, expect, test } from "bun:test";
import { compileGoRegexp, GoRegexpError } from "../../src/config/go-regexp.ts";

// [pattern, strings it matches, strings it does not] — unanchored, like Go's MatchString.
const matches: [string, string[], string[]][] = [
  // llama-swap's default and the patterns of its upstream_test.go
  [".*\\.(js|json|css|png|gif|jpg|jpeg|ico|txt)$", ["/foo.js", "/bar/baz.json", "/static/img.png", "/notes.txt", "/favicon.ico"], ["/v1/chat/completions", "/v1/models", "/health"]],
  ["^/static/.*", ["/static/foo.png"], ["/v1/chat/completions", "/x/static/"]],
  ["(?i)\\.PNG$", ["/a.png", "/A.PNG"], ["/a.png/x"]],
  ["(?i:ab)c", ["ABc"], ["ABC"]],
  ["(?P<ext>js|css)$", ["/a.js"], ["/a.ts"]],
  ["[[:digit:]]{3}", ["/v123"], ["/v12"]],
  ["[^[:alpha:]]$", ["/a1"], ["/ab"]],
  ["\\Qa.b\\E", ["/a.b"], ["/axb"]],
  ["\\x{41}\\x42\\101", ["ABA"], ["AB"]],
  ["\\pL\\p{Greek}", ["aλ"], ["a1"]],
  ["\\Aabc\\z", ["abc"], ["abc\n", "xabc"]],
  ["a\\-b\\#c", ["a-b#c"], ["ab#c"]],
  ["a{,", ["a{,"], ["a"]],
  ["[]a]", ["]"], ["b"]],
];

const refused: [string, string][] = [
  ["[invalid(", "missing closing ]"],
  ["(?=x)", "look-ahead and look-behind are not supported"],
  ["(?<!x)y", "look-ahead and look-behind are not supported"],
  ["(a)\\1", "backreferences (\\1) are not supported"],
  ["\\k<n>", "invalid escape \\k"],
  ["\\Z", "invalid escape \\Z"],
  ["(?U)a+", "the ungreedy flag (?U) is not supported"],
  ["a(?i)b", "supported only at the start of a pattern"],
  ["[[:nope:]]", "unsupported character class [:nope:]"],
  ["*a", "Nothing to repeat"],
];

describe("compileGoRegexp", () => {
  for (const [pattern, yes, no] of matches) {
    test(pattern, () => {
      const re = compileGoRegexp(pattern);
      for (const s of yes) expect([s, re.test(s)]).toEqual([s, true]);
      for (const s of no) expect([s, re.test(s)]).toEqual([s, false]);
    });
  }
  for (const [pattern, message] of refused) {
    test(`refuses ${pattern}`, () => {
      let err: unknown = null;
      try {
        compileGoRegexp(pattern);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GoRegexpError);
      expect((err as Error).message.toLowerCase()).toContain(message.toLowerCase());
    });
  }
});
