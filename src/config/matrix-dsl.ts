/**
 * The matrix DSL (llama-swap's `matrix.sets`): compile named set expressions into trees, and project
 * them onto a few models to list the concrete combinations a decision needs. Identifiers `[\p{L}\p{N}_.-]+` (a var or a model ID), `&` (together, binds tighter),
 * `|` (alternatives), parentheses, `+name` (inline another set). Subset semantics are the swapper's.
 */
import type { CompiledMatrixSet, ExpandedSet, MatrixConfig, MatrixExpr } from "./types.ts";

export type { CompiledMatrixSet, ExpandedSet, MatrixExpr };

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
 * Compiles the matrix, in compiled order: referenced sets before the sets that reference them,
 * otherwise definition order. Identifiers resolve through `vars` first, then model IDs. Nothing is
 * expanded here: like llama-swap (its internal/matrix keeps AND un-distributed over OR), ten groups
 * of ten alternatives stay a small tree, not ten billion combinations; `projectMatrix` expands
 * only onto the models a decision is about.
 */
export function compileMatrix(m: Pick<MatrixConfig, "vars" | "sets">, modelIds: ReadonlySet<string>): CompiledMatrixSet[] {
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
  const toExpr = (n: Node): MatrixExpr =>
    n.kind === "leaf" ? { kind: "model", id: resolve(n.name) } : n.kind === "ref" ? { kind: "ref", set: n.name } : { kind: n.kind, children: n.children.map(toExpr) };
  const mentioned = new Map<string, string[]>();
  const out: CompiledMatrixSet[] = [];
  for (const name of order) {
    const def = defs.get(name)!;
    // Every model a set mentions is in one of its combinations: no expression is empty.
    const models: string[] = [];
    const add = (id: string): void => void (models.includes(id) || models.push(id));
    const walk = (n: Node): void => {
      if (n.kind === "leaf") add(resolve(n.name));
      else if (n.kind === "ref") mentioned.get(n.name)!.forEach(add);
      else n.children.forEach(walk);
    };
    walk(def.root);
    mentioned.set(name, models);
    out.push({ set: name, dsl: def.dsl, models, expr: toExpr(def.root) });
  }
  return out;
}

/**
 * The matrix's combinations projected onto `universe` (each combination's models that are in it),
 * set by set in compiled order, each set's repeats removed (the first wins), in the order full
 * expansion would list them. A decision about a target and the running models depends only on
 * these: a combination's cost, and what it keeps, is the same as its projection's. The work is
 * bounded by 2^|universe| per node, however many combinations the matrix has.
 */
export function projectMatrix(compiled: readonly CompiledMatrixSet[], universe: readonly string[]): ExpandedSet[] {
  const inside = new Set(universe);
  const bySet = new Map<string, string[][]>();
  const project = (e: MatrixExpr): string[][] => {
    if (e.kind === "model") return [inside.has(e.id) ? [e.id] : []];
    if (e.kind === "ref") return bySet.get(e.set)!;
    if (e.kind === "or") return dedupe(e.children.flatMap(project));
    let acc: string[][] = [[]];
    for (const c of e.children) {
      const right = project(c);
      const next: string[][] = [];
      for (const a of acc) for (const b of right) next.push(a.length === 0 ? b : b.length === 0 ? a : [...a, ...b]);
      acc = dedupe(next);
    }
    return acc;
  };
  const result: ExpandedSet[] = [];
  for (const s of compiled) {
    const combos = project(s.expr);
    bySet.set(s.set, combos);
    for (const models of combos) result.push({ set: s.set, dsl: s.dsl, models });
  }
  return result;
}

/** Every combination of the matrix (its projection onto all the models it mentions): for small matrices, tests and reports. */
export function expandMatrix(compiled: readonly CompiledMatrixSet[]): ExpandedSet[] {
  return projectMatrix(compiled, [...new Set(compiled.flatMap((s) => s.models))]);
}

/** Removes repeated models inside each combination and repeated combinations (first one wins). */
function dedupe(combos: string[][]): string[][] {
  const seen = new Set<string>();
  const out: string[][] = [];
  for (const c of combos) {
    const models = c.length < 2 ? c : [...new Set(c)];
    const key = models.length < 2 ? (models[0] ?? "") : JSON.stringify([...models].sort());
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
