/** Hash routing: `#/models`, `#/models/<id>`, `#/activity`, … as a signal. */
import { signal } from "@preact/signals";

const current = (): string[] => (location.hash.replace(/^#\/?/, "") || "models").split("/").map(decodeURIComponent);

/** The route's parts, e.g. ["models", "llama-8b"]. */
export const route = signal<string[]>(current());
addEventListener("hashchange", () => (route.value = current()));

/** The href of a route. */
export const href = (...parts: string[]): string => `#/${parts.map(encodeURIComponent).join("/")}`;
