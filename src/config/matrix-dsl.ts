/**
 * The matrix DSL (llama-swap's `matrix.sets`): compile named set expressions into the concrete model
 * sets they allow. Identifiers `[\p{L}\p{N}_.-]+` (a var or a model ID), `&` (together, binds tighter),
 * `|` (alternatives), parentheses, `+name` (inline another set). Subset semantics are the swapper's.
 */
import type { ExpandedSet, MatrixConfig } from "./types.ts";

export type { ExpandedSet };

/** A DSL error; `position` is the 0-based character index in `set`'s expression, or null. */
export class MatrixDslError extends Error {
  /** The problem without the set name, e.g. `unexpected "&" at position 4`. */
  readonly detail: string;
  constructor(
    problem: string,
    readonly set: string,
    readonly position: number | null,
  ) {
    const detail = position === null ? problem : `${problem} at position ${position}`;
    super(set === "" ? detail : `set ${JSON.stringify(set)}: ${detail}`);
    this.detail = detail;
    this.name = "MatrixDslError";
  }
}

/** Most combinations one set (or the whole matrix) may expand to. */
export const MAX_EXPANDED_SETS = 10_000;

type Token =
  | { kind: "ident" | "ref"; value: string; pos: number }
  | { kind: "&" | "|" | "(" | ")" | "eof"; value: string; pos: number };

type Node =
  | { kind: "leaf"; name: string; pos: number }
  | { kind: "ref"; name: string; pos: number }
  | { kind: "and" | "or"; children: Node[] };

const IDENT_CHAR = /[\p{L}\p{N}_.-]/u;

function tokenize(src: string, set: string): Token[] {
  const chars = Array.from(src);
  const tokens: Token[] = [];
  let i = 0;
  while (i < chars.length) {
    const ch = chars[i];
    if (/\s/u.test(ch)) {
      i++;
    } else if (ch === "&" || ch === "|" || ch === "(" || ch === ")") {
      tokens.push({ kind: ch, value: ch, pos: i });
      i++;
    } else if (ch === "+") {
      const start = ++i;
      while (i < chars.length && IDENT_CHAR.test(chars[i])) i++;
      if (i === start) throw new MatrixDslError("expected a set name after '+'", set, start);
      tokens.push({ kind: "ref", value: chars.slice(start, i).join(""), pos: start - 1 });
    } else if (IDENT_CHAR.test(ch)) {
      const start = i;
      while (i < chars.length && IDENT_CHAR.test(chars[i])) i++;
      tokens.push({ kind: "ident", value: chars.slice(start, i).join(""), pos: start });
    } else {
      throw new MatrixDslError(`unexpected character ${JSON.stringify(ch)}`, set, i);
    }
  }
  tokens.push({ kind: "eof", value: "", pos: chars.length });
  return tokens;
}

function describe(t: Token): string {
  return t.kind === "eof" ? "end of expression" : t.kind === "ref" ? `"+${t.value}"` : JSON.stringify(t.value);
}

/** Parses one expression into a tree; throws MatrixDslError with the offending position. */
export function parseMatrixExpression(src: string, set: string): Node {
  if (src.trim() === "") throw new MatrixDslError("empty expression", set, null);
  const tokens = tokenize(src, set);
  let p = 0;
  const peek = (): Token => tokens[p];
  const next = (): Token => tokens[p < tokens.length - 1 ? p++ : p];

  const parseOr = (): Node => {
    const children = [parseAnd()];
    while (peek().kind === "|") {
      next();
      children.push(parseAnd());
    }
    return children.length === 1 ? children[0] : { kind: "or", children };
  };
  const parseAnd = (): Node => {
    const children = [parseAtom()];
    while (peek().kind === "&") {
      next();
      children.push(parseAtom());
    }
    return children.length === 1 ? children[0] : { kind: "and", children };
  };
  const parseAtom = (): Node => {
    const t = next();
    if (t.kind === "ident") return { kind: "leaf", name: t.value, pos: t.pos };
    if (t.kind === "ref") return { kind: "ref", name: t.value, pos: t.pos };
    if (t.kind === "(") {
      const inner = parseOr();
      const close = next();
      if (close.kind !== ")") throw new MatrixDslError(`missing ')' (found ${describe(close)})`, set, close.pos);
      return inner;
    }
    throw new MatrixDslError(`unexpected ${describe(t)}`, set, t.pos);
  };

  const root = parseOr();
  const rest = peek();
  if (rest.kind !== "eof") throw new MatrixDslError(`unexpected ${describe(rest)} after expression`, set, rest.pos);
  return root;
}

