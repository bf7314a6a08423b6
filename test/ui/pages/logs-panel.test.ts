/** The Logs page's model filter: an upstream line's prefix decides; a proxy line must name the model as a whole (not `qwen` inside `qwen-coder`). */
import { expect, test } from "bun:test";
import { filterLines } from "../../../src/ui/pages/logs-panel.tsx";

test("qwen shows its own lines, not qwen-coder's", () => {
  const text = [
    "[qwen-coder] loading model",
    "[qwen] hello",
    "2026-12-08T00:00:00Z [INFO] [qwen-coder] started pid 12",
    "2026-12-08T00:00:00Z [INFO] swap: loading qwen, stopping qwen-coder",
    "[INFO] model qwen ready",
    "[INFO] something else",
  ].join("\n");
  expect(filterLines(text, "qwen", "").split("\n")).toEqual(["[qwen] hello", "2026-12-08T00:00:00Z [INFO] swap: loading qwen, stopping qwen-coder", "[INFO] model qwen ready"]);
  expect(filterLines(text, "qwen-coder", "started").split("\n")).toEqual(["2026-12-08T00:00:00Z [INFO] [qwen-coder] started pid 12"]);
});
