import { and, eq, isNull, ne } from "drizzle-orm";
import type { Database, Executor } from "@mimascota/shared/db/database";
import { sessions } from "../db/schema.ts";

export interface NewSession {
  id: string;
  userId: string;
  amr: string[];
  userAgent: string | null;
  ip: string | null;
  createdAt: Date;
  expiresAt: Date;
}

/** Sessions (one per login): the family every refresh token of that login belongs to. */
export class SessionRepository {
  readonly #db: Database;

  constructor(options: { db: Database }) {
    this.#db = options.db;
  }

  async insert(tx: Executor, session: NewSession): Promise<void> {
    await tx.insert(sessions).values({ ...session, lastUsedAt: session.createdAt });
  }

  /** What the bearer guard needs: whose session it is and whether it still counts. */
  async getStatus(id: string, tx: Executor = this.#db) {
    const [row] = await tx
      .select({ userId: sessions.userId, revokedAt: sessions.revokedAt, expiresAt: sessions.expiresAt })
      .from(sessions)
      .where(eq(sessions.id, id));
    return row;
  }

  async touch(tx: Executor, id: string, at: Date): Promise<void> {
    await tx.update(sessions).set({ lastUsedAt: at }).where(eq(sessions.id, id));
  }

  /** Revokes one session unless it already is; true when this call revoked it. */
  async revoke(tx: Executor, id: string, reason: string, at: Date): Promise<boolean> {
    const rows = await tx
      .update(sessions)
      .set({ revokedAt: at, revokedReason: reason })
      .where(and(eq(sessions.id, id), isNull(sessions.revokedAt)))
      .returning({ id: sessions.id });
    return rows.length === 1;
  }

  /** Revokes the user's live sessions (optionally all but one) and returns the ids this call revoked. */
  async revokeAllForUser(
    tx: Executor,
    userId: string,
    options: { exceptSessionId?: string | undefined; reason: string; at: Date },
  ): Promise<string[]> {
    const conditions = [eq(sessions.userId, userId), isNull(sessions.revokedAt)];
    if (options.exceptSessionId) conditions.push(ne(sessions.id, options.exceptSessionId));
    const rows = await tx
      .update(sessions)
      .set({ revokedAt: options.at, revokedReason: options.reason })
      .where(and(...conditions))
      .returning({ id: sessions.id });
    return rows.map((r) => r.id);
  }
}
