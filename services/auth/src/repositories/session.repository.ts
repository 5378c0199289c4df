import { and, eq, isNull, ne, sql, type SQL } from "drizzle-orm";
import { queryRows, type Database, type Executor } from "@mimascota/shared/db/database";
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

export interface FirstRefreshToken {
  id: string;
  tokenHash: string;
  expiresAt: Date;
}

/**
 * Inserts a session and its first refresh token in one statement and answers `opened`; with a guard, the
 * session row is selected from the guard's source and nothing is inserted when it yields no row.
 */
export function openStatement(
  session: NewSession,
  token: FirstRefreshToken,
  guard?: { ctes: SQL; from: SQL },
): SQL {
  const now = sql`${session.createdAt}::timestamptz`;
  return sql`with ${guard?.ctes ?? sql``}session as (
  insert into sessions (id, user_id, amr, user_agent, ip, created_at, last_used_at, expires_at)
  select ${session.id}::uuid, ${session.userId}::uuid, ${JSON.stringify(session.amr)}::jsonb,
    ${session.userAgent}::text, ${session.ip}::text, ${now}, ${now}, ${session.expiresAt}::timestamptz
  ${guard?.from ?? sql``}
  returning id
), token as (
  insert into refresh_tokens (id, session_id, token_hash, created_at, expires_at)
  select ${token.id}::uuid, id, ${token.tokenHash}, ${now}, ${token.expiresAt}::timestamptz from session
)
select exists (select 1 from session) as opened`;
}

/** Sessions (one per login): the family every refresh token of that login belongs to. */
export class SessionRepository {
  readonly #db: Database;

  constructor(options: { db: Database }) {
    this.#db = options.db;
  }

  /**
   * A new session with its first refresh token, in one statement (one round trip; the token's foreign key is
   * checked at the end of the statement, when the session row is there).
   */
  async insertWithToken(tx: Executor, session: NewSession, token: FirstRefreshToken): Promise<void> {
    await tx.execute(openStatement(session, token));
  }

  /**
   * A new session with its first refresh token, in one statement, only if `guard.from` yields a row; the
   * guard's CTEs run in the same statement (for the clean password login: the throttle row's lock and reset,
   * `unlessLocked` in login-throttle.repository.ts). False when the guard yielded nothing: then nothing was
   * inserted.
   */
  async insertWithTokenIf(
    guard: { ctes: SQL; from: SQL },
    session: NewSession,
    token: FirstRefreshToken,
  ): Promise<boolean> {
    const [row] = await queryRows<{ opened: boolean }>(this.#db, openStatement(session, token, guard));
    return row?.opened === true;
  }

  /** What the bearer guard needs: whose session it is and whether it still counts. */
  async getStatus(id: string, tx: Executor = this.#db) {
    const [row] = await tx
      .select({ userId: sessions.userId, revokedAt: sessions.revokedAt, expiresAt: sessions.expiresAt })
      .from(sessions)
      .where(eq(sessions.id, id));
    return row;
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
