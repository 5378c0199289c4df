import { existsSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { systemClock, type Clock } from "@mimascota/shared/clock";
import { ConfigError } from "@mimascota/shared/config";
import { openDatabase, type DatabaseHandle } from "@mimascota/shared/db/database";
import { migrateInfra } from "@mimascota/shared/db/infra-migrations";
import { createKeyValueStore } from "@mimascota/shared/kv/create-key-value-store";
import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import { loggerOptions } from "@mimascota/shared/logger";
import { loadAuthConfig } from "../config.ts";
import { migrateAuth } from "../db/migrations.ts";
import type { RefusalReason } from "../services/support.service.ts";
import {
  findCommand,
  markVerifiedCommand,
  resendVerificationCommand,
  unlockCommand,
} from "./account.commands.ts";
import type { AdminCommand } from "./admin-command.ts";
import { parseAdminArgs, usage, UsageError, type AdminInvocation } from "./admin-args.ts";
import { composeSupport } from "./admin-composition.ts";
import { exportCommand } from "./export.command.ts";
import { revokeSessionCommand, revokeSessionsCommand, sessionsCommand } from "./session.commands.ts";
import { resetTwoFactorCommand } from "./two-factor.commands.ts";

export const ADMIN_COMMANDS: readonly AdminCommand[] = [
  findCommand,
  unlockCommand,
  resendVerificationCommand,
  markVerifiedCommand,
  sessionsCommand,
  revokeSessionCommand,
  revokeSessionsCommand,
  resetTwoFactorCommand,
  exportCommand,
];

export const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

interface Output {
  write(text: string): unknown;
}

export interface AdminIo {
  stdout: Output;
  /** Messages for people and the structured log line (JSON). */
  stderr: Output;
  /** The service's environment: the same variables `npm start` reads. */
  env: NodeJS.ProcessEnv;
  /** For tests: an open database (left open), a key-value store (left open) and a clock to use instead. */
  overrides?: { database?: DatabaseHandle; kv?: KeyValueStore; clock?: Clock };
}

const REFUSALS: Record<RefusalReason, (email: string) => string> = {
  already_verified: (email) => `${email} is already verified; no mail was sent.`,
  cooldown: (email) =>
    `A verification mail went to ${email} within the resend cooldown (RESEND_COOLDOWN); try again shortly.`,
  no_such_session: (email) => `${email} has no such live session (see \`sessions\`); nothing was revoked.`,
  two_factor_off: (email) => `Two-factor authentication is not on for ${email}; nothing changed.`,
};

const pidFile = (dataDir: string) => join(dataDir, "pglite", "postmaster.pid");

/**
 * PGlite keeps this file while a process has the folder open (and does not refuse a second one, whose writes
 * would corrupt the data).
 */
const embeddedInUse = (dataDir: string) => existsSync(pidFile(dataDir));

/**
 * The driver's own error under drizzle's wrapper, code and message only: the wrapper's message lists the
 * query's parameters and the driver's `detail` may quote values, either of which can be a digest or a mailed
 * link, and nothing secret is printed or logged here.
 */
function rootCause(error: unknown): { code?: string; message: string } {
  let current = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  const { code, message } = (current ?? {}) as { code?: unknown; message?: unknown };
  return {
    ...(typeof code === "string" ? { code } : {}),
    message: typeof message === "string" ? message : String(current),
  };
}

/** `npm run admin -- <command> <email> …`: runs one support command and answers its exit code. */
export async function runAdmin(argv: readonly string[], io: AdminIo): Promise<number> {
  let invocation: AdminInvocation | "help";
  try {
    invocation = parseAdminArgs(argv, ADMIN_COMMANDS, io.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(
      `admin: ${error.message}\nRun \`npm run admin -- --help\` for the commands and options.\n`,
    );
    return EXIT.usage;
  }
  if (invocation === "help") {
    io.stdout.write(usage(ADMIN_COMMANDS));
    return EXIT.ok;
  }
  let config;
  try {
    config = loadAuthConfig(io.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`${error.message}\n`);
    return EXIT.refused;
  }
  const logger = pino(loggerOptions("auth-admin", config.LOG_LEVEL), io.stderr);
  const { overrides = {} } = io;
  if (!config.DATABASE_URL && !overrides.database && embeddedInUse(config.DATA_DIR)) {
    io.stderr.write(
      `The embedded database in ${config.DATA_DIR} is open in another process (\`npm start\`?): stop it first. ` +
        `If nothing is running, a crash left ${pidFile(config.DATA_DIR)} behind: delete it and run again.\n`,
    );
    return EXIT.refused;
  }
  const clock = overrides.clock ?? systemClock;
  const database =
    overrides.database ?? (await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR }));
  const kv = overrides.kv ?? createKeyValueStore({ url: config.REDIS_URL, logger, clock });
  try {
    // Embedded data may predate the audit table; a shared PostgreSQL is migrated by `npm run migrate`.
    if (database.kind === "pglite" && !overrides.database) {
      await migrateInfra(database);
      await migrateAuth(database);
    }
    const support = await composeSupport({ config, db: database.db, kv, clock, logger });
    const { command, email, args, actor } = invocation;
    const result = await command.run(support, { actor, email }, args);
    logger.info(
      { command: command.name, actor, outcome: result.outcome, database: database.kind },
      "admin command",
    );
    const json = invocation.json || command.jsonOnly === true;
    if (result.outcome !== "done") {
      const message =
        result.outcome === "not_found"
          ? `No account with the email ${email}.`
          : REFUSALS[result.reason](email);
      io.stderr.write(`${message}\n`);
      if (json) io.stdout.write(`${JSON.stringify({ outcome: result.outcome, message })}\n`);
      return EXIT.refused;
    }
    io.stdout.write(
      json
        ? `${JSON.stringify(result.value, null, 2)}\n`
        : `${command.describe(result.value, { email, kv }).join("\n")}\n`,
    );
    return EXIT.ok;
  } catch (error) {
    const cause = rootCause(error);
    logger.error(
      { command: invocation.command.name, code: cause.code, reason: cause.message },
      "admin command failed",
    );
    const hint = cause.code === "42P01" ? " (is the schema migrated? `npm run migrate`)" : "";
    io.stderr.write(`admin: ${invocation.command.name} failed: ${cause.message}${hint}\n`);
    return EXIT.refused;
  } finally {
    if (!overrides.kv) await kv.close();
    if (!overrides.database) await database.close();
  }
}
