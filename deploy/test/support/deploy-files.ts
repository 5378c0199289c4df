import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse, parseAllDocuments } from "yaml";
import { skipUnlessPrograms } from "@mimascota/shared/testing/services";

/** Reading and interpreting the deployment files the way docker compose, kubectl and Prometheus would. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const deployDir = join(repoRoot, "deploy");

export const readRepoFile = (path: string): string => readFileSync(join(repoRoot, path), "utf8");
export const repoFileExists = (path: string): boolean => existsSync(join(repoRoot, path));

/** Compose files use YAML merge keys (`<<: *defaults`), which YAML 1.2 leaves off unless asked. */
export function readYaml<T = unknown>(path: string): T {
  return parse(readRepoFile(path), { merge: true }) as T;
}

export function readYamlDocuments(path: string): unknown[] {
  return parseAllDocuments(readRepoFile(path), { merge: true }).map((document) => {
    if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0]!.message}`);
    return document.toJS() as unknown;
  });
}

export const listFiles = (dir: string, suffix: string): string[] =>
  readdirSync(join(repoRoot, dir))
    .filter((name) => name.endsWith(suffix))
    .sort();

/** A docker compose `.env` file: KEY=VALUE lines, comments, optional double or single quotes. */
export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) throw new Error(`not a KEY=VALUE line: ${line}`);
    const value = match[2]!;
    vars[match[1]!] = /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
  }
  return vars;
}

const reference = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** Every variable a compose value refers to (`${X}`, `${X:-d}`, `${X:?m}`, `$X`; `$$` is a literal `$`). */
export function referencedVariables(value: string): string[] {
  return [...value.matchAll(reference)].flatMap((m) => {
    const name = m[1] ?? m[4];
    return name ? [name] : [];
  });
}

/** docker compose's interpolation: defaults for unset (`-`) or also empty (`:-`), errors for `?` / `:?`. */
export function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(reference, (whole, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (whole === "$$") return "$";
    const name = (braced ?? bare)!;
    const current = vars[name];
    const missing = op?.startsWith(":") ? !current : current === undefined;
    if (op?.endsWith("-")) return missing ? (arg ?? "") : current!;
    if (op?.endsWith("?") && missing) throw new Error(`${name}: ${arg || "required"}`);
    return current ?? "";
  });
}

/** Interpolates every string inside a parsed compose value. */
export function interpolateDeep<T>(value: T, vars: Record<string, string>): T {
  if (typeof value === "string") return interpolate(value, vars) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => interpolateDeep(item, vars)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, vars)])) as T;
  }
  return value;
}

/** Environment values as a process would see them (compose and Kubernetes turn numbers into strings). */
export function asEnvironment(values: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
}

/** POSIX shell quoting as Python's `shlex.quote` does it (podman-compose is written in Python). */
const shellQuote = (word: string) =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`;

/**
 * The command podman-compose 1.0.3 hands podman for an exec-form healthcheck (`["CMD", ...words]`): the words
 * quoted one by one, joined with `' '`, after `/bin/sh -c `; podman runs that string with `/bin/sh -c` again.
 * The second shell splits the words anew, so only words without spaces or shell characters survive it.
 */
export function podmanComposeHealthcheck(test: string[]): string {
  const [kind, ...words] = test;
  if (kind !== "CMD") throw new Error(`not an exec-form healthcheck: ${kind}`);
  return `/bin/sh -c ${words.map(shellQuote).join("' '")}`;
}

const run = promisify(execFile);
/** For `describe(name, { skip: await skipUnlessPromtool() })` (Debian package `prometheus`). */
export const skipUnlessPromtool = () => skipUnlessPrograms(["promtool", "--version"]);

/** Runs promtool and returns its output; a non-zero exit rejects with the output in the message. */
export async function promtoolRun(args: string[], cwd = repoRoot): Promise<string> {
  try {
    const { stdout, stderr } = await run("promtool", args, { cwd });
    return stdout + stderr;
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(" ")} failed:\n${stdout}${stderr}`, { cause: error });
  }
}
