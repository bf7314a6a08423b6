/**
 * Compile switchyard into one executable, dist/switchyard.
 * Usage: bun scripts/build.ts [--target bun-linux-arm64|bun-darwin-arm64|...] [--outfile path]
 */
import { $ } from "bun";
import pkg from "../package.json" with { type: "json" };

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const target = flag("--target");
const outfile = flag("--outfile") ?? (target ? `dist/switchyard-${target.replace(/^bun-/, "")}` : "dist/switchyard");

const commit = (await $`git rev-parse --short HEAD`.nothrow().quiet().text()).trim() || "unknown";
const stamp = { version: pkg.version, commit, date: new Date().toISOString() };

const cmd = [
  process.execPath, "build", "--compile", "src/main.ts",
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
