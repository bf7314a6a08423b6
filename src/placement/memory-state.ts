/**
 * The remembered sizes: each model's last measured Need, keyed by model ID and by a hash of the
 * command that ran it, so a changed command forgets the figure. The command is hashed as written,
 * with its `${PORT}` value and `${SWITCHYARD}`'s expansion put back as those macros
 * (stableCommand), so a port moved by an added model or a switch between the binary and the
 * source keeps the figure. Pure (serialise, parse, look up, remember); the file is read and
 * written at the edge (cli/memory-state-file.ts). Web-standard.
 *
 * The file: `{"version": 1, "models": {"<id>": {"command": "<hash>", "need": {"perDevice": {"0": 123}, "source": "measured"}, "at": 1767225600000}}}`.
 */
import type { Need, NeedSource } from "./types.ts";
import type { Parsed } from "./parsed.ts";

/** The state file's format version. */
export const MEMORY_STATE_VERSION = 1;

/** One model's remembered figure. */
export interface RememberedNeed {
  /** commandHash() of the argv it was measured with. */
  command: string;
  need: Need;
  /** When it was measured (epoch ms). */
  at: number;
}

/** Everything remembered, by model ID. */
export interface MemoryState {
  models: Record<string, RememberedNeed>;
}

/** A state that remembers nothing. */
export function emptyMemoryState(): MemoryState {
  return { models: {} };
}

/** A 64-bit FNV-1a hash (16 hex digits) of the argv joined with NUL, so `["a b"]` and `["a", "b"]` differ. */
export function commandHash(argv: readonly string[]): string {
  const bytes = new TextEncoder().encode(argv.join("\u0000"));
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, "0");
}

/**
 * `argv` with what varies between runs of the same command put back as macros: the model's port
 * (where it stands as a whole number) as `${PORT}`, and the words of `self` (the program's own
 * argv, what `${SWITCHYARD}` expands to) as one `${SWITCHYARD}` word.
 */
export function stableCommand(argv: readonly string[], port: number | null, self: readonly string[] = []): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (self.length > 0 && self.every((w, j) => argv[i + j] === w)) {
      out.push("${SWITCHYARD}");
      i += self.length - 1;
      continue;
    }
    out.push(port === null ? argv[i] : argv[i].replace(new RegExp(`(?<![0-9])${port}(?![0-9])`, "g"), "${PORT}"));
  }
  return out;
}

/**
 * The figure remembered for `model` when it was measured with this very `argv`; else null. Files
 * written before stableCommand hashed the expanded argv: `legacy` (that argv) still recalls such
 * an entry while the command and its port are unchanged.
 */
export function rememberedNeed(state: MemoryState, model: string, argv: readonly string[], legacy?: readonly string[]): Need | null {
  const r = Object.hasOwn(state.models, model) ? state.models[model] : undefined;
  if (r === undefined) return null;
  return r.command === commandHash(argv) || (legacy !== undefined && r.command === commandHash(legacy)) ? r.need : null;
}

/** A new state with `need` remembered for `model` run as `argv` (replacing what was there). */
export function rememberNeed(state: MemoryState, model: string, argv: readonly string[], need: Need, at: number): MemoryState {
  return { models: { ...state.models, [model]: { command: commandHash(argv), need: { perDevice: { ...need.perDevice }, source: need.source }, at } } };
}

/** A new state without the models `keep` refuses (e.g. those no longer configured). */
export function pruneMemoryState(state: MemoryState, keep: (model: string) => boolean): MemoryState {
  return { models: Object.fromEntries(Object.entries(state.models).filter(([id]) => keep(id))) };
}

/** The state as the file's text (pretty-printed, models in ID order, a final newline). */
export function serializeMemoryState(state: MemoryState): string {
  const models = Object.fromEntries(Object.keys(state.models).sort().map((id) => [id, state.models[id]]));
  return `${JSON.stringify({ version: MEMORY_STATE_VERSION, models }, null, 2)}\n`;
}

const SOURCES: readonly NeedSource[] = ["unknown", "guessed", "declared", "measured"];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isBytes = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;

/** One entry of the file, or why it is not one. */
function parseEntry(v: unknown): RememberedNeed | string {
  if (!isObject(v)) return "not an object";
  if (typeof v.command !== "string" || v.command === "") return "no command hash";
  if (!isBytes(v.at)) return "no time";
  const need = v.need;
  if (!isObject(need) || !isObject(need.perDevice)) return "no need.perDevice";
  const source = SOURCES.find((s) => s === need.source);
  if (source === undefined) return `unknown source ${JSON.stringify(need.source)}`;
  const perDevice: Record<string, number> = {};
  for (const [device, bytes] of Object.entries(need.perDevice)) {
    if (!isBytes(bytes)) return `device ${JSON.stringify(device)}: not a byte count`;
    perDevice[device] = bytes;
  }
  return { command: v.command, need: { perDevice, source }, at: v.at };
}

/**
 * The file's text as a state. Text that is not the format at all (not JSON, another version, no
 * models object) is an error; a single malformed entry is an error too (naming the model), so a
 * damaged file is noticed rather than half-trusted.
 */
export function parseMemoryState(text: string): Parsed<MemoryState> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON (${(err as Error).message})` };
  }
  if (!isObject(doc)) return { ok: false, error: "not a JSON object" };
  if (doc.version !== MEMORY_STATE_VERSION) return { ok: false, error: `version ${JSON.stringify(doc.version)}, expected ${MEMORY_STATE_VERSION}` };
  if (!isObject(doc.models)) return { ok: false, error: "no models object" };
  const models: Record<string, RememberedNeed> = {};
  for (const [id, v] of Object.entries(doc.models)) {
    const entry = parseEntry(v);
    if (typeof entry === "string") return { ok: false, error: `model ${JSON.stringify(id)}: ${entry}` };
    models[id] = entry;
  }
  return { ok: true, value: { models } };
}
