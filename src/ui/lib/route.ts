/** Hash routing: `#/models`, `#/models/<id>`, `#/activity`, … as a signal. */
import { signal } from "@preact/signals";

/** One part of the hash decoded; a stray `%` (`#/models/100%`) leaves the part as typed instead of throwing. */
const decodePart = (part: string): string => {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
};

const current = (): string[] => (location.hash.replace(/^#\/?/, "") || "models").split("/").map(decodePart);

/** The route's parts, e.g. ["models", "llama-8b"]. */
export const route = signal<string[]>(current());
addEventListener("hashchange", () => (route.value = current()));

/** The href of a route. */
export const href = (...parts: string[]): string => `#/${parts.map(encodeURIComponent).join("/")}`;
