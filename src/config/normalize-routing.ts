/**
 * Routing normalisation: legacy top-level groups/matrix vs routing.router, group membership rules and
 * the synthetic (default) group, matrix vars/costs/sets (compiled here, once: the resolved Config
 * carries the sets), scheduler priorities.
 */
import { didYouMean, type PathSeg } from "./errors.ts";
import { compileMatrix, MatrixDslError, parseMatrixExpression, resolveEvictCosts } from "./matrix-dsl.ts";
import { DEFAULT_GROUP_ID, ordered, type ConfigInput, type GroupInput, type MatrixInput, type NormalizeContext } from "./normalize-context.ts";
import { DEFAULTS } from "./schema.ts";
import { normalizeFit } from "./normalize-fit.ts";
import type { GroupConfig, MatrixConfig, RoutingConfig } from "./types.ts";

function hasKeys(o: object | undefined): boolean {
  return o !== undefined && Object.keys(o).length > 0;
}

/** Routing: legacy vs routing.router, groups with the (default) group, matrix, scheduler priorities. */
export function normalizeRouting(
  input: ConfigInput,
  ctx: NormalizeContext,
  ids: string[],
  idSet: ReadonlySet<string>,
  aliases: Record<string, string>,
  resolve: (name: string) => string | null,
): RoutingConfig {
  const rr = input.routing?.router;
  const hasLegacy = input.matrix !== undefined || hasKeys(input.groups);
  const hasRouting = rr?.use !== undefined || rr?.settings?.matrix !== undefined || hasKeys(rr?.settings?.groups);
  let groupsIn: Record<string, GroupInput> = {};
  let groupsPath: PathSeg[] = ["groups"];
  let matrixIn: MatrixInput | null = null;
  let matrixPath: PathSeg[] = ["matrix"];

  if (hasLegacy && hasRouting) {
    ctx.report(
      [input.matrix !== undefined ? "matrix" : "groups"],
      "the legacy top-level groups/matrix keys cannot be combined with routing.router; move them under routing.router.settings",
    );
  } else if (hasLegacy) {
    if (input.matrix !== undefined && hasKeys(input.groups)) ctx.report(["matrix"], "cannot use both groups and matrix; pick one router");
    if (input.matrix !== undefined) matrixIn = input.matrix;
    else groupsIn = input.groups ?? {};
  } else {
    const settings = rr?.settings ?? {};
    if (rr?.use === "fit") {
      if (hasKeys(settings.groups)) ctx.warn(["routing", "router", "settings", "groups"], "ignored: routing.router.use is fit (models are placed by memory)");
      if (settings.matrix !== undefined) ctx.warn(["routing", "router", "settings", "matrix"], "ignored: routing.router.use is fit (models are placed by memory)");
    } else if (rr?.use === "matrix") {
      matrixPath = ["routing", "router", "settings", "matrix"];
      if (settings.matrix === undefined) ctx.report(["routing", "router", "use"], "is matrix but routing.router.settings.matrix is not set");
      else matrixIn = settings.matrix;
      if (hasKeys(settings.groups)) ctx.warn(["routing", "router", "settings", "groups"], "ignored: routing.router.use is matrix");
    } else {
      groupsPath = ["routing", "router", "settings", "groups"];
      groupsIn = settings.groups ?? {};
      if (settings.matrix !== undefined) ctx.warn(["routing", "router", "settings", "matrix"], "ignored: routing.router.use is group");
    }
  }

  let matrix: MatrixConfig | null = null;
  let groups: GroupConfig[] = [];
  const fit = !hasLegacy && rr?.use === "fit" ? normalizeFit(rr.settings?.fit, ctx) : null;
  if (fit !== null) groups = [];
  else if (matrixIn !== null) matrix = normalizeMatrix(matrixIn, matrixPath, ctx, idSet, aliases);
  else groups = normalizeGroups(groupsIn, groupsPath, ctx, ids, idSet, aliases);

  const fifo = input.routing?.scheduler?.settings?.fifo;
  const priority: Record<string, number> = {};
  const setBy: Record<string, string> = {};
  const prioPath: PathSeg[] = ["routing", "scheduler", "settings", "fifo", "priority"];
  for (const key of ordered(ctx, prioPath, fifo?.priority ?? {})) {
    const id = resolve(key);
    if (id === null) {
      const hint = didYouMean(key, [...idSet, ...Object.keys(aliases)]);
      ctx.report([...prioPath, key], `unknown model ${JSON.stringify(key)}${hint ? `, did you mean ${hint}?` : ""}`);
    } else if (Object.hasOwn(priority, id)) {
      ctx.report([...prioPath, key], `model ${id} already has a priority (from key ${JSON.stringify(setBy[id])})`);
    } else {
      priority[id] = fifo!.priority![key];
      setBy[id] = key;
    }
  }

  return {
    router: fit !== null ? "fit" : matrix !== null ? "matrix" : "group",
    fit,
    groups,
    matrix,
    scheduler: input.routing?.scheduler?.use ?? "fifo",
    fifo: { priority, maxWait: fifo?.maxWait ?? DEFAULTS.fifoMaxWait },
  };
}

