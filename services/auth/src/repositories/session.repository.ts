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
function openStatement(session: NewSession, token: FirstRefreshToken, guard?: { ctes: SQL; from: SQL }): SQL {
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
   * The password login's common case (right password, verified address, no second factor, no rehash) as one
   * statement instead of a transaction's four round trips. It takes the email's throttle row as
   * `LoginThrottleRepository.lockState` does (created if missing, row-locked until the statement ends, after
   * any concurrent attempt holding it), and unless the email is locked (`locked_until` still ahead: the
   * lockout policy's `isLocked`) forgets its failures and opens the session with its first refresh token.
   * False when the email is locked: then nothing was written but the throttle row as it was.
   */
  async insertWithTokenUnlessLocked(
    email: string,
    session: NewSession,
    token: FirstRefreshToken,
  ): Promise<boolean> {
    const now = sql`${session.createdAt}::timestamptz`;
    const throttle = sql`throttle as (
  insert into login_throttles (email, failure_count, window_started_at, lock_count) values (${email}, 0, ${now}, 0)
  on conflict (email) do update set failure_count =
    case when login_throttles.locked_until > ${now} then login_throttles.failure_count else 0 end
  returning locked_until
), `;
    const [row] = await queryRows<{ opened: boolean }>(
      this.#db,
      openStatement(session, token, {
        ctes: throttle,
        from: sql`from throttle where locked_until is null or locked_until <= ${now}`,
      }),
    );
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
