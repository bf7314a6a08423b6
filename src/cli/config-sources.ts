/**
 * Reading the config's files (the file side of `--config` and `--config-dir`; the merge itself is
 * config/merge.ts, on the texts). As llama-swap: the `--config` file first, then the *.yml and
 * *.yaml files directly in the directory (not its subdirectories; hidden files too; symlinks
 * followed) in name order; the `--config` file may not also be one of the directory's.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ConfigPaths } from "./args.ts";
import { compareCodePoints } from "../config/compare-code-points.ts";
import type { ConfigSource } from "../config/load.ts";

/** The config's files cannot be read: one line for a person. */
export class ConfigReadError extends Error {
  override name = "ConfigReadError";
}

/** True for the names `--config-dir` merges. */
export function isConfigFileName(name: string): boolean {
  return name.endsWith(".yml") || name.endsWith(".yaml");
}

/** The paths of the *.yml and *.yaml files directly in `dir`, in name order (Go's byte order). */
export function listConfigDir(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.isDirectory() && isConfigFileName(e.name))
    .map((e) => e.name)
    .sort(compareCodePoints)
    .map((name) => join(dir, name));
}

/** The files to merge, in order; throws ConfigReadError when a file or the directory cannot be read. */
export function configFiles(paths: ConfigPaths): string[] {
  const files: string[] = paths.config !== null ? [paths.config] : [];
  if (paths.configDir !== undefined) {
    let inDir: string[];
    try {
      inDir = listConfigDir(paths.configDir);
    } catch (err) {
      throw new ConfigReadError(`--config-dir ${JSON.stringify(paths.configDir)}: ${(err as Error).message}`);
    }
    if (paths.config !== null && inDir.some((f) => resolve(f) === resolve(paths.config!))) {
      throw new ConfigReadError(`--config ${JSON.stringify(paths.config)} is also present in --config-dir ${JSON.stringify(paths.configDir)}; remove it from one`);
    }
    files.push(...inDir);
  }
  if (files.length === 0) throw new ConfigReadError(`no configuration sources found: --config-dir ${JSON.stringify(paths.configDir)} has no *.yml or *.yaml file`);
  return files;
}

/** Reads the files to merge, in order, as the loader's sources; throws ConfigReadError. */
export function readConfigSources(paths: ConfigPaths): ConfigSource[] {
  return configFiles(paths).map((name) => {
    try {
      return { name, text: readFileSync(name, "utf8") };
    } catch (err) {
      throw new ConfigReadError(`cannot read config ${JSON.stringify(name)}: ${(err as Error).message}`);
    }
  });
}

/** How messages name the config: `config.yaml`, `conf.d/`, or `config.yaml + conf.d/`. */
export function describeConfigPaths(paths: ConfigPaths): string {
  const dir = paths.configDir !== undefined ? `${paths.configDir.replace(/\/+$/, "")}/` : null;
  return [paths.config, dir].filter((x): x is string => x !== null).join(" + ");
}
