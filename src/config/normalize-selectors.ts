/**
 * `profiles` and `selectors` with llama-swap's rules (internal/config/selectors.go, load.go):
 * a selector's name is not a model ID, alias or peer model name; its targets resolve (local first,
 * then peers) and are not selectors; warm needs local targets; spillover needs `settings.spillover`
 * >= 1, distinct resolved targets, and local targets that can run together (one group with
 * `swap: false`, or one expanded matrix set). A profile has pins; a pin's target is a model, alias,
 * peer model or selector, or ""/null (disabled); pins do not chain.
 */
import type { PathSeg } from "./errors.ts";
import { projectMatrix } from "./matrix-dsl.ts";
import type { ConfigInput, NormalizeContext } from "./normalize-context.ts";
import type { PeerConfig, ProfileConfig, RoutingConfig, SelectorConfig, SelectorStrategy } from "./types.ts";

const STRATEGIES: readonly SelectorStrategy[] = ["warm", "pin", "spillover"];

/** A name as llama-swap's ResolveBaseModel reads it: a local model ID or alias, else a peer model (its full name). */
export type ResolvedName = { local: true; id: string } | { local: false; id: string };

/** Resolves names the way llama-swap does: model ID, alias, `<peer>/<model>`, then a bare model name one peer serves. */
export function createNameResolver(models: ReadonlySet<string>, aliases: Readonly<Record<string, string>>, peers: Readonly<Record<string, PeerConfig>>) {
  const fqns = new Set<string>();
  const bare = new Map<string, Set<string>>();
  for (const [pid, peer] of Object.entries(peers)) {
    for (const model of peer.models) {
      fqns.add(`${pid}/${model}`);
      bare.set(model, (bare.get(model) ?? new Set()).add(`${pid}/${model}`));
    }
  }
  return {
    fqns: fqns as ReadonlySet<string>,
    resolve(name: string): ResolvedName | null {
      if (models.has(name)) return { local: true, id: name };
      if (Object.hasOwn(aliases, name)) return { local: true, id: aliases[name] };
      if (fqns.has(name)) return { local: false, id: name };
      const byBare = bare.get(name);
      // A bare name two peers serve is ambiguous, so it resolves to nothing.
      return byBare?.size === 1 ? { local: false, id: [...byBare][0] } : null;
    },
  };
}

/** Whether the local models can run at once: one `swap: false` group holds them all, or one matrix set. */
function coexistProblem(routing: RoutingConfig, local: readonly string[]): string | null {
  if (local.length <= 1) return null;
  // Placement by memory lets any models run together that fit.
  if (routing.router === "fit") return null;
  if (routing.router === "matrix") {
    const ok = routing.matrix ? projectMatrix(routing.matrix.compiled, local).some((s) => local.every((m) => s.models.includes(m))) : false;
    return ok ? null : "spillover targets must all appear together in one expanded matrix set";
  }
  const group = routing.groups.find((g) => g.members.includes(local[0]));
  if (!group) return `spillover target ${JSON.stringify(local[0])} is not in a routing group`;
  if (group.swap) return "spillover targets must share a group with swap: false";
  if (!local.every((m) => group.members.includes(m))) return "spillover targets must share one routing group";
  return null;
}

/** The resolved selectors and profiles; problems go to ctx. */
export function normalizeSelectors(
  input: ConfigInput,
  ctx: NormalizeContext,
  idSet: ReadonlySet<string>,
  aliases: Readonly<Record<string, string>>,
  peers: Readonly<Record<string, PeerConfig>>,
  routing: RoutingConfig,
): { selectors: Record<string, SelectorConfig>; profiles: Record<string, ProfileConfig> } {
  const names = createNameResolver(idSet, aliases, peers);
  const selectorsIn = input.selectors ?? {};
  const selectors: Record<string, SelectorConfig> = {};
  for (const [sid, sel] of Object.entries(selectorsIn)) {
    const at = (...rest: PathSeg[]): PathSeg[] => ["selectors", sid, ...rest];
    if (sid.trim() === "") ctx.report(at(), "selector name is empty");
    else if (idSet.has(sid)) ctx.report(at(), `name conflicts with model ID ${JSON.stringify(sid)}`);
    else if (Object.hasOwn(aliases, sid)) ctx.report(at(), `name conflicts with an alias of model ${aliases[sid]}`);
    else if (names.fqns.has(sid)) ctx.report(at(), `name conflicts with the peer model name ${JSON.stringify(sid)}`);
    const strategy = sel.strategy ?? "";
    if (strategy === "") ctx.report(at("strategy"), "is required");
    else if (!(STRATEGIES as readonly string[]).includes(strategy)) ctx.report(at("strategy"), `unknown strategy ${JSON.stringify(strategy)} (valid: ${STRATEGIES.join(", ")})`);
    const targets = sel.targets ?? [];
    if (targets.length === 0) ctx.report(at("targets"), "must list at least one target");
    const seen = new Set<string>();
    const local: string[] = [];
    targets.forEach((target, i) => {
      const r = names.resolve(target);
      if (Object.hasOwn(selectorsIn, target)) ctx.report(at("targets", i), `${JSON.stringify(target)} is a selector; selectors cannot chain`);
      else if (r === null) ctx.report(at("targets", i), `${JSON.stringify(target)} is not a model, alias or peer model`);
      else if (strategy === "warm" && !r.local) ctx.report(at("targets", i), `${JSON.stringify(target)} is a peer model; strategy warm needs local models`);
      else if (strategy === "spillover" && seen.has(r.id)) ctx.report(at("targets", i), `${JSON.stringify(target)} is model ${r.id} again`);
      if (r !== null) {
        seen.add(r.id);
        if (r.local && !local.includes(r.id)) local.push(r.id);
      }
    });
    const spillover = sel.settings?.spillover ?? 1;
    if (strategy === "spillover") {
      if (spillover < 1) ctx.report(at("settings", "spillover"), "must be >= 1");
      const problem = coexistProblem(routing, local);
      if (problem) ctx.report(at("targets"), problem);
    }
    selectors[sid] = {
      strategy: strategy as SelectorStrategy,
      targets: [...targets],
      spillover,
      name: sel.name ?? "",
      description: sel.description ?? "",
      unlisted: sel.unlisted ?? false,
      metadata: { ...(sel.metadata ?? {}) },
    };
  }

  const profiles: Record<string, ProfileConfig> = {};
  for (const [pid, profile] of Object.entries(input.profiles ?? {})) {
    const at = (...rest: PathSeg[]): PathSeg[] => ["profiles", pid, ...rest];
    if (pid.trim() === "") ctx.report(at(), "profile name is empty");
    const pinsIn = profile.pins ?? {};
    if (Object.keys(pinsIn).length === 0) ctx.report(at("pins"), "must contain at least one entry");
    const pins: Record<string, string> = {};
    for (const [pin, target] of Object.entries(pinsIn)) {
      if (pin.trim() === "") ctx.report(at("pins", pin), "pin name is empty");
      else if (names.fqns.has(pin)) ctx.report(at("pins", pin), `pin conflicts with the peer model name ${JSON.stringify(pin)}`);
      else if (target !== null && target !== "" && names.resolve(target) === null && !Object.hasOwn(selectorsIn, target)) {
        ctx.report(at("pins", pin), `${JSON.stringify(target)} is not a model, alias, peer model or selector`);
      }
      pins[pin] = target ?? "";
    }
    profiles[pid] = { description: profile.description ?? "", pins };
  }
  return { selectors, profiles };
}
