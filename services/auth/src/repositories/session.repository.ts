import { and, eq, isNull, ne, sql, type SQL } from "drizzle-orm";
import type { Database, Executor } from "@mimascota/shared/db/database";
import { preparedStatement } from "@mimascota/shared/db/prepared-statement";
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
  select ${session.id}::uuid, ${session.userId}::uuid, ${sql.param(session.amr, sessions.amr)}::jsonb,
    ${session.userAgent}::text, ${session.ip}::text, ${now}, ${now}, ${session.expiresAt}::timestamptz
  ${guard?.from ?? sql``}
  returning id
), token as (
  insert into refresh_tokens (id, session_id, token_hash, created_at, expires_at)
  select ${token.id}::uuid, id, ${token.tokenHash}, ${now}, ${token.expiresAt}::timestamptz from session
)
select exists (select 1 from session) as opened`;
}

/**
 * A session and its first refresh token as a prepared statement's parameters, field by field (a placeholder
 * object has no keys to spread; see `preparedStatement`). The clean login's statement adds its own.
 */
export type OpenParams = Omit<NewSession, "id" | "expiresAt"> & {
  sessionId: string;
  sessionExpiresAt: Date;
  tokenId: string;
  tokenHash: string;
  tokenExpiresAt: Date;
};

/** `openStatement`'s arguments made of `p`'s fields one by one, inside a prepared statement's build. */
export function openArgs(p: OpenParams): [NewSession, FirstRefreshToken] {
  const session = {
    id: p.sessionId,
    userId: p.userId,
    amr: p.amr,
    userAgent: p.userAgent,
    ip: p.ip,
    createdAt: p.createdAt,
    expiresAt: p.sessionExpiresAt,
  };
  return [session, { id: p.tokenId, tokenHash: p.tokenHash, expiresAt: p.tokenExpiresAt }];
}

/** The values for `OpenParams`' placeholders. */
export function openParams(session: NewSession, token: FirstRefreshToken): OpenParams {
  return {
    ...session,
    sessionId: session.id,
    sessionExpiresAt: session.expiresAt,
    tokenId: token.id,
    tokenHash: token.tokenHash,
    tokenExpiresAt: token.expiresAt,
  };
}

const openPlain = preparedStatement<OpenParams, Record<string, unknown>>("sessions_open", (p) =>
  openStatement(...openArgs(p)),
);

/** Sessions (one per login): the family every refresh token of that login belongs to. */
export class SessionRepository {
  readonly #db: Database;
  /** Read by every bearer request, rendered once and prepared (see `preparedStatement`). */
  readonly #status;

  constructor(options: { db: Database }) {
    this.#db = options.db;
    this.#status = this.#db
      .select({ userId: sessions.userId, revokedAt: sessions.revokedAt, expiresAt: sessions.expiresAt })
      .from(sessions)
      .where(eq(sessions.id, sql.placeholder("id")))
      .prepare("sessions_status");
  }

  /**
   * A new session with its first refresh token, in one statement (one round trip; the token's foreign key is
   * checked at the end of the statement, when the session row is there).
   */
  async insertWithToken(tx: Executor, session: NewSession, token: FirstRefreshToken): Promise<void> {
    await openPlain(tx, openParams(session, token));
  }

  /** What the bearer guard needs: whose session it is and whether it still counts. */
  async getStatus(id: string) {
    const [row] = await this.#status.execute({ id });
    return row;
  }

  /** When the session's sign-in proved the password (and the second factor): its start. */
  async signedInAt(id: string): Promise<Date | undefined> {
    const [row] = await this.#db.select({ at: sessions.createdAt }).from(sessions).where(eq(sessions.id, id));
    return row?.at;
  }

  /**
   * Revokes one session unless it already is; true when this call revoked it. With `userId`, only if it is that
   * user's session.
   */
  async revoke(tx: Executor, id: string, reason: string, at: Date, userId?: string): Promise<boolean> {
    const rows = await tx
      .update(sessions)
      .set({ revokedAt: at, revokedReason: reason })
      .where(
        and(
          eq(sessions.id, id),
          isNull(sessions.revokedAt),
          userId === undefined ? undefined : eq(sessions.userId, userId),
        ),
      )
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
