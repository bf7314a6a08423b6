/**
 * `/v1/models` as llama-swap renders it (internal/server/api.go): every listed local model, its
 * aliases when `includeAliasesInList` is on (same name, description and capabilities, status of
 * the model), every peer model as `<peer>/<model>`, every listed selector (loaded when a local
 * target runs), and the active profile's enabled pins that name nothing else, sorted by ID in Go's byte order. A model's
 * `capabilities:` become `architecture`, `capabilities`, `supported_parameters`, `context_length`
 * and `meta.n_ctx`; its `metadata` goes under `meta.llamaswap` with the internal keys (type,
 * aliases, modelID, peerID) on top, and loses the renderer's own keys when capabilities are set.
 * Fields in llama-swap's order; map keys sorted as Go's JSON encoder writes them.
 */
import { compareCodePoints } from "../config/compare-code-points.ts";
import type { Modality, ModelCapabilities } from "../config/types.ts";
import type { HttpContext } from "./context.ts";

/** One entry of the list. */
export interface ModelRecord {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
  name?: string;
  description?: string;
  architecture?: Record<string, unknown>;
  capabilities?: Record<string, boolean>;
  supported_parameters?: string[];
  context_length?: number;
  meta?: Record<string, unknown>;
  status: { value: "loaded" | "unloaded" };
}

/** What llama-swap derives from a model's `capabilities:`; every part absent when nothing is declared. */
export interface RenderedCapabilities {
  architecture?: Record<string, unknown>;
  capabilities?: Record<string, boolean>;
  supported_parameters?: string[];
  context_length?: number;
}

/** Top-level fields the capabilities renderer owns; metadata keys of these names are dropped when it runs. */
const RENDERED_KEYS = new Set(["architecture", "capabilities", "supported_parameters", "context_length"]);

const UNLOADED = new Set(["stopped", "shutdown"]);

/** llama-swap's renderCapabilities: modalities, derived flags, tool parameters, context. */
export function renderCapabilities(caps: ModelCapabilities): RenderedCapabilities {
  const out: RenderedCapabilities = {};
  const hasIn = caps.in.length > 0;
  const hasOut = caps.out.length > 0;
  if (hasIn || hasOut) {
    const arch: Record<string, unknown> = {};
    if (hasIn) arch.input_modalities = [...caps.in];
    // "modality" sorts before "output_modalities", as Go writes map keys.
    if (hasIn && hasOut) arch.modality = `${caps.in.join("+")}->${caps.out.join("+")}`;
    if (hasOut) arch.output_modalities = [...caps.out];
    out.architecture = arch;
  }
  const flags: Record<string, boolean> = {};
  const inHas = (m: Modality): boolean => caps.in.includes(m);
  const outHas = (m: Modality): boolean => caps.out.includes(m);
  // Added in key order (Go writes map keys sorted).
  if (inHas("text") && outHas("audio")) flags.audio_speech = true;
  if (inHas("audio") && outHas("text")) flags.audio_transcriptions = true;
  if (caps.tools) flags.function_calling = true;
  if (inHas("text") && outHas("image")) flags.image_generation = true;
  if (inHas("image") && outHas("image")) flags.image_to_image = true;
  if (caps.reranker) flags.reranker = true;
  if (inHas("image")) flags.vision = true;
  // Go's omitempty leaves an empty map out (a model that only declares output modalities).
  if (Object.keys(flags).length > 0) out.capabilities = flags;
  if (caps.tools) out.supported_parameters = ["tools", "tool_choice"];
  if (caps.context > 0) out.context_length = caps.context;
  return out;
}

/** A copy with keys in Go's JSON order (byte order), recursively through plain objects. */
function sortedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortedKeys) as T;
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort(compareCodePoints)) out[k] = sortedKeys((value as Record<string, unknown>)[k]);
  return out as T;
}

interface RecordInput {
  id: string;
  name: string;
  description: string;
  metadata: Record<string, unknown>;
  caps: ModelCapabilities | null;
  loaded: boolean;
  internal: Record<string, unknown>;
}

