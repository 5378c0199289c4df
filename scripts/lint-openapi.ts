/**
 * `npm run lint:openapi`: writes the OpenAPI documents the services serve into a temporary folder and lints
 * them with Redocly (rules in redocly.yaml).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeOpenApiDocuments } from "./write-openapi.ts";

const folder = mkdtempSync(join(tmpdir(), "mm-openapi-"));
try {
  await writeOpenApiDocuments(folder);
  const files = readdirSync(folder)
    .filter((name) => name.endsWith(".json"))
    .map((name) => join(folder, name));
  const cli = createRequire(import.meta.url).resolve("@redocly/cli/bin/cli.js");
  // recommended-strict (redocly.yaml): the recommended rules with every warning an error.
  const lint = spawnSync(process.execPath, [cli, "lint", "--format", "stylish", ...files], {
    stdio: "inherit",
    env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
  });
  process.exitCode = lint.status ?? 1;
} finally {
  rmSync(folder, { recursive: true, force: true });
}
