/**
 * Build stamp. `scripts/build.ts` replaces `SWITCHYARD_BUILD` at compile time (bun build --define);
 * running from source reports the package version with commit "dev".
 */
import pkg from "../package.json" with { type: "json" };

declare const SWITCHYARD_BUILD: { version: string; commit: string; date: string } | undefined;

/** Version, commit and build date of this program. */
export const BUILD: { version: string; commit: string; date: string } =
  typeof SWITCHYARD_BUILD !== "undefined" ? SWITCHYARD_BUILD : { version: pkg.version, commit: "dev", date: "" };

/** One-line form printed by `--version` (llama-swap's shape). */
export function versionLine(): string {
  return `version: ${BUILD.version} (${BUILD.commit})${BUILD.date ? `, built at ${BUILD.date}` : ""}`;
}
