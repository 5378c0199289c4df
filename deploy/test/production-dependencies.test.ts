import assert from "node:assert/strict";
import { builtinModules } from "node:module";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { readRepoFile, repoFileExists } from "./support/deploy-files.ts";
import { deployedScripts, scriptAsContainerCommand } from "./support/service-commands.ts";

/**
 * The images install `npm ci --omit=dev` for one service and the shared package only. Walking the runtime
 * import graph from each entry point proves every package it loads is among those production dependencies,
 * without building the image (no Docker engine here).
 */
const importPattern =
  /^\s*(?:import|export)\s+(?!type\b)(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** Every bare package the files reachable from `entry` import at run time (type-only imports are erased). */
function runtimePackages(entry: string): Map<string, string> {
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const match of readRepoFile(file).matchAll(importPattern)) {
      const specifier = (match[1] ?? match[2])!;
      if (specifier.startsWith(".")) queue.push(join(dirname(file), specifier));
      else if (specifier === "@mimascota/shared") queue.push("packages/shared/src/index.ts");
      else if (specifier.startsWith("@mimascota/shared/")) {
        queue.push(`packages/shared/src/${specifier.slice("@mimascota/shared/".length)}.ts`);
      } else if (!specifier.startsWith("node:") && !builtinModules.includes(specifier)) {
        if (!packages.has(packageName(specifier))) packages.set(packageName(specifier), file);
      }
    }
  }
  for (const file of seen) assert.ok(repoFileExists(file), `${file} is imported but does not exist`);
  return packages;
}

const dependencies = (workspace: string): string[] =>
  Object.keys(
    (JSON.parse(readRepoFile(`${workspace}/package.json`)) as { dependencies?: Record<string, string> })
      .dependencies ?? {},
  );

describe("production dependencies of the images", () => {
  for (const [workspace, script] of deployedScripts) {
    it(`${workspace} ${script} loads only packages npm ci --omit=dev installs for its image`, () => {
      const entry = scriptAsContainerCommand(workspace, script)[1]!;
      const installed = new Set([...dependencies(workspace), ...dependencies("packages/shared")]);
      const loaded = runtimePackages(entry);
      assert.ok(loaded.size > 0);
      for (const [name, importer] of loaded) {
        assert.ok(installed.has(name), `${importer} imports ${name}, which is no production dependency`);
      }
    });
  }
});
