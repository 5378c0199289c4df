import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { loginThrottles, sessions } from "../../src/db/schema.ts";
import type { AuthTestContext } from "./test-app.ts";

/** A live session row, as a login would leave it (for flows that must end sessions without logging in). */
export async function insertSession(ctx: AuthTestContext, userId: string): Promise<string> {
  const id = randomUUID();
  const now = ctx.clock.now();
  await ctx.database.db.insert(sessions).values({
    id,
    userId,
    amr: ["pwd"],
    createdAt: now,
    lastUsedAt: now,
    expiresAt: new Date(now.getTime() + 30 * 86400_000),
  });
  return id;
}

export async function sessionRevokedAt(ctx: AuthTestContext, id: string): Promise<Date | null> {
  const [row] = await ctx.database.db
    .select({ revokedAt: sessions.revokedAt })
    .from(sessions)
    .where(eq(sessions.id, id));
  return row?.revokedAt ?? null;
}

/** Puts an email into the locked state the login throttle leaves after too many failures. */
export async function lockEmail(ctx: AuthTestContext, email: string): Promise<void> {
  const now = ctx.clock.now();
  const locked = {
    failureCount: 10,
    windowStartedAt: now,
    lockedUntil: new Date(now.getTime() + 30 * 60_000),
    lockCount: 1,
    lastLockedAt: now,
  };
  await ctx.database.db
    .insert(loginThrottles)
    .values({ email, ...locked })
    .onConflictDoUpdate({ target: loginThrottles.email, set: locked });
}

export async function lockedUntil(ctx: AuthTestContext, email: string): Promise<Date | null> {
  const [row] = await ctx.database.db
    .select({ lockedUntil: loginThrottles.lockedUntil })
    .from(loginThrottles)
    .where(eq(loginThrottles.email, email));
  return row?.lockedUntil ?? null;
}
