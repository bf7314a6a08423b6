/**
 * The group eviction policy (llama-swap `groups`): within a group with `swap: true` one member runs
 * at a time; a member of an `exclusive` group evicts the models of other groups unless they are
 * `persistent`. A member of a non-exclusive group never evicts other groups, even exclusive ones
 * (llama-swap's documented gotcha, kept for compatibility). Ungrouped models form `(default)`.
 */
import type { GroupConfig } from "../../config/types.ts";
import type { Swapper } from "../seams.ts";

/** Create the group swapper over the resolved groups (including `(default)`). */
export function createGroupSwapper(groups: readonly GroupConfig[]): Swapper {
  const groupOf = new Map<string, GroupConfig>();
  for (const g of groups) for (const m of g.members) if (!groupOf.has(m)) groupOf.set(m, g);
  // A model in no group behaves like a member of its own exclusive swap group.
  const solo = (m: string): GroupConfig => ({ id: m, members: [m], swap: true, exclusive: true, persistent: false });

  return {
    evictionFor(target, running) {
      const tg = groupOf.get(target) ?? solo(target);
      const evict: string[] = [];
      for (const m of running) {
        if (m === target) continue;
        const mg = groupOf.get(m) ?? solo(m);
        if (mg.id === tg.id) {
          if (tg.swap) evict.push(m);
        } else if (tg.exclusive && !mg.persistent) {
          evict.push(m);
        }
      }
      return evict;
    },
    onSwapStart() {
      // Group decisions are plain enough that the swap line the router logs says it all.
    },
  };
}
