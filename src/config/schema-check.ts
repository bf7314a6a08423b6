/**
 * Schema validation of the macro-expanded tree: gentle coercions llama-swap's YAML decoder also does,
 * then TypeBox `Value.Default` + `Value.Errors` turned into issues a person can act on.
 */
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { ValueErrorType, type ValueError } from "@sinclair/typebox/errors";
import { didYouMean, type PathSeg } from "./errors.ts";

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// YAML 1.1 booleans, which yaml.v3 (llama-swap) still accepts for typed bool fields.
const TRUE_WORDS = new Set(["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"]);
const FALSE_WORDS = new Set(["n", "N", "no", "No", "NO", "off", "Off", "OFF"]);

/**
 * Walks value and schema together, in place: drops `key: null` properties (an empty YAML value means
 * "not set", as in llama-swap), turns scalars into strings where a string is expected, and YAML 1.1
 * yes/no/on/off into booleans where a boolean is expected.
 */
export function coerce(schema: TSchema, value: unknown): unknown {
  if (schema.type === "string" && (typeof value === "number" || typeof value === "boolean")) return String(value);
  if (schema.type === "boolean" && typeof value === "string") {
    if (TRUE_WORDS.has(value)) return true;
    if (FALSE_WORDS.has(value)) return false;
    return value;
  }
  if (schema.type === "array" && Array.isArray(value) && schema.items) {
    return value.map((v) => coerce(schema.items as TSchema, v));
  }
  if (schema.type === "object" && isObject(value)) {
    const props = (schema.properties ?? {}) as Record<string, TSchema>;
    const patterns = Object.values((schema.patternProperties ?? {}) as Record<string, TSchema>);
    for (const key of Object.keys(value)) {
      const sub = Object.hasOwn(props, key) ? props[key] : patterns[0];
      if (!sub) continue;
      if (value[key] === null && Object.hasOwn(props, key)) delete value[key];
      else value[key] = coerce(sub, value[key]);
    }
  }
  return value;
}

/** A schema finding with its path as segments. */
export interface SchemaIssue {
  path: PathSeg[];
  message: string;
  /** True when the issue is about a missing key (the path names the missing key). */
  missing: boolean;
  /** True for a key the schema does not know: llama-swap ignores those, so it is a warning here. */
  unknown: boolean;
}

/** Short description of a value for messages: `"abc"`, `12`, `a list`, `a mapping`, `nothing`. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 37) + "..." : v);
  return String(v);
}

function pointerToPath(pointer: string, root: unknown): PathSeg[] {
  const path: PathSeg[] = [];
  let cur: unknown = root;
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(cur) && /^\d+$/.test(seg)) {
      path.push(Number(seg));
      cur = cur[Number(seg)];
    } else {
      path.push(seg);
      cur = isObject(cur) ? cur[seg] : undefined;
    }
  }
  return path;
}

function literalChoices(schema: TSchema): string[] | null {
  const anyOf = schema.anyOf as TSchema[] | undefined;
  if (!anyOf || !anyOf.every((s) => s.const !== undefined)) return null;
  return anyOf.map((s) => String(s.const));
}

function messageFor(e: ValueError): string {
  const got = `got ${describeValue(e.value)}`;
  const s = e.schema;
  switch (e.type) {
    case ValueErrorType.ObjectAdditionalProperties: {
      const key = e.path.split("/").pop()!.replaceAll("~1", "/").replaceAll("~0", "~");
      const hint = didYouMean(key, Object.keys((s.properties ?? {}) as object));
      return hint ? `unknown key, ignored (llama-swap ignores it too); did you mean ${hint}?` : "unknown key, ignored (llama-swap ignores it too)";
    }
    case ValueErrorType.ObjectRequiredProperty:
      return "is required";
    case ValueErrorType.Object:
      return `must be a mapping, ${got}`;
    case ValueErrorType.Array:
      return `must be a list, ${got}`;
    case ValueErrorType.String:
      return `must be a string, ${got}`;
    case ValueErrorType.Boolean:
      return `must be true or false, ${got}`;
    case ValueErrorType.Integer:
      return `must be a whole number, ${got}`;
    case ValueErrorType.Number:
      return `must be a number, ${got}`;
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return `must be >= ${s.minimum}, ${got}`;
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return `must be <= ${s.maximum}, ${got}`;
    case ValueErrorType.IntegerExclusiveMinimum:
    case ValueErrorType.NumberExclusiveMinimum:
      return `must be > ${s.exclusiveMinimum}, ${got}`;
    case ValueErrorType.ArrayMinItems:
      return `must list at least ${s.minItems} entr${s.minItems === 1 ? "y" : "ies"}`;
    case ValueErrorType.StringPattern:
      return String(s.pattern).includes("=") ? `must be NAME=value, ${got}` : `must match ${s.pattern}, ${got}`;
    case ValueErrorType.Union: {
      const choices = literalChoices(s);
      return choices ? `must be one of ${choices.join(", ")}, ${got}` : `has the wrong type, ${got}`;
    }
    default:
      return `${e.message}, ${got}`;
  }
}

/** Applies schema defaults (in place where possible) and returns the defaulted value. */
export function applyDefaults(schema: TSchema, value: unknown): unknown {
  return Value.Default(schema, value);
}

/** Every schema violation, one per path (the first TypeBox reports), with readable messages. */
export function schemaIssues(schema: TSchema, value: unknown): SchemaIssue[] {
  const seen = new Set<string>();
  const out: SchemaIssue[] = [];
  for (const e of Value.Errors(schema, value)) {
    if (seen.has(e.path)) continue;
    seen.add(e.path);
    out.push({
      path: pointerToPath(e.path, value),
      message: messageFor(e),
      missing: e.type === ValueErrorType.ObjectRequiredProperty,
      unknown: e.type === ValueErrorType.ObjectAdditionalProperties,
    });
  }
  return out;
}
