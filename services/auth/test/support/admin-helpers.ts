import { eq } from "drizzle-orm";
import { runAdmin } from "../../src/admin/run-admin.ts";
import { adminAuditLog } from "../../src/db/schema.ts";
import type { AuthTestContext } from "./test-app.ts";

export interface AdminRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The service's environment for the admin CLI: the test context's, with the log on (to read its line). */
export function adminEnv(ctx: AuthTestContext, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    NODE_ENV: "test",
    LOG_LEVEL: "info",
    DATA_DIR: ctx.config.DATA_DIR,
    DATABASE_URL: ctx.config.DATABASE_URL ?? "",
    USER: "reader-on-shell",
    ...extra,
  };
}

/** Runs `npm run admin -- …argv` in process, on the context's database, key-value store and clock. */
export async function admin(ctx: AuthTestContext, ...argv: string[]): Promise<AdminRun> {
  let stdout = "";
  let stderr = "";
  // One run, one instant: the audit records of successive runs sort in the order they were made.
  ctx.clock.advance(1);
  const code = await runAdmin(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: adminEnv(ctx),
    overrides: { database: ctx.database, kv: ctx.kv, clock: ctx.clock },
  });
  return { code, stdout, stderr };
}

/** The audit records about an email, oldest first. */
export function auditOf(ctx: AuthTestContext, email: string) {
  return ctx.database.db
    .select()
    .from(adminAuditLog)
    .where(eq(adminAuditLog.email, email))
    .orderBy(adminAuditLog.at, adminAuditLog.id);
}

/** The newest audit record about an email. */
export async function lastAudit(ctx: AuthTestContext, email: string) {
  const rows = await auditOf(ctx, email);
  return rows.at(-1);
}