/**
 * Compiles the matrix into its concrete sets, in compiled order: referenced sets before the sets that
 * reference them, otherwise definition order. Identifiers resolve through `vars` first, then model IDs.
 */
export function compileMatrix(m: Pick<MatrixConfig, "vars" | "sets">, modelIds: ReadonlySet<string>): ExpandedSet[] {
  if (m.sets.length === 0) throw new MatrixDslError("the matrix must define at least one set", "", null);
  const defs = new Map<string, { dsl: string; root: Node; refs: string[] }>();
  for (const { name, dsl } of m.sets) {
    if (defs.has(name)) throw new MatrixDslError("set defined twice", name, null);
    defs.set(name, { dsl, root: parseMatrixExpression(dsl, name), refs: [] });
  }
  for (const [name, def] of defs) {
    const walk = (n: Node): void => {
      if (n.kind === "leaf") {
        if (!Object.hasOwn(m.vars, n.name) && !modelIds.has(n.name)) {
          throw new MatrixDslError(`unknown var or model ${JSON.stringify(n.name)}`, name, n.pos);
        }
      } else if (n.kind === "ref") {
        if (!defs.has(n.name)) throw new MatrixDslError(`reference to undefined set ${JSON.stringify(n.name)}`, name, n.pos);
        if (!def.refs.includes(n.name)) def.refs.push(n.name);
      } else n.children.forEach(walk);
    };
    walk(def.root);
  }

  // Topological order by depth-first visit in definition order (llama-swap's compiled order).
  const state = new Map<string, 1 | 2>();
  const order: string[] = [];
  const visit = (name: string, stack: string[]): void => {
    const s = state.get(name);
    if (s === 2) return;
    if (s === 1) {
      const cycle = [...stack.slice(stack.indexOf(name)), name].join(" -> ");
      throw new MatrixDslError(`circular reference: ${cycle}`, name, null);
    }
    state.set(name, 1);
    for (const dep of defs.get(name)!.refs) visit(dep, [...stack, name]);
    state.set(name, 2);
    order.push(name);
  };
  for (const name of defs.keys()) visit(name, []);

  const resolve = (id: string): string => (Object.hasOwn(m.vars, id) ? m.vars[id] : id);
  const expanded = new Map<string, string[][]>();
  const expand = (n: Node, set: string): string[][] => {
    if (n.kind === "leaf") return [[resolve(n.name)]];
    if (n.kind === "ref") return expanded.get(n.name)!;
    if (n.kind === "or") {
      const out: string[][] = [];
      for (const c of n.children) {
        out.push(...expand(c, set));
        if (out.length > MAX_EXPANDED_SETS) throw tooMany(set);
      }
      return out;
    }
    let acc: string[][] = [[]];
    for (const c of n.children) {
      const right = expand(c, set);
      if (acc.length * right.length > MAX_EXPANDED_SETS) throw tooMany(set);
      const next: string[][] = [];
      for (const a of acc) for (const b of right) next.push([...a, ...b]);
      acc = next;
    }
    return acc;
  };

  const result: ExpandedSet[] = [];
  for (const name of order) {
    const def = defs.get(name)!;
    const combos = dedupe(expand(def.root, name));
    expanded.set(name, combos);
    for (const models of combos) {
      result.push({ set: name, dsl: def.dsl, models });
      if (result.length > MAX_EXPANDED_SETS) {
        throw new MatrixDslError(`the matrix expands to more than ${MAX_EXPANDED_SETS} combinations in total`, name, null);
      }
    }
  }
  return result;
}

function tooMany(set: string): MatrixDslError {
  return new MatrixDslError(`expression expands to more than ${MAX_EXPANDED_SETS} combinations; simplify it`, set, null);
}

/** Removes repeated models inside each combination and repeated combinations (first one wins). */
function dedupe(combos: string[][]): string[][] {
  const seen = new Set<string>();
  const out: string[][] = [];
  for (const c of combos) {
    const models = [...new Set(c)];
    const key = JSON.stringify([...models].sort());
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(models);
  }
  return out;
}

/** Evict costs keyed by real model ID: a cost written for a var applies to the model it names. */
export function resolveEvictCosts(m: Pick<MatrixConfig, "vars" | "evictCosts">): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, cost] of Object.entries(m.evictCosts)) {
    if (Object.hasOwn(m.vars, key)) continue;
    out[key] = cost;
  }
  // Vars win over a model ID of the same name, as identifiers do in the DSL.
  for (const [key, cost] of Object.entries(m.evictCosts)) {
    const id = m.vars[key];
    if (Object.hasOwn(m.vars, key) && id !== undefined) out[id] = cost;
  }
  return out;
}
