/**
 * switchyard's entry point: parse flags and dispatch. Kept light on purpose: serve mode may
 * re-execute itself (cli/fetch-limit.ts) before the heavy modules are loaded, so those are
 * imported lazily.
 */
import { parseArgs, USAGE, UsageError, type Command } from "./cli/args.ts";
import { selfCommand } from "./cli/self-command.ts";
import { ensureFetchLimit } from "./cli/fetch-limit.ts";
import { versionLine } from "./version.ts";

/** Dispatch one command. */
async function main(argv: string[]): Promise<void> {
  let cmd: Command;
  try {
    cmd = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`switchyard: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    throw err;
  }
  switch (cmd.kind) {
    case "help":
      console.log(USAGE);
      return;
    case "version":
      console.log(versionLine());
      return;
    case "check": {
      const { runCheck } = await import("./cli/check.ts");
      process.exit(await runCheck(cmd, selfCommand()));
    }
    case "simulate": {
      const { runSimulate } = await import("./cli/simulate.ts");
      await runSimulate(cmd.argv);
      return;
    }
    case "serve": {
      ensureFetchLimit(argv);
      const { serve } = await import("./cli/serve.ts");
      await serve(cmd);
    }
  }
}

await main(process.argv.slice(2));
