/** The state file on disk: round trip, atomic replace, missing and corrupt files. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readMemoryStateFile, writeMemoryStateFile } from "../../src/cli/memory-state-file.ts";
import { emptyMemoryState, rememberedNeed, rememberNeed } from "../../src/placement/memory-state.ts";

const dir = mkdtempSync(join(tmpdir(), "memory-state-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("memory state file", () => {
  test("written then read back; the directory is made; no temporary file is left", async () => {
    const path = join(dir, "nested", "state.json");
    const state = rememberNeed(emptyMemoryState(), "a", ["sim", "--port", "1"], { perDevice: { cpu: 64 * 1024 * 1024 }, source: "measured" }, 42);
    expect(await writeMemoryStateFile(path, state)).toBeNull();
    const back = await readMemoryStateFile(path);
    expect(back).toEqual({ state, warning: null });
    expect(rememberedNeed(back.state, "a", ["sim", "--port", "1"])?.perDevice.cpu).toBe(64 * 1024 * 1024);
    // a second write replaces the first
    expect(await writeMemoryStateFile(path, emptyMemoryState())).toBeNull();
    expect((await readMemoryStateFile(path)).state).toEqual(emptyMemoryState());
    expect(readdirSync(join(dir, "nested"))).toEqual(["state.json"]);
  });

  test("missing or corrupt: an empty state and one warning", async () => {
    const missing = await readMemoryStateFile(join(dir, "none.json"));
    expect(missing.state).toEqual(emptyMemoryState());
    expect(missing.warning).toContain("does not exist yet");
    const path = join(dir, "corrupt.json");
    writeFileSync(path, '{"version": 1, "models": {"a": ');
    const corrupt = await readMemoryStateFile(path);
    expect(corrupt.state).toEqual(emptyMemoryState());
    expect(corrupt.warning).toMatch(/is damaged \(not JSON/);
    const unreadable = await readMemoryStateFile(dir); // a directory: EISDIR
    expect(unreadable.warning).toContain("cannot be read");
  });

  test("a write that cannot happen is a warning, not a throw", async () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "x");
    const warning = await writeMemoryStateFile(join(file, "state.json"), emptyMemoryState());
    expect(warning).toContain("not saved");
  });
});
