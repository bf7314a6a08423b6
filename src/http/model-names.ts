/**
 * The name a model request is served as: the active profile's pins first, then selectors
 * (llama-swap's profile and selector middlewares, in that order). A pin rewrites the requested
 * name (an empty pin refuses it with 404); a selector picks one of its targets from the current
 * process states (informing, never gating, what the router then decides) and, for spillover,
 * holds a reservation until the request ends (a config reload keeps it). The active profile is
 * none at start and after every config reload; each change is published as a `profile` observation. Web-standard.
 */
import type { Config } from "../config/types.ts";
import { createNameResolver } from "../config/normalize-selectors.ts";
import type { ObserveEvent } from "../observe/events.ts";
import { pinFor, rewriteUpstreamPath, upstreamPin } from "../select/profile-pins.ts";
import { createSpilloverPool, NoSpilloverTarget, pinTarget, warmTarget, type ResolvedTarget, type SpilloverCounts, type SpilloverPool, type TargetState } from "../select/selector-strategies.ts";
import { HttpError } from "./errors.ts";

/** What a requested name became. */
export interface NameChoice {
  /** The name to serve (the requested one when nothing applied). */
  name: string;
  /** The selector that chose it, or null. */
  selector: string | null;
  /** Gives a spillover reservation back (idempotent; a no-op otherwise). Call when the request ends. */
  release: () => void;
}

/** Profiles and selectors over the live config. */
export interface ModelNames {
  /** The active profile, or null. */
  active(): string | null;
  /** Activate a profile (null: none); false when it was already so. Throws a 404 HttpError for an unknown one. */
  setActive(name: string | null): boolean;
  /** Pins, then selectors, for a model route's requested name. Throws an HttpError when the name is disabled or no target is left. */
  choose(requested: string): NameChoice;
  /** Pins on an `/upstream/` path (after the prefix, raw); selectors do not apply there. Throws a 404 HttpError for a disabled name. */
  upstreamPath(rawPath: string): string;
  /** Reservations of a spillover selector by resolved model (for tests and the UI). */
  reservations(selector: string): ReadonlyMap<string, number>;
  /** Bring the state to the current config: after a reload, no profile is active; spillover reservations of requests still running are kept. */
  sync(): void;
}

/** Inputs of the name resolution. */
export interface ModelNamesDeps {
  config: () => Config;
  /** Process state of a local model. */
  stateOf: (id: string) => string;
  /** Where profile changes are published. */
  publish?: (ev: ObserveEvent) => void;
  now?: () => number;
}

const NONE = new Map<string, number>();
const noop = (): void => {};

/** Create the name resolution for the HTTP layer. */
export function createModelNames(deps: ModelNamesDeps): ModelNames {
  const now = deps.now ?? Date.now;
  let config = deps.config();
  let active: string | null = null;
  let pools = new Map<string, SpilloverPool>();
  let targetsOf = new Map<string, ResolvedTarget[]>();
  /** Each spillover selector's counts, kept across reloads: its requests still running hold their reservations. */
  const counts = new Map<string, SpilloverCounts>();

  const build = (): void => {
    const names = createNameResolver(new Set(Object.keys(config.models)), config.aliases, config.peers);
    targetsOf = new Map();
    pools = new Map();
    for (const [sid, sel] of Object.entries(config.selectors)) {
      const resolved = sel.targets.map((target): ResolvedTarget => {
        const r = names.resolve(target);
        return { target, id: r?.id ?? target, local: r?.local ?? false };
      });
      targetsOf.set(sid, resolved);
      if (sel.strategy !== "spillover") continue;
      let c = counts.get(sid);
      if (!c) counts.set(sid, (c = { inflight: new Map(), turn: 0 }));
      pools.set(sid, createSpilloverPool(sid, resolved, sel.spillover, c));
    }
    // A selector the reload removed keeps no counts once its last request has given its reservation back.
    for (const [sid, c] of counts) if (!pools.has(sid) && c.inflight.size === 0) counts.delete(sid);
  };
  build();

  const publish = (): void => deps.publish?.({ type: "profile", active, at: now() });
  const sync = (): void => {
    const current = deps.config();
    if (current === config) return;
    config = current;
    build();
    if (active !== null) {
      active = null;
      publish();
    }
  };
  const state = (id: string): TargetState => {
    const s = deps.stateOf(id);
    return s === "stopped" || s === "starting" || s === "ready" || s === "stopping" || s === "shutdown" ? s : undefined;
  };
  const pins = (): Readonly<Record<string, string>> | null => (active !== null ? (config.profiles[active]?.pins ?? null) : null);
  const disabled = (name: string): HttpError =>
    new HttpError(404, `model ${JSON.stringify(name)} is disabled by the active profile ${JSON.stringify(active)}`, { code: "model_not_found", param: "model" });

  return {
    active() {
      sync();
      return active;
    },
    setActive(name) {
      sync();
      if (name !== null && !Object.hasOwn(config.profiles, name)) throw new HttpError(404, `profile ${JSON.stringify(name)} not found`);
      if (active === name) return false;
      active = name;
      publish();
      return true;
    },
    choose(requested) {
      sync();
      let name = requested;
      const p = pins();
      const pinned = p ? pinFor(p, requested) : undefined;
      if (pinned === "") throw disabled(requested);
      if (pinned !== undefined) name = pinned;
      const sel = Object.hasOwn(config.selectors, name) ? config.selectors[name] : undefined;
      if (!sel) return { name, selector: null, release: noop };
      const targets = targetsOf.get(name)!;
      if (sel.strategy === "pin") return { name: pinTarget(sel), selector: name, release: noop };
      if (sel.strategy === "warm") return { name: warmTarget(targets, state), selector: name, release: noop };
      try {
        const r = pools.get(name)!.reserve(state);
        return { name: r.target, selector: name, release: r.release };
      } catch (err) {
        if (err instanceof NoSpilloverTarget) throw new HttpError(503, err.message, { code: "no_target" });
        throw err;
      }
    },
    upstreamPath(rawPath) {
      sync();
      const p = pins();
      const pin = p ? upstreamPin(p, rawPath) : null;
      if (!pin) return rawPath;
      if (pin.target === "") throw disabled(pin.name);
      return rewriteUpstreamPath(pin);
    },
    reservations(selector) {
      sync();
      return pools.get(selector)?.held() ?? NONE;
    },
    sync,
  };
}
