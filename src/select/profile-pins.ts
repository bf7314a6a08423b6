/**
 * Profile pins (llama-swap's `profiles`): while a profile is active, a requested name it pins is
 * rewritten to the pin's target before selectors, aliases and filters; an empty target disables
 * the name. On `/upstream/<name>/...` the longest pinned leading path wins. Web-standard.
 */

/** The pin for a requested model name: its target ("" = disabled), or undefined when not pinned. */
export function pinFor(pins: Readonly<Record<string, string>>, name: string): string | undefined {
  return Object.hasOwn(pins, name) ? pins[name] : undefined;
}

/** A pinned `/upstream` path: the pinned name, its target and the rest of the path (raw, from "/" or ""). */
export interface UpstreamPin {
  name: string;
  target: string;
  rest: string;
}

/**
 * The longest pin that is the whole upstream path or a leading run of its segments. `rawPath` is
 * the path after `/upstream/`, percent-encoding kept; names are compared decoded.
 */
export function upstreamPin(pins: Readonly<Record<string, string>>, rawPath: string): UpstreamPin | null {
  const segs = rawPath.split("/");
  let best: UpstreamPin | null = null;
  let name = "";
  for (let i = 0; i < segs.length; i++) {
    if (segs[i] === "") break;
    let decoded = segs[i];
    try {
      decoded = decodeURIComponent(segs[i]);
    } catch {
      // kept as written
    }
    name = name ? `${name}/${decoded}` : decoded;
    if (Object.hasOwn(pins, name)) {
      const rest = segs.slice(i + 1);
      best = { name, target: pins[name], rest: rest.length ? `/${rest.join("/")}` : "" };
    }
  }
  return best;
}

/** The upstream path with the pinned name replaced by its target (each segment percent-encoded). */
export function rewriteUpstreamPath(pin: UpstreamPin): string {
  return pin.target.split("/").map(encodeURIComponent).join("/") + pin.rest;
}
