/**
 * The group eviction policy, alone and under the fifo scheduler.
 */
import { describe, expect, test } from "bun:test";
import { createGroupSwapper } from "../../../src/router/swappers/group.ts";
import { createFifo } from "../../../src/router/fifo.ts";
import type { GroupConfig } from "../../../src/config/types.ts";
import { FakeEffects, Harness, settings } from "../fake-effects.ts";

const g = (id: string, members: string[], over: Partial<GroupConfig> = {}): GroupConfig => ({
  id,
  members,
  swap: true,
  exclusive: true,
  persistent: false,
  ...over,
});

describe("evictionFor", () => {
  test("swap: true stops the previous member of the same group", () => {
    const s = createGroupSwapper([g("g", ["a", "b"])]);
    expect(s.evictionFor("b", ["a"])).toEqual(["a"]);
  });

  test("swap: false lets members run together", () => {
    const s = createGroupSwapper([g("g", ["a", "b"], { swap: false })]);
    expect(s.evictionFor("b", ["a"])).toEqual([]);
  });

  test("an exclusive group evicts other groups", () => {
    const s = createGroupSwapper([g("g1", ["a"]), g("g2", ["b"])]);
    expect(s.evictionFor("b", ["a"])).toEqual(["a"]);
  });

  test("non-exclusive groups run side by side", () => {
    const s = createGroupSwapper([g("g1", ["a"], { exclusive: false }), g("g2", ["b"], { exclusive: false })]);
    expect(s.evictionFor("b", ["a"])).toEqual([]);
    expect(s.evictionFor("a", ["b"])).toEqual([]);
  });

  test("persistent groups are never evicted by other groups", () => {
    const s = createGroupSwapper([g("g1", ["a"], { persistent: true }), g("g2", ["b", "c"])]);
    expect(s.evictionFor("b", ["a", "c"])).toEqual(["c"]);
  });

  test("a non-exclusive target never evicts other groups, even exclusive ones", () => {
    const s = createGroupSwapper([g("ex", ["a"]), g("nonex", ["b"], { exclusive: false })]);
    expect(s.evictionFor("b", ["a"])).toEqual([]);
    expect(s.evictionFor("a", ["b"])).toEqual(["b"]);
  });

  test("the (default) group: one ungrouped model at a time", () => {
    const s = createGroupSwapper([g("(default)", ["a", "b"]), g("side", ["e"], { exclusive: false, swap: false })]);
    expect(s.evictionFor("b", ["a", "e"])).toEqual(["a", "e"]);
    expect(s.evictionFor("e", ["a"])).toEqual([]);
  });

  test("a running target evicts only its swap siblings", () => {
    const s = createGroupSwapper([g("g", ["a", "b"], { exclusive: false })]);
    expect(s.evictionFor("a", ["a"])).toEqual([]);
  });
});

describe("under fifo", () => {
  const run = (groups: GroupConfig[], states: Record<string, "stopped" | "ready">) => {
    const eff = new FakeEffects(states);
    return new Harness(createFifo(settings(Object.keys(states)), createGroupSwapper(groups), eff), eff);
  };

  test("two same-group requests before either is starting are serialised", () => {
    const h = run([g("g", ["a", "b"])], { a: "stopped", b: "stopped" });
    const [a] = h.reqs("a", "b");
    expect(h.eff.startsFor("a")).toBe(1);
    expect(h.eff.startsFor("b")).toBe(0);
    h.swapDone("a");
    h.done(a as number);
    expect(h.eff.starts.at(-1)).toMatchObject({ target: "b", evict: ["a"] });
    expect(h.eff.violations).toEqual([]);
  });

  test("non-exclusive groups load in parallel", () => {
    const h = run([g("g1", ["a"], { exclusive: false }), g("g2", ["b"], { exclusive: false })], {
      a: "stopped",
      b: "stopped",
    });
    h.reqs("a", "b");
    expect(h.eff.startsFor("a")).toBe(1);
    expect(h.eff.startsFor("b")).toBe(1);
  });

  test("a non-swap group's members are all served side by side", () => {
    const h = run([g("g", ["a", "b"], { swap: false })], { a: "ready", b: "stopped" });
    h.req("a");
    h.req("b");
    expect(h.eff.starts).toMatchObject([{ id: 1, target: "b", evict: [] }]);
  });
});
