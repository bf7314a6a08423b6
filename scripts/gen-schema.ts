/** Regenerates config-schema.json at the repository root from src/config/schema.ts. */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderJsonSchema } from "../src/config/json-schema.ts";

const target = fileURLToPath(new URL("../config-schema.json", import.meta.url));
writeFileSync(target, renderJsonSchema());
console.log(`wrote ${target}`);
