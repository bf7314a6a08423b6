/**
 * Command strings (`cmd`, `cmdStop`) to argv, the way llama-swap does it: drop comment lines, join
 * backslash-continued lines, then split with POSIX shell-word rules. No shell is ever involved.
 */

/** A command string that cannot be split (e.g. an unterminated quote). */
export class CommandSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommandSyntaxError";
  }
}

/** Removes every line whose first non-blank character is `#`. */
export function stripCommentLines(text: string): string {
  return text
    .split("\n")
    .filter((line) => !line.trim().startsWith("#"))
    .join("\n");
}

/** Splits a command string into argv; throws CommandSyntaxError on an unterminated quote. */
export function parseCommand(text: string): string[] {
  const lines: string[] = [];
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed.startsWith("#")) continue;
    // llama-swap turns a trailing backslash into a space, so continued lines become one word list.
    lines.push(trimmed.endsWith("\\") ? trimmed.slice(0, -1) + " " : line);
  }
  return splitWords(lines.join("\n"));
}

const BLANK = new Set([" ", "\t", "\n", "\r", "\f", "\v"]);
const DQ_ESCAPABLE = new Set(["$", "`", '"', "\\"]);

/** POSIX shell-word splitting: quotes and backslashes, nothing else (no expansion, no operators). */
export function splitWords(s: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (BLANK.has(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new CommandSyntaxError(`unterminated single quote at offset ${i}`);
      word += s.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      const start = i;
      i++;
      for (;;) {
        if (i >= s.length) throw new CommandSyntaxError(`unterminated double quote at offset ${start}`);
        const d = s[i];
        if (d === '"') break;
        if (d === "\\" && i + 1 < s.length) {
          const n = s[i + 1];
          if (n === "\n") i += 2;
          else if (DQ_ESCAPABLE.has(n)) {
            word += n;
            i += 2;
          } else {
            word += d;
            i++;
          }
          continue;
        }
        word += d;
        i++;
      }
      inWord = true;
      i++;
    } else if (c === "\\") {
      if (i + 1 >= s.length) {
        word += c;
        inWord = true;
        i++;
      } else if (s[i + 1] === "\n") {
        i += 2;
      } else {
        word += s[i + 1];
        inWord = true;
        i += 2;
      }
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one word so that splitWords gives it back unchanged. */
export function shellQuote(word: string): string {
  if (SAFE_WORD.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Quotes and joins argv into one command string (the inverse of splitWords). */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}
