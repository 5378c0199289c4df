import { and, eq, isNull, ne, sql, type SQL } from "drizzle-orm";
import type { Database, Executor } from "@mimascota/shared/db/database";
import { preparedStatement } from "@mimascota/shared/db/prepared-statement";
import { z } from "zod";
import { sessions } from "../db/schema.ts";
import { passwordLoginGuard } from "./login.repository.ts";

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

/** What the clean password login's statement needs (`SessionRepository.openAfterPasswordCheck`). */
export interface PasswordLoginCheck {
  email: string;
  /** The hash the password was verified against; the account must still have it. */
  passwordHash: string;
}

type OpenParams = Omit<NewSession, "id" | "expiresAt"> &
  PasswordLoginCheck & {
    sessionId: string;
    sessionExpiresAt: Date;
    tokenId: string;
    tokenHash: string;
    tokenExpiresAt: Date;
  };

/** The row `openStatement` answers, checked as it comes back (`pg` and PGlite both send a boolean). */
const openedRow = z.object({ opened: z.boolean() });

const openStatements = {
  plain: preparedStatement<OpenParams, Record<string, unknown>>("sessions_open", (p) =>
    openStatement(...openArgs(p)),
  ),
  afterPasswordCheck: preparedStatement<OpenParams, Record<string, unknown>>(
    "sessions_open_after_password",
    (p) =>
      openStatement(
        ...openArgs(p),
        passwordLoginGuard({
          userId: p.userId,
          passwordHash: p.passwordHash,
          email: p.email,
          now: p.createdAt,
        }),
      ),
  ),
};

/** The statement's arguments made of `p`'s fields one by one (a placeholder object has no keys to spread). */
function openArgs(p: OpenParams): [NewSession, FirstRefreshToken] {
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

function openParams(session: NewSession, token: FirstRefreshToken, check?: PasswordLoginCheck): OpenParams {
  return {
    ...session,
    sessionId: session.id,
    sessionExpiresAt: session.expiresAt,
    tokenId: token.id,
    tokenHash: token.tokenHash,
    tokenExpiresAt: token.expiresAt,
    email: check?.email ?? "",
    passwordHash: check?.passwordHash ?? "",
  };
}

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
    await openStatements.plain(tx, openParams(session, token));
  }

  /**
   * The clean password login's one statement: a new session with its first refresh token, only while the
   * account still has `check.passwordHash` and may sign in with a password alone and the email is not locked;
   * the user's and the throttle row's locks and the throttle reset run in the same statement (all of it
   * `passwordLoginGuard` in login.repository.ts). False when either said no: then nothing was inserted.
   */
  async openAfterPasswordCheck(
    check: PasswordLoginCheck,
    session: NewSession,
    token: FirstRefreshToken,
  ): Promise<boolean> {
    const [row] = await openStatements.afterPasswordCheck(this.#db, openParams(session, token, check));
    return openedRow.parse(row).opened;
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
