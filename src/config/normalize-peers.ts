/**
 * Peer normalisation: a usable proxy URL, a non-empty deduped model list whose `<peer>/<model>` names
 * collide with nothing local, and peer filters.
 */
import type { PathSeg } from "./errors.ts";
import { normalizeUrl, ordered, sanitizeStripParams, withoutModelKey, type ConfigInput, type NormalizeContext } from "./normalize-context.ts";
import { normalizeTimeouts } from "./normalize-proxy.ts";
import { DEFAULTS } from "./schema.ts";
import type { PeerConfig } from "./types.ts";

/** Peers: proxy URL, models (deduped, names unambiguous), filters, timeouts. */
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
        setParamsByID: {},
      },
      timeouts: normalizeTimeouts(p.timeouts, at("timeouts"), DEFAULTS.timeoutResponseHeaderPeer, ctx),
    };
  }
  normalizePeerSetParamsByID(input, ctx, peers, idSet, aliases);
  return peers;
}

/**
 * Peer `filters.setParamsByID`: keyed by the name a request used, as llama-swap looks it up. A key
 * no request can reach this peer by (not `<peer>/<model>` of its models, nor a bare model name that
 * only this peer serves and that is not a local model or alias) is kept but warned about.
 */
function normalizePeerSetParamsByID(input: ConfigInput, ctx: NormalizeContext, peers: Record<string, PeerConfig>, idSet: ReadonlySet<string>, aliases: Record<string, string>): void {
  const servedBy = new Map<string, number>();
  for (const peer of Object.values(peers)) for (const m of peer.models) servedBy.set(m, (servedBy.get(m) ?? 0) + 1);
  for (const [pid, peer] of Object.entries(peers)) {
    const byId = input.peers?.[pid]?.filters?.setParamsByID ?? {};
    const at: PathSeg[] = ["peers", pid, "filters", "setParamsByID"];
    for (const key of ordered(ctx, at, byId)) {
      peer.filters.setParamsByID[key] = withoutModelKey(byId[key], [...at, key], ctx);
      const qualified = peer.models.some((m) => `${pid}/${m}` === key);
      const bare = peer.models.includes(key) && servedBy.get(key) === 1 && !idSet.has(key) && !Object.hasOwn(aliases, key);
      if (!qualified && !bare) ctx.warn([...at, key], `no request reaches peer ${pid} by this name (use ${JSON.stringify(`${pid}/<model>`)} or a bare model name only this peer serves); never applied`);
    }
  }
}
