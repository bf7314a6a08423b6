/**
 * Build llama.cpp's `llama-server` for the real-backend tests and the bench, from the llama.cpp
 * source that ships inside the `node-llama-cpp` npm package (its `llama/gitRelease.bundle` is a
 * git bundle of one llama.cpp release). A CMake Release build of the `llama-server` target only,
 * CPU, static, with tests, examples, curl and OpenSSL off: about 8 minutes on 2 cores.
 *
 * The result is cached outside the repository, keyed by the llama.cpp release, and reused:
 *   ${XDG_CACHE_HOME:-~/.cache}/switchyard/llama-server-<release>/llama-server
 * `LLAMA_SERVER=/path/to/llama-server` overrides the cache (nothing is built then).
 *
 *   bun scripts/llama-server.ts          build unless cached; print the binary's path last
 *   bun scripts/llama-server.ts --path   print the path if a binary is there, else exit 1
 *
 * Needs npm (to fetch the package), git, cmake and a C++ compiler.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir, availableParallelism } from "node:os";
import { join } from "node:path";

/** The node-llama-cpp release whose bundled llama.cpp we build (pinned: the cache key follows it). */
export const NODE_LLAMA_CPP_VERSION = "3.22.1";
/** The llama.cpp release inside that package (its llama/llama.cpp.info.json). */
export const LLAMA_CPP_RELEASE = "v0.5.0";

/** Where the cached build lives. */
export function cacheDir(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "switchyard", `llama-server-${LLAMA_CPP_RELEASE}`);
}

/** The llama-server to use: $LLAMA_SERVER, else the cached build; null when neither exists. */
export function findLlamaServer(env: Record<string, string | undefined> = process.env): string | null {
  if (env.LLAMA_SERVER) return existsSync(env.LLAMA_SERVER) ? env.LLAMA_SERVER : null;
  const bin = join(cacheDir(env), "llama-server");
  return existsSync(bin) ? bin : null;
}

/** The command that builds it, for messages. */
export const BUILD_HINT = "node_modules/.bin/bun scripts/llama-server.ts (or set LLAMA_SERVER=/path/to/llama-server)";

const CMAKE_FLAGS = [
  "-DCMAKE_BUILD_TYPE=Release",
  "-DBUILD_SHARED_LIBS=OFF",
  "-DLLAMA_BUILD_TESTS=OFF",
  "-DLLAMA_BUILD_EXAMPLES=OFF",
  "-DLLAMA_CURL=OFF",
  "-DLLAMA_OPENSSL=OFF",
  // The web UI would be fetched from a hub or built with npm; the API needs neither.
  "-DLLAMA_BUILD_UI=OFF",
  "-DLLAMA_USE_PREBUILT_UI=OFF",
  // A portable binary: the cache may outlive the CPU it was built on.
  "-DGGML_NATIVE=OFF",
];

function run(argv: string[], cwd?: string): void {
  console.error(`$ ${argv.join(" ")}`);
  // The tools' output goes to stderr: stdout carries only the binary's path (for `$(...)` in .ci/run).
  const r = Bun.spawnSync(argv, { cwd, stdin: "ignore", stdout: 2, stderr: 2 });
  if (r.exitCode !== 0) throw new Error(`${argv[0]} exited with ${r.exitCode}`);
}

function need(tool: string): void {
  if (!Bun.which(tool)) throw new Error(`${tool} is needed to build llama-server and is not on PATH`);
}

/** Build into the cache (unless there already); returns the binary's path. */
export function buildLlamaServer(): string {
  const found = findLlamaServer();
  if (found) return found;
  if (process.env.LLAMA_SERVER) throw new Error(`LLAMA_SERVER=${process.env.LLAMA_SERVER} does not exist`);
  for (const tool of ["npm", "git", "cmake", "c++"]) need(tool);
  const started = performance.now();
  const work = mkdtempSync(join(tmpdir(), "switchyard-llama-build-"));
  try {
    run(["npm", "pack", `node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`, "--silent", "--pack-destination", work]);
    const tgz = join(work, `node-llama-cpp-${NODE_LLAMA_CPP_VERSION}.tgz`);
    run(["tar", "xzf", tgz, "-C", work, "package/llama/gitRelease.bundle", "package/llama/llama.cpp.info.json"]);
    const info = JSON.parse(readFileSync(join(work, "package/llama/llama.cpp.info.json"), "utf8")) as { tag?: string };
    if (info.tag !== LLAMA_CPP_RELEASE) {
      throw new Error(`node-llama-cpp ${NODE_LLAMA_CPP_VERSION} bundles llama.cpp ${info.tag}, expected ${LLAMA_CPP_RELEASE}: update LLAMA_CPP_RELEASE`);
    }
    const src = join(work, "llama.cpp");
    run(["git", "clone", "--quiet", join(work, "package/llama/gitRelease.bundle"), src]);
    run(["cmake", "-S", src, "-B", join(src, "build"), ...CMAKE_FLAGS]);
    run(["cmake", "--build", join(src, "build"), "--target", "llama-server", "-j", String(availableParallelism())]);

    const dir = cacheDir();
    mkdirSync(dir, { recursive: true });
    // Copy under a temporary name, then rename: a half-copied binary is never taken for a build.
    const partial = join(dir, `llama-server.partial-${process.pid}`);
    copyFileSync(join(src, "build", "bin", "llama-server"), partial);
    chmodSync(partial, 0o755);
    writeFileSync(join(dir, "source.txt"), `llama.cpp ${LLAMA_CPP_RELEASE} from node-llama-cpp@${NODE_LLAMA_CPP_VERSION}\ncmake ${CMAKE_FLAGS.join(" ")}\n`);
    renameSync(partial, join(dir, "llama-server"));
    console.error(`built llama-server ${LLAMA_CPP_RELEASE} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    return join(dir, "llama-server");
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  if (process.argv.includes("--path")) {
    const found = findLlamaServer();
    if (!found) {
      console.error(`no llama-server: build it with ${BUILD_HINT}`);
      process.exit(1);
    }
    console.log(found);
  } else {
    try {
      console.log(buildLlamaServer());
    } catch (err) {
      console.error(`llama-server build failed: ${(err as Error).message}`);
      process.exit(1);
    }
  }
}
