/**
 * The argv that re-runs this program: the compiled binary alone, or `bun <entry>` from source.
 * It backs the `${SWITCHYARD}` config macro, so a config can start `switchyard simulate`
 * both from `npm start` and from the compiled binary.
 */

/** Words to spawn to run this program again. */
export function selfCommand(): string[] {
  // Why: in a compiled binary process.execPath is the binary and Bun.main points into the
  // virtual /$bunfs filesystem, which a child process cannot open.
  if (Bun.main.startsWith("/$bunfs") || Bun.main.includes("~BUN")) return [process.execPath];
  return [process.execPath, Bun.main];
}