/** Build the `{"object":"list","data":[...]}` body. */
export function listModels(ctx: HttpContext): { object: "list"; data: ModelRecord[] } {
  const created = Math.floor(ctx.now() / 1000);
  const data: ModelRecord[] = [];
  const record = (r: RecordInput): ModelRecord => {
    // Field order as llama-swap's modelRecord: the optional fields sit between owned_by and status.
    const rec: Omit<ModelRecord, "status"> = { id: r.id, object: "model", created, owned_by: "llama-swap" };
    if (r.name.trim()) rec.name = r.name.trim();
    if (r.description.trim()) rec.description = r.description.trim();
    const rendered = r.caps ? renderCapabilities(r.caps) : {};
    Object.assign(rec, rendered);
    const declared = Object.keys(rendered).length > 0;
    const user = declared ? Object.fromEntries(Object.entries(r.metadata).filter(([k]) => !RENDERED_KEYS.has(k))) : r.metadata;
    // Internal keys override same-named user metadata keys; `type` is always there, so meta is too.
    const meta: Record<string, unknown> = { llamaswap: sortedKeys({ ...user, ...r.internal }) };
    if (rendered.context_length !== undefined) meta.n_ctx = rendered.context_length;
    rec.meta = meta;
    return { ...rec, status: { value: r.loaded ? "loaded" : "unloaded" } };
  };

  for (const m of Object.values(ctx.config.models)) {
    if (m.unlisted) continue;
    const loaded = !UNLOADED.has(ctx.stateOf(m.id));
    const internal: Record<string, unknown> = { type: "model", ...(m.aliases.length ? { aliases: [...m.aliases] } : {}) };
    const base = { name: m.name, description: m.description, metadata: m.metadata, caps: m.capabilities, loaded };
    data.push(record({ id: m.id, ...base, internal }));
    if (ctx.config.includeAliasesInList) {
      for (const alias of m.aliases) {
        if (alias.trim()) data.push(record({ id: alias.trim(), ...base, internal: { type: "alias", modelID: m.id } }));
      }
    }
  }
  for (const t of ctx.peers.list()) {
    data.push(record({ id: `${t.peer.id}/${t.model}`, name: `${t.peer.id}: ${t.model}`, description: "", metadata: {}, caps: null, loaded: false, internal: { type: "peer", peerID: t.peer.id } }));
  }
  // Names a profile pin must not shadow in the list: models, aliases, peer models, selectors.
  const taken = new Set<string>([...Object.keys(ctx.config.models), ...Object.keys(ctx.config.aliases)]);
  for (const t of ctx.peers.list()) {
    taken.add(`${t.peer.id}/${t.model}`);
    const bare = ctx.resolve(t.model);
    if (bare?.kind === "peer" && bare.peer.id === t.peer.id && bare.model === t.model) taken.add(t.model);
  }
  for (const [sid, sel] of Object.entries(ctx.config.selectors)) {
    taken.add(sid);
    if (sel.unlisted) continue;
    // Loaded when a local target runs (ready or starting); a pin selector looks at its first target only.
    let loaded = false;
    for (const target of sel.targets) {
      const id = ctx.localId(target);
      if (id !== null) {
        const state = ctx.stateOf(id);
        loaded = state === "ready" || state === "starting";
      }
      if (sel.strategy === "pin" || loaded) break;
    }
    const internal: Record<string, unknown> = { type: "selector", strategy: sel.strategy, targets: [...sel.targets] };
    if (sel.strategy === "spillover") internal.spillover = sel.spillover;
    data.push(record({ id: sid, name: sel.name, description: sel.description, metadata: sel.metadata, caps: null, loaded, internal }));
  }
  const active = ctx.names.active();
  const pins = active !== null ? (ctx.config.profiles[active]?.pins ?? {}) : {};
  for (const [pin, target] of Object.entries(pins)) {
    if (target === "" || taken.has(pin)) continue;
    data.push(record({ id: pin, name: "", description: "", metadata: {}, caps: null, loaded: false, internal: { type: "profile" } }));
  }
  data.sort((a, b) => compareCodePoints(a.id, b.id));
  return { object: "list", data };
}
