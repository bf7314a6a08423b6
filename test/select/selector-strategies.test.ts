/**
 * Selector strategies as pure code, with llama-swap's tables (TestServer_SelectorStrategyPin,
 * _Warm, _Spillover, _Spillover_RemoteModels) and a fast-check property of the reservations.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createSpilloverPool, pinTarget, warmTarget, type ResolvedTarget, type TargetState } from "../../src/select/selector-strategies.ts";

const local = (...ids: string[]): ResolvedTarget[] => ids.map((id) => ({ target: id, id, local: true }));
const states = (m: Record<string, TargetState> | null) => (id: string): TargetState => m?.[id];

describe("pin", () => {
  test("the first target", () => expect(pinTarget({ targets: ["first", "second"] })).toBe("first"));
});

describe("warm", () => {
  const t = local("a", "b", "c");
  test("the first ready target wins over an earlier starting one", () => expect(warmTarget(t, states({ a: "starting", c: "ready" }))).toBe("c"));
  test("the first of several ready ones", () => expect(warmTarget(t, states({ a: "starting", b: "ready", c: "ready" }))).toBe("b"));
  test("none ready: the first starting one", () => expect(warmTarget(t, states({ a: "starting", b: "starting" }))).toBe("a"));
  test("nothing runs: the first target", () => expect(warmTarget(t, states(null))).toBe("a"));
  test("the name as written is returned (an alias stays an alias)", () => {
    expect(warmTarget([{ target: "alias-a", id: "a", local: true }, ...local("b")], states({ a: "ready" }))).toBe("alias-a");
  });
});

describe("spillover", () => {
  test("fills the first target to its count, then the next; a freed slot on a ready target is reused before a cold start", () => {
    const pool = createSpilloverPool("pool", local("a", "b", "c"), 2);
    const first = pool.reserve(states(null));
    const second = pool.reserve(states(null));
    const third = pool.reserve(states(null));
    expect([first.target, second.target, third.target]).toEqual(["a", "a", "b"]);
    first.release();
    expect(pool.reserve(states({ a: "ready", b: "ready", c: "ready" })).target).toBe("c");
  });

  test("every target stopping or shut down: no target", () => {
    const pool = createSpilloverPool("pool", local("a", "b", "c"), 2);
    expect(() => pool.reserve(states({ a: "stopping", b: "stopping", c: "shutdown" }))).toThrow("no available spillover targets");
  });

  test("peer targets count only their reservations", () => {
    const remote: ResolvedTarget[] = [
      { target: "remote/a", id: "remote/a", local: false },
      { target: "remote/b", id: "remote/b", local: false },
    ];
    const pool = createSpilloverPool("pool", remote, 1);
    const first = pool.reserve(states(null));
    const second = pool.reserve(states(null));
    expect([first.target, second.target]).toEqual(["remote/a", "remote/b"]);
    first.release();
    second.release();
    expect(pool.reserve(states(null)).target).toBe("remote/a");
  });

  test("all targets full: the least busy one, ties in turn", () => {
    const pool = createSpilloverPool("pool", local("a", "b"), 1);
    const all = states({ a: "ready", b: "ready" });
    const got = [pool.reserve(all), pool.reserve(all), pool.reserve(all), pool.reserve(all)].map((r) => r.target);
    expect(got.filter((t) => t === "a").length).toBe(2);
    expect(got.filter((t) => t === "b").length).toBe(2);
  });

  test("release is idempotent", () => {
    const pool = createSpilloverPool("pool", local("a"), 1);
    const r = pool.reserve(states(null));
    r.release();
    r.release();
    expect(pool.held().size).toBe(0);
  });

  test("property: reservations held equal those taken and not given back, and a target is never chosen while stopping", () => {
    const ids = ["a", "b", "c"];
    const op = fc.oneof(
      fc.record({ kind: fc.constant("reserve" as const), st: fc.array(fc.constantFrom<TargetState>("ready", "starting", "stopping", "stopped", undefined), { minLength: 3, maxLength: 3 }) }),
      fc.record({ kind: fc.constant("release" as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 60 }), (spill, ops) => {
        const pool = createSpilloverPool("p", local(...ids), spill);
        const open: { target: string; release: () => void }[] = [];
        for (const o of ops) {
          if (o.kind === "reserve") {
            const map = Object.fromEntries(ids.map((id, i) => [id, o.st[i]]));
            try {
              const r = pool.reserve(states(map));
              expect(map[r.target] === "stopping").toBe(false);
              open.push(r);
            } catch {
              expect(ids.every((id) => map[id] === "stopping")).toBe(true);
            }
          } else if (open.length > 0) {
            open.splice(o.pick % open.length, 1)[0].release();
          }
          const want = new Map<string, number>();
          for (const r of open) want.set(r.target, (want.get(r.target) ?? 0) + 1);
          expect(new Map(pool.held())).toEqual(want);
        }
      }),
    );
  });
});
