/**
 * config-schema.json for editors, generated from the TypeBox schema. Editors see the file before
 * macro expansion, so every number or boolean also accepts a string that is exactly one `${macro}`.
 */
import { ConfigSchema } from "./schema.ts";

const MACRO_ONLY = { type: "string", pattern: "^\\$\\{[a-zA-Z0-9_.-]+\\}$", description: "A macro that expands to the value." };

type JsonValue = unknown;

function transform(node: JsonValue, underMacroValues: boolean): JsonValue {
  if (Array.isArray(node)) return node.map((n) => transform(n, underMacroValues));
  if (typeof node !== "object" || node === null) return node;
  const obj = node as Record<string, JsonValue>;
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = transform(v, underMacroValues || k === "anyOf");
  const t = obj.type;
  if (!underMacroValues && (t === "integer" || t === "number" || t === "boolean")) {
    const { description, default: dflt, ...rest } = out;
    const wrapped: Record<string, JsonValue> = { anyOf: [rest, MACRO_ONLY] };
    if (description !== undefined) wrapped.description = description;
    if (dflt !== undefined) wrapped.default = dflt;
    return wrapped;
  }
  return out;
}

/** The JSON Schema document (draft-07), as the text committed at the repository root. */
export function renderJsonSchema(): string {
  const body = transform(JSON.parse(JSON.stringify(ConfigSchema)), false) as Record<string, JsonValue>;
  const doc = {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "config-schema.json",
    ...body,
    patternProperties: { "^x-": { description: "Ignored; a place for YAML anchors." } },
  };
  return JSON.stringify(doc, null, 2) + "\n";
}
