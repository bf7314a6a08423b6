/**
 * `/v1/models` in llama-swap's shape: every listed local model, its aliases when
 * `includeAliasesInList` is on, and every peer model as `<peer>/<model>`, sorted by ID.
 */
import type { HttpContext } from "./context.ts";

/** One entry of the list. */
export interface ModelRecord {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
  name?: string;
  description?: string;
  meta: { llamaswap: Record<string, unknown> };
  status: { value: "loaded" | "unloaded" };
}

const UNLOADED = new Set(["stopped", "shutdown"]);

/** Build the `{"object":"list","data":[...]}` body. */
export function listModels(ctx: HttpContext): { object: "list"; data: ModelRecord[] } {
  const created = Math.floor(ctx.now() / 1000);
  const data: ModelRecord[] = [];
  const record = (id: string, name: string, description: string, meta: Record<string, unknown>, loaded: boolean): ModelRecord => {
    const r: ModelRecord = { id, object: "model", created, owned_by: "switchyard", meta: { llamaswap: meta }, status: { value: loaded ? "loaded" : "unloaded" } };
    if (name.trim()) r.name = name.trim();
    if (description.trim()) r.description = description.trim();
    return r;
  };

  for (const m of Object.values(ctx.config.models)) {
    if (m.unlisted) continue;
    const loaded = !UNLOADED.has(ctx.stateOf(m.id));
    // Internal keys override same-named user metadata keys.
    const meta = { ...m.metadata, type: "model", ...(m.aliases.length ? { aliases: [...m.aliases] } : {}) };
    data.push(record(m.id, m.name, m.description, meta, loaded));
    if (ctx.config.includeAliasesInList) {
      for (const alias of m.aliases) {
        if (alias.trim()) data.push(record(alias.trim(), m.name, m.description, { ...m.metadata, type: "alias", modelID: m.id }, loaded));
      }
    }
  }
  for (const t of ctx.peers.list()) {
    data.push(record(`${t.peer.id}/${t.model}`, `${t.peer.id}: ${t.model}`, "", { type: "peer", peerID: t.peer.id }, false));
  }
  data.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { object: "list", data };
}
