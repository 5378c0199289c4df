import { join } from "node:path";
import { readRepoFile } from "./deploy-files.ts";

/**
 * A workspace's npm script as the command line a container runs from the repository root: `node src/main.ts`
 * in services/auth becomes ["node", "services/auth/src/main.ts"]. Containers run node directly (not npm) so
 * that SIGTERM reaches the service, which makes this the command they must run.
 */
export function scriptAsContainerCommand(workspace: string, script: string): string[] {
  const manifest = JSON.parse(readRepoFile(`${workspace}/package.json`)) as {
    scripts?: Record<string, string>;
  };
  const line = manifest.scripts?.[script];
  if (!line) throw new Error(`${workspace}/package.json has no "${script}" script`);
  const [program, file, ...rest] = line.split(/\s+/);
  if (program !== "node" || !file || rest.length > 0) throw new Error(`"${line}" is not "node <file>"`);
  return ["node", join(workspace, file)];
}

/** The workspace scripts the images run: each service's server, and the migrations of those with a database. */
export const deployedScripts = [
  ["services/auth", "start"],
  ["services/auth", "migrate"],
  ["services/gateway", "start"],
  ["services/profiles", "start"],
  ["services/profiles", "migrate"],
] as const;

/** The service scripts a deployment may run, by the command line that runs each. */
export function knownServiceCommands(): Map<string, string> {
  const commands = new Map<string, string>();
  for (const [workspace, script] of deployedScripts) {
    commands.set(scriptAsContainerCommand(workspace, script).join(" "), `${workspace} ${script}`);
  }
  return commands;
}