function unknownModel(name: string, idSet: ReadonlySet<string>, aliases: Record<string, string>, what: string): string {
  if (Object.hasOwn(aliases, name)) return `${JSON.stringify(name)} is an alias of model ${aliases[name]}; ${what} take model IDs`;
  const hint = didYouMean(name, idSet);
  return `${JSON.stringify(name)} is not a model ID${hint ? `, did you mean ${hint}?` : ""}`;
}

function normalizeGroups(
  groupsIn: Record<string, GroupInput>,
  groupsPath: PathSeg[],
  ctx: NormalizeContext,
  ids: string[],
  idSet: ReadonlySet<string>,
  aliases: Record<string, string>,
): GroupConfig[] {
  const groups: GroupConfig[] = [];
  const memberOf = new Map<string, string>();
  for (const gid of ordered(ctx, groupsPath, groupsIn)) {
    const g = groupsIn[gid];
    const gp: PathSeg[] = [...groupsPath, gid];
    if (gid === DEFAULT_GROUP_ID) ctx.report(gp, `the group name ${DEFAULT_GROUP_ID} is reserved for ungrouped models`);
    const members: string[] = [];
    (g.members ?? []).forEach((member, i) => {
      const at: PathSeg[] = [...gp, "members", i];
      if (members.includes(member)) ctx.report(at, `duplicate member ${JSON.stringify(member)}`);
      else if (!idSet.has(member)) ctx.report(at, unknownModel(member, idSet, aliases, "groups"));
      else if (memberOf.has(member)) ctx.report(at, `model ${member} is already a member of group ${memberOf.get(member)}; a model belongs to at most one group`);
      else {
        memberOf.set(member, gid);
        members.push(member);
      }
    });
    groups.push({ id: gid, members, swap: g.swap ?? true, exclusive: g.exclusive ?? true, persistent: g.persistent ?? false });
  }
  const ungrouped = ids.filter((id) => !memberOf.has(id));
  groups.push({ id: DEFAULT_GROUP_ID, members: ungrouped, swap: true, exclusive: true, persistent: false });
  return groups;
}

const VAR_KEY = /^[a-zA-Z0-9.-]{1,32}$/;

function normalizeMatrix(
  m: MatrixInput,
  path: PathSeg[],
  ctx: NormalizeContext,
  idSet: ReadonlySet<string>,
  aliases: Record<string, string>,
): MatrixConfig {
  const vars: Record<string, string> = {};
  let ok = true;
  const varsIn = m.vars ?? {};
  for (const key of ordered(ctx, [...path, "vars"], varsIn)) {
    const at: PathSeg[] = [...path, "vars", key];
    if (!VAR_KEY.test(key)) {
      ctx.report(at, "var names are 1-32 letters, digits, '-' or '.'");
      ok = false;
    } else if (!idSet.has(varsIn[key])) {
      ctx.report(at, unknownModel(varsIn[key], idSet, aliases, "vars"));
      ok = false;
    }
    vars[key] = varsIn[key];
  }
  const evictCosts: Record<string, number> = {};
  const costsIn = m.evict_costs ?? {};
  for (const key of ordered(ctx, [...path, "evict_costs"], costsIn)) {
    if (!Object.hasOwn(vars, key) && !idSet.has(key)) {
      const hint = didYouMean(key, [...Object.keys(vars), ...idSet]);
      ctx.report([...path, "evict_costs", key], `unknown var or model ${JSON.stringify(key)}${hint ? `, did you mean ${hint}?` : ""}`);
    }
    if (costsIn[key] < 1) ctx.report([...path, "evict_costs", key], `must be >= 1, got ${costsIn[key]}`);
    evictCosts[key] = costsIn[key];
  }
  const setsIn = m.sets ?? {};
  const sets = ordered(ctx, [...path, "sets"], setsIn).map((name) => ({ name, dsl: setsIn[name] }));
  const matrix: MatrixConfig = { vars, evictCosts, sets, compiled: [], costById: resolveEvictCosts({ vars, evictCosts }) };
  if (sets.length === 0) {
    ctx.report([...path, "sets"], "must define at least one set");
    return matrix;
  }
  // Parse every set first so that each syntax error is reported, then link and compile once.
  for (const { name, dsl } of sets) {
    try {
      parseMatrixExpression(dsl, name);
    } catch (err) {
      if (!(err instanceof MatrixDslError)) throw err;
      ctx.report([...path, "sets", name], err.detail);
      ok = false;
    }
  }
  if (ok) {
    try {
      // Compiled once, here: the router and --check read the result from the Config.
      matrix.compiled = compileMatrix(matrix, idSet);
    } catch (err) {
      if (!(err instanceof MatrixDslError)) throw err;
      ctx.report(err.set === "" ? [...path, "sets"] : [...path, "sets", err.set], err.detail);
    }
  }
  return matrix;
}
