/**
 * Peer normalisation: a usable proxy URL, a non-empty deduped model list whose `<peer>/<model>` names
 * collide with nothing local, and peer filters.
 */
import type { PathSeg } from "./errors.ts";
import { normalizeUrl, ordered, sanitizeStripParams, withoutModelKey, type ConfigInput, type NormalizeContext } from "./normalize-context.ts";
import type { PeerConfig } from "./types.ts";

/** Peers: proxy URL, models (deduped, names unambiguous), filters. */
export function normalizePeers(input: ConfigInput, ctx: NormalizeContext, idSet: ReadonlySet<string>, aliases: Record<string, string>): Record<string, PeerConfig> {
  const peers: Record<string, PeerConfig> = {};
  const peersIn = input.peers ?? {};
  const fqns = new Map<string, string>();
  for (const pid of ordered(ctx, ["peers"], peersIn)) {
    const p = peersIn[pid];
    const at = (...rest: PathSeg[]): PathSeg[] => ["peers", pid, ...rest];
    if (pid.trim() === "") ctx.report(at(), "peer ID is empty");
    const proxy = normalizeUrl(p.proxy);
    if (p.proxy.trim() === "") ctx.report(at("proxy"), "is required");
    else if (proxy === null) ctx.report(at("proxy"), `invalid proxy URL ${JSON.stringify(p.proxy)}: must be an absolute http:// or https:// URL`);
    const models: string[] = [];
    p.models.forEach((model, i) => {
      if (model === "") {
        ctx.report(at("models", i), "model name is empty");
        return;
      }
      if (models.includes(model)) return;
      models.push(model);
      const fqn = `${pid}/${model}`;
      const other = fqns.get(fqn);
      if (other !== undefined) ctx.report(at("models", i), `peer model name ${JSON.stringify(fqn)} is ambiguous: ${other} gives the same name`);
      else if (idSet.has(fqn)) ctx.report(at("models", i), `peer model name ${JSON.stringify(fqn)} is also a local model ID`);
      else if (Object.hasOwn(aliases, fqn)) ctx.report(at("models", i), `peer model name ${JSON.stringify(fqn)} is also an alias of model ${aliases[fqn]}`);
      fqns.set(fqn, `peer ${pid} model ${model}`);
    });
    peers[pid] = {
      id: pid,
      proxy: proxy ?? p.proxy,
      apiKey: p.apiKey ?? "",
      models,
      filters: {
        stripParams: sanitizeStripParams(p.filters?.stripParams ?? ""),
        setParams: withoutModelKey(p.filters?.setParams ?? {}, at("filters", "setParams"), ctx),
      },
    };
  }
  return peers;
}
