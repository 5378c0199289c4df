import { parseArgs } from "node:util";
import type { AdminCommand } from "./admin-command.ts";

export class UsageError extends Error {
  override name = "UsageError";
}

export interface AdminInvocation {
  command: AdminCommand;
  email: string;
  args: string[];
  actor: string;
  json: boolean;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `--help`, or the command to run with its arguments checked; a UsageError says what is wrong. */
export function parseAdminArgs(
  argv: readonly string[],
  commands: readonly AdminCommand[],
  env: NodeJS.ProcessEnv,
): AdminInvocation | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        actor: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [name, rawEmail, ...rest] = positionals;
  if (values.help || name === undefined || name === "help") return "help";
  const command = commands.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command "${name}"`);
  const expected = ["email", ...(command.args ?? [])];
  if (positionals.length - 1 !== expected.length) {
    throw new UsageError(`${command.name} takes ${expected.map((a) => `<${a}>`).join(" ")}`);
  }
  const email = canonicalEmail(rawEmail ?? "");
  if (command.args?.includes("sessionId") && !UUID.test(rest[0] ?? "")) {
    throw new UsageError(`"${rest[0]}" is not a session id (a UUID, as \`sessions\` lists them)`);
  }
  return { command, email, args: rest, actor: actorOf(command, values.actor, env), json: values.json };
}

/** The contract's canonical form (trimmed, lower-cased), and just enough checking to catch a wrong argument. */
function canonicalEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (CONTROL.test(email) || email.length > 254 || !/^[^@\s]+@[^@\s]+$/.test(email)) {
    throw new UsageError(`"${raw}" is not an email address`);
  }
  return email;
}

/**
 * A change must name a person: in production the CLI runs in a container or pod where `$USER` is unset or a
 * shared account (`node`, `root`) that identifies nobody. A read falls back to `$USER`.
 */
function actorOf(command: AdminCommand, given: string | undefined, env: NodeJS.ProcessEnv): string {
  const actor = (given ?? (command.changes ? undefined : env.USER))?.trim();
  if (!actor) {
    throw new UsageError(
      command.changes
        ? `${command.name} changes the account: say who you are with --actor <name>`
        : "say who you are with --actor <name> ($USER is not set)",
    );
  }
  if (actor.length > 100 || CONTROL.test(actor))
    throw new UsageError("--actor: at most 100 plain characters");
  return actor;
}

export function usage(commands: readonly AdminCommand[]): string {
  const synopsis = (c: AdminCommand) => [c.name, "<email>", ...(c.args ?? []).map((a) => `<${a}>`)].join(" ");
  const width = Math.max(...commands.map((c) => synopsis(c).length));
  return `Support tooling for the auth service: npm run admin -- <command> <email> [options]

Commands (* changes the account: --actor is required):
${commands.map((c) => `  ${synopsis(c).padEnd(width)}  ${c.changes ? "*" : " "} ${c.summary}`).join("\n")}

Options:
  --actor <name>  who is running this, kept in the audit log (reads default to $USER)
  --json          print the result as JSON (export always does)
  -h, --help      this text
(JSON into a file or a pipe: \`npm run -s admin -- …\`, so npm's banner stays out of it.)

Reads the service's configuration (.env, environment): DATABASE_URL for PostgreSQL, else the embedded
database under DATA_DIR, which one process opens at a time (stop \`npm start\` first). Revocations reach
the gateway through REDIS_URL. Every command is recorded in the admin_audit_log table.

Exit codes: 0 done, 1 unknown email, refused or failed, 2 usage.
`;
}
