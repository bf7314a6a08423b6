/**
 * Which models each playground tab offers: the live model list (local, unlisted and peer models)
 * filtered by the capabilities `/v1/models` declares — a `capabilities` array or object, llama-swap's
 * `architecture` modalities, or `meta.llamaswap.capabilities` — and every model when none declares any.
 * Also the remembered choice of model per tab.
 */
import { signal } from "@preact/signals";
import { apiJson } from "../lib/api.ts";
import { models, type ApiModel } from "../lib/store.ts";

/** A playground tab that needs a model. */
export type Cap = "chat" | "images" | "speech" | "transcription" | "rerank";

/** What each capability is called in the muted hint line. */
export const CAP_LABEL: Record<Cap, string> = {
  chat: "chat",
  images: "image generation",
  speech: "speech",
  transcription: "transcription",
  rerank: "reranking",
};

const NAMES: Record<string, Cap> = {
  chat: "chat",
  completion: "chat",
  completions: "chat",
  text: "chat",
  llm: "chat",
  function_calling: "chat",
  tools: "chat",
  vision: "chat",
  image_generation: "images",
  images: "images",
  image: "images",
  txt2img: "images",
  image_to_image: "images",
  audio_speech: "speech",
  speech: "speech",
  tts: "speech",
  audio_transcriptions: "transcription",
  transcription: "transcription",
  transcriptions: "transcription",
  stt: "transcription",
  asr: "transcription",
  reranker: "rerank",
  rerank: "rerank",
  reranking: "rerank",
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string").map((x) => x.toLowerCase()) : []);

/** Capabilities from in/out modalities (llama-swap's config shape and /v1/models `architecture`). */
function fromModalities(into: Set<Cap>, inputs: string[], outputs: string[]): void {
  if (inputs.includes("text") && outputs.includes("text")) into.add("chat");
  if (inputs.includes("image") && outputs.includes("text")) into.add("chat");
  if (inputs.includes("text") && outputs.includes("image")) into.add("images");
  if (inputs.includes("text") && outputs.includes("audio")) into.add("speech");
  if (inputs.includes("audio") && outputs.includes("text")) into.add("transcription");
}

/** One `capabilities` value: ["chat", …], {image_generation: true, …} or {in, out, reranker}. */
function fromValue(into: Set<Cap>, v: unknown): boolean {
  if (Array.isArray(v)) {
    for (const s of strings(v)) if (NAMES[s]) into.add(NAMES[s]);
    return v.length > 0;
  }
  if (!isObj(v)) return false;
  let declared = false;
  for (const [k, x] of Object.entries(v)) {
    if (k === "in" || k === "out" || k === "context") continue;
    if (x === true && NAMES[k.toLowerCase()]) into.add(NAMES[k.toLowerCase()]!);
    if (x === true) declared = true;
  }
  if (v.in !== undefined || v.out !== undefined) {
    fromModalities(into, strings(v.in), strings(v.out));
    declared = true;
  }
  return declared;
}

/** What one /v1/models entry declares; null when it declares nothing. */
export function capabilitiesOf(rec: Obj): Set<Cap> | null {
  const out = new Set<Cap>();
  let declared = fromValue(out, rec.capabilities);
  const arch = rec.architecture;
  if (isObj(arch) && (arch.input_modalities || arch.output_modalities)) {
    fromModalities(out, strings(arch.input_modalities), strings(arch.output_modalities));
    declared = true;
    // llama-swap flags any model with image input `vision` (an image-to-image one too): when the
    // outputs are declared, chat needs text among them.
    if (arch.output_modalities !== undefined && !strings(arch.output_modalities).includes("text")) out.delete("chat");
  }
  const ls = isObj(rec.meta) && isObj(rec.meta.llamaswap) ? rec.meta.llamaswap : null;
  if (ls && fromValue(out, ls.capabilities)) declared = true;
  return declared ? out : null;
}

/** Declared capabilities by model id (only models that declare some). */
export const declared = signal<Map<string, Set<Cap>>>(new Map());

/** Re-read /v1/models for capabilities (failures leave the last answer). */
export async function refreshCapabilities(): Promise<void> {
  try {
    const list = await apiJson<{ data?: Obj[] }>("/v1/models");
    const next = new Map<string, Set<Cap>>();
    for (const rec of list.data ?? []) {
      if (typeof rec.id !== "string") continue;
      const caps = capabilitiesOf(rec);
      if (caps) next.set(rec.id, caps);
    }
    declared.value = next;
  } catch {}
}

/** The models a tab lists, and how they were chosen. */
export interface TabModels {
  list: ApiModel[];
  /** "all": no model declares capabilities; "filtered": by capability; "fallback": none declares this one. */
  how: "all" | "filtered" | "fallback";
}

/** The models for a capability. Undeclared models count as chat models. */
export function modelsFor(cap: Cap): TabModels {
  const all = models.value;
  const caps = declared.value;
  if (caps.size === 0) return { list: all, how: "all" };
  const list = all.filter((m) => {
    const c = caps.get(m.id);
    return c ? c.has(cap) : cap === "chat";
  });
  return list.length > 0 ? { list, how: "filtered" } : { list: all, how: "fallback" };
}

const STORE = "switchyard.playground.model.";

/** The chosen model per tab (remembered in localStorage). */
export const chosen = signal<Record<string, string>>({});

/** The tab's model: the remembered one when it is listed, else the first. */
export function modelOf(tab: string, list: ApiModel[]): string {
  const want = chosen.value[tab] ?? localStorage.getItem(STORE + tab) ?? "";
  if (list.some((m) => m.id === want)) return want;
  return list.find((m) => !m.unlisted && !m.peerID)?.id ?? list[0]?.id ?? "";
}

/** Remember the tab's model. */
export function choose(tab: string, id: string): void {
  chosen.value = { ...chosen.value, [tab]: id };
  localStorage.setItem(STORE + tab, id);
}
