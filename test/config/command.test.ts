import { describe, expect, test } from "bun:test";
import { CommandSyntaxError, parseCommand, shellJoin, shellQuote, splitWords, stripCommentLines } from "../../src/config/command.ts";
import fc from "fast-check";

describe("parseCommand", () => {
  const cases: [string, string, string[]][] = [
    ["plain words", "llama-server --port 8080", ["llama-server", "--port", "8080"]],
    ["runs of blanks and tabs", "  a \t b\t\tc  ", ["a", "b", "c"]],
    ["newlines separate words", "a\nb\n\nc", ["a", "b", "c"]],
    ["comment lines dropped", "# start\nsrv\n  # indented comment\n--x 1", ["srv", "--x", "1"]],
    ["# inside a line is literal", "srv --tag a#b #c", ["srv", "--tag", "a#b", "#c"]],
    ["backslash continuation", "srv \\\n  --port 1 \\\n  --ctx 2", ["srv", "--port", "1", "--ctx", "2"]],
    ["single quotes are literal", "a 'b c' 'd\\e' '$x'", ["a", "b c", "d\\e", "$x"]],
    ["double quotes with escapes", 'a "b \\"c\\" \\\\ \\$ \\` \\n"', ["a", 'b "c" \\ $ ` \\n']],
    ["adjacent quoted parts join", `--x=a'b c'"d"e`, ["--x=ab cde"]],
    ["empty quoted words survive", `a '' ""`, ["a", "", ""]],
    ["backslash escapes outside quotes", "a\\ b c\\'d \\\\ e", ["a b", "c'd", "\\", "e"]],
    ["quotes span lines", "a 'b\nc'", ["a", "b\nc"]],
    ["llama-swap style block: tabs, blank lines, continuations, comments", "server run.py \\\n\t--name \"a b\" \\\n\n\t  # note\n\t--json '{\"k\": 1}'\n\t-q \"'x'\"\n\t", ["server", "run.py", "--name", "a b", "--json", '{"k": 1}', "-q", "'x'"]],
    ["empty", "", []],
    ["only comments", "# a\n  # b", []],
  ];
  for (const [name, input, want] of cases) test(name, () => expect(parseCommand(input)).toEqual(want));

  test("unterminated quotes are errors", () => {
    expect(() => parseCommand("a 'b")).toThrow(CommandSyntaxError);
    expect(() => parseCommand('a "b')).toThrow("unterminated double quote at offset 2");
    expect(() => parseCommand("a 'b")).toThrow("unterminated single quote at offset 2");
  });
});

describe("stripCommentLines", () => {
  test("keeps everything but comment lines", () => {
    expect(stripCommentLines("a\n # c ${x}\nb # d")).toBe("a\nb # d");
  });
});

describe("shellQuote / shellJoin", () => {
  test("safe words stay bare, others are single-quoted", () => {
    expect(shellQuote("/usr/bin/bun")).toBe("/usr/bin/bun");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote("")).toBe("''");
    expect(shellJoin(["/opt/my app/bin", "main.ts"])).toBe("'/opt/my app/bin' main.ts");
  });

  test("splitWords(shellJoin(argv)) gives argv back", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom("a", " ", "'", '"', "\\", "$", "\n", "#", "é", "\t") })), (argv) => {
        expect(splitWords(shellJoin(argv))).toEqual(argv);
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});
