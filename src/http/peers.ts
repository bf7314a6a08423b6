/**
 * Peers: remote OpenAI-compatible servers whose models switchyard forwards to without
 * scheduling. A peer model is addressed as `<peer>/<model>`, or by its bare name when exactly
 * one peer offers it (local model IDs and aliases win over bare peer names; the caller checks them first).
 */
import type { Config, PeerConfig } from "../config/types.ts";
import type { Rewrite } from "./request.ts";

/** A resolved peer model. */
export interface PeerTarget {
  peer: PeerConfig;
  /** The model ID as the peer knows it. */
  model: string;
}

/** Name lookup over every peer's models. */
export interface PeerIndex {
  /** Resolve a requested name, or null when no peer (or more than one, for a bare name) serves it. */
  resolve(name: string): PeerTarget | null;
  /** Every peer model, for `/v1/models`. */
  list(): PeerTarget[];
}

/** Build the index once from the config. */
export function createPeerIndex(config: Config): PeerIndex {
  const byFqn = new Map<string, PeerTarget>();
  const byBare = new Map<string, PeerTarget[]>();
  for (const peer of Object.values(config.peers)) {
    for (const model of new Set(peer.models)) {
      const t = { peer, model };
      byFqn.set(`${peer.id}/${model}`, t);
      const list = byBare.get(model) ?? [];
      list.push(t);
      byBare.set(model, list);
    }
  }
  return {
    resolve(name) {
      const fqn = byFqn.get(name);
      if (fqn) return fqn;
      const bare = byBare.get(name);
      return bare && bare.length === 1 ? bare[0] : null;
    },
    list: () => [...byFqn.values()],
  };
}

/**
 * The rewrites for a peer request: its filters (setParamsByID by the name the client used, as
 * llama-swap looks it up), and the peer's own model ID when the name differs.
 */
export function peerRewrite(target: PeerTarget, requested: string): Rewrite {
  const byId = target.peer.filters.setParamsByID;
  return {
    modelName: requested !== target.model ? target.model : undefined,
    stripParams: target.peer.filters.stripParams,
    setParams: target.peer.filters.setParams,
    setParamsById: Object.hasOwn(byId, requested) ? byId[requested] : undefined,
  };
}

/** Headers set on requests to the peer, after hop-by-hop stripping: its API key, when it has one. */
export function peerHeaders(peer: PeerConfig): Record<string, string> {
  return peer.apiKey ? { authorization: `Bearer ${peer.apiKey}`, "x-api-key": peer.apiKey } : {};
}

/** The peer URL for a forwarded path and query (the peer's base may carry a path prefix). */
export function peerUrl(peer: PeerConfig, path: string, search: string): string {
  return `${peer.proxy.replace(/\/+$/, "")}${path}${search}`;
}
