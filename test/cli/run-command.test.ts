/** The tool runner: ok, missing, failed, hung. */
import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCommandRunner } from "../../src/cli/run-command.ts";

test("output of a tool that exits 0; a missing tool; a non-zero exit with its complaint; a hung tool killed", async () => {
  const run = createCommandRunner({ timeoutMs: 300 });
  expect(await run(["sh", "-c", "echo hello"])).toEqual({ status: "ok", stdout: "hello\n" });
  expect(await createCommandRunner({ path: mkdtempSync(join(tmpdir(), "empty-path-")) })(["nvidia-smi"])).toEqual({ status: "missing", detail: "nvidia-smi is not on PATH" });
  expect(await run(["sh", "-c", "echo 'no driver' >&2; exit 9"])).toEqual({ status: "failed", detail: "sh exited with code 9: no driver" });
  expect(await run(["sh", "-c", "exec sleep 30"])).toEqual({ status: "failed", detail: "sh did not answer within 300 ms; killed" });
  expect((await run([])).status).toBe("missing");
});
