/**
 * The web UI's bundle: embedded in dist/switchyard by scripts/build.ts (which bundles src/ui/
 * first and hands the result in through `globalThis.__SWITCHYARD_UI__`), or bundled in memory
 * from src/ui/ with Bun.build when running from source (`npm start`), once, at start.
 * Bun-only (the edge).
 */
import { resolve } from "node:path";
import type { UiBundle } from "../http/ui-routes.ts";

/** What scripts/build.ts embeds. */
declare global {
  var __SWITCHYARD_UI__: UiBundle | undefined;
}

/** Bundle src/ui/main.tsx into one script and one stylesheet (minified, for the browser). */
export async function buildUiBundle(): Promise<UiBundle> {
  const entry = resolve(import.meta.dir, "../ui/main.tsx");
  const out = await Bun.build({ entrypoints: [entry], target: "browser", minify: true, format: "esm", define: { "process.env.NODE_ENV": '"production"' } });
  if (!out.success) throw new Error(`the UI did not bundle:\n${out.logs.map((l) => String(l)).join("\n")}`);
  let js = "";
  let css = "";
  for (const o of out.outputs) {
    if (o.path.endsWith(".js")) js += await o.text();
    else if (o.path.endsWith(".css")) css += await o.text();
  }
  return { js, css };
}

/** The embedded bundle, or one built from the sources now. */
export async function loadUiBundle(): Promise<UiBundle> {
  return globalThis.__SWITCHYARD_UI__ ?? (await buildUiBundle());
}
