import assert from "node:assert/strict";
import { builtinModules } from "node:module";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { readRepoFile, repoFileExists } from "./support/deploy-files.ts";
import { deployedScripts, scriptAsContainerCommand } from "./support/service-commands.ts";

/**
 * The images install `npm ci --omit=dev` for the workspaces their Dockerfile names (a service, and the shared
 * package unless the service needs none of its dependencies). Walking the runtime import graph from each
 * entry point, and resolving every package it loads the way node would in the lockfile's tree of what those
 * workspaces install, proves the image has them, without building it.
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

interface LockedPackage {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}
const lock = (JSON.parse(readRepoFile("package-lock.json")) as { packages: Record<string, LockedPackage> })
  .packages;

/** The lockfile entry node finds for `name` from the entry at `from`: its node_modules, then each parent's. */
function locate(name: string, from: string): string | undefined {
  for (let base = from; ;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (lock[candidate]) return candidate;
    if (!base) return undefined;
    const parent = base.lastIndexOf("/node_modules/");
    base = parent >= 0 ? base.slice(0, parent) : "";
  }
}

/** Every lockfile entry `npm ci --omit=dev --workspace <each>` installs: the workspaces' production closure. */
function installedBy(workspaces: string[]): Set<string> {
  const installed = new Set<string>();
  const queue = [...workspaces];
  while (queue.length > 0) {
    const at = queue.pop()!;
    if (installed.has(at)) continue;
    installed.add(at);
    const entry = lock[at] ?? {};
    const peers = Object.keys(entry.peerDependencies ?? {}).filter(
      (name) => !entry.peerDependenciesMeta?.[name]?.optional,
    );
    for (const name of [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...peers,
    ]) {
      const found = locate(name, at);
      if (found) queue.push(found);
    }
  }
  return installed;
}

/** The workspaces a service's Dockerfile installs (`--workspace` of its `npm ci`). */
const imageWorkspaces = (workspace: string): string[] =>
  [...readRepoFile(`deploy/docker/${workspace.split("/")[1]}.Dockerfile`).matchAll(/--workspace (\S+)/g)].map(
    (m) => m[1]!,
  );

/** The workspace folder a source file belongs to, where node starts resolving its imports. */
const workspaceOf = (file: string) => file.split("/").slice(0, 2).join("/");

describe("production dependencies of the images", () => {
  for (const [workspace, script] of deployedScripts) {
    it(`${workspace} ${script} loads only packages that npm ci --omit=dev installs for its image`, () => {
      const entry = scriptAsContainerCommand(workspace, script)[1]!;
      const installed = installedBy(imageWorkspaces(workspace));
      const loaded = runtimePackages(entry);
      assert.ok(loaded.size > 0);
      for (const [name, importer] of loaded) {
        const found = locate(name, workspaceOf(importer));
        assert.ok(
          found && installed.has(found),
          `${importer} imports ${name}, which the image does not install`,
        );
      }
    });
  }

  it("the gateway image carries none of the shared package's database, Kafka or mail libraries", () => {
    const installed = installedBy(imageWorkspaces("services/gateway"));
    for (const name of ["@electric-sql/pglite", "drizzle-orm", "pg", "@platformatic/kafka", "nodemailer"]) {
      assert.ok(!installed.has(`node_modules/${name}`), `the gateway image installs ${name}`);
    }
  });
});
