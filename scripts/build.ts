/**
 * Compile switchyard into one executable, dist/switchyard.
 * Usage: bun scripts/build.ts [--target bun-linux-arm64|bun-darwin-arm64|...] [--outfile path] [--no-ui]
 * (--no-ui embeds an empty UI: the bench builds one to measure what the UI adds to the binary.)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { $ } from "bun";
import pkg from "../package.json" with { type: "json" };
import { buildUiBundle } from "../src/cli/ui-bundle.ts";

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const target = flag("--target");
const outfile = flag("--outfile") ?? (target ? `dist/switchyard-${target.replace(/^bun-/, "")}` : "dist/switchyard");

const commit = (await $`git rev-parse --short HEAD`.nothrow().quiet().text()).trim() || "unknown";
const stamp = { version: pkg.version, commit, date: new Date().toISOString() };

// The web UI, bundled first and embedded: a generated entry sets globalThis.__SWITCHYARD_UI__
// before main.ts runs (ES modules evaluate in import order), so the binary needs no files beside it.
const ui = args.includes("--no-ui") ? { js: "", css: "" } : await buildUiBundle();
mkdirSync("dist/.entry", { recursive: true });
writeFileSync("dist/.entry/ui.ts", `globalThis.__SWITCHYARD_UI__ = ${JSON.stringify(ui)};\n`);
writeFileSync("dist/.entry/main.ts", `import "./ui.ts";\nimport "../../src/main.ts";\n`);
console.log(`ui: ${(ui.js.length / 1024).toFixed(0)} KB script, ${(ui.css.length / 1024).toFixed(0)} KB style`);

const cmd = [
  process.execPath, "build", "--compile", "dist/.entry/main.ts",
  "--outfile", outfile,
  // Why each flag: ../docs and bun-elysia notes §4 — minify + sourcemap for size and readable traces,
  // bytecode (needs ESM because main.ts uses top-level await) for a fast start,
  // and no autoloading of a stray bunfig.toml or .env from the user's directory.
  "--minify", "--sourcemap", "--bytecode", "--format=esm",
  "--no-compile-autoload-bunfig", "--no-compile-autoload-dotenv",
  "--define", `SWITCHYARD_BUILD=${JSON.stringify(stamp)}`,
  ...(target ? ["--target", target] : []),
];
const proc = Bun.spawn(cmd, { stdout: "inherit", stderr: "inherit", env: { ...process.env, NODE_ENV: "production" } });
const code = await proc.exited;
if (code !== 0) {
  console.error(`build failed (exit ${code})`);
  process.exit(code);
}
await $`rm -f ${outfile}.map`.nothrow().quiet();
console.log(`built ${outfile} (${stamp.version} ${stamp.commit})`);
