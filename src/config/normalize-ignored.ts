/**
 * llama-swap's rules for keys switchyard accepts and ignores (profiles, selectors):
 * what llama-swap refuses is refused here too, except a selector named like a model, which is only a
 * warning (switchyard has no selectors, so the name hides nothing). Not checked: whether spillover
 * targets can run together (that needs llama-swap's selector semantics).
 */
import type { PathSeg } from "./errors.ts";
import type { ConfigInput, NormalizeContext } from "./normalize-context.ts";

const STRATEGIES = ["warm", "pin", "spillover"];

/** Resolves a name the way llama-swap's ResolveBaseModel does: a local model ID or alias, else a peer model. */
function createResolver(input: ConfigInput, idSet: ReadonlySet<string>, aliases: Record<string, string>) {
  const fqns = new Set<string>();
  const bare = new Map<string, Set<string>>();
  for (const [pid, peer] of Object.entries(input.peers ?? {})) {
    for (const model of peer.models) {
      fqns.add(`${pid}/${model}`);
      bare.set(model, (bare.get(model) ?? new Set()).add(`${pid}/${model}`));
    }
  }
  return (name: string): { local: boolean; id: string } | null => {
    if (idSet.has(name)) return { local: true, id: name };
    if (Object.hasOwn(aliases, name)) return { local: true, id: aliases[name] };
    if (fqns.has(name)) return { local: false, id: name };
    const byBare = bare.get(name);
    // A bare name two peers serve is ambiguous, so it resolves to nothing.
    return byBare?.size === 1 ? { local: false, id: [...byBare][0] } : null;
  };
}

/** Checks the ignored keys llama-swap validates; errors and warnings go to ctx. */
export function checkIgnoredKeys(input: ConfigInput, ctx: NormalizeContext, idSet: ReadonlySet<string>, aliases: Record<string, string>): void {
  const resolve = createResolver(input, idSet, aliases);
  const selectors = input.selectors ?? {};
  for (const [sid, sel] of Object.entries(selectors)) {
    const at = (...rest: PathSeg[]): PathSeg[] => ["selectors", sid, ...rest];
    if (sid.trim() === "") ctx.report(at(), "selector name is empty");
    // switchyard has no selectors, so the name hides nothing here; llama-swap refuses the file.
    if (idSet.has(sid) || Object.hasOwn(aliases, sid)) {
      ctx.warn(at(), `the name is also a model ${idSet.has(sid) ? "ID" : "alias"}; llama-swap would refuse this config`);
    }
    const strategy = sel.strategy ?? "";
    if (strategy === "") ctx.report(at("strategy"), "is required");
    else if (!STRATEGIES.includes(strategy)) ctx.report(at("strategy"), `unknown strategy ${JSON.stringify(strategy)} (valid: ${STRATEGIES.join(", ")})`);
    const targets = sel.targets ?? [];
    if (targets.length === 0) ctx.report(at("targets"), "must list at least one target");
    const seen = new Set<string>();
    targets.forEach((target, i) => {
      const r = resolve(target);
      // A selector named like a model only warns (above), so that name still means the model here.
      if (Object.hasOwn(selectors, target) && !r?.local) ctx.report(at("targets", i), `${JSON.stringify(target)} is a selector; selectors cannot chain`);
      else if (r === null) ctx.report(at("targets", i), `${JSON.stringify(target)} is not a model, alias or peer model`);
      else if (strategy === "warm" && !r.local) ctx.report(at("targets", i), `${JSON.stringify(target)} is a peer model; strategy warm needs local models`);
      else if (strategy === "spillover" && seen.has(r.id)) ctx.report(at("targets", i), `${JSON.stringify(target)} is model ${r.id} again`);
      if (r !== null) seen.add(r.id);
    });
    if (strategy === "spillover" && (sel.settings?.spillover ?? 1) < 1) ctx.report(at("settings", "spillover"), "must be >= 1");
  }

  for (const [pid, profile] of Object.entries(input.profiles ?? {})) {
    const at = (...rest: PathSeg[]): PathSeg[] => ["profiles", pid, ...rest];
    if (pid.trim() === "") ctx.report(at(), "profile name is empty");
    const pins = profile.pins ?? {};
    if (Object.keys(pins).length === 0) ctx.report(at("pins"), "must contain at least one entry");
    for (const [pin, target] of Object.entries(pins)) {
      if (pin.trim() === "") ctx.report(at("pins", pin), "pin name is empty");
      else if (target !== null && target !== "" && resolve(target) === null && !Object.hasOwn(selectors, target)) {
        ctx.report(at("pins", pin), `${JSON.stringify(target)} is not a model, alias, peer model or selector`);
      }
    }
  }
}
