import { and, eq, sql, type SQL } from "drizzle-orm";
import type { Database, Executor, Transaction } from "@mimascota/shared/db/database";
import { preparedStatement } from "@mimascota/shared/db/prepared-statement";
import { z } from "zod";
import { users } from "../db/schema.ts";
import {
  openArgs,
  openParams,
  openStatement,
  type FirstRefreshToken,
  type NewSession,
  type OpenParams,
} from "./session.repository.ts";
import { recipientColumns } from "./user.repository.ts";

/** What a password login needs: the recipient, the hash, the 2FA state and what the profile shows. */
const loginColumns = {
  ...recipientColumns,
  passwordHash: users.passwordHash,
  twoFactorEnabledAt: users.twoFactorEnabledAt,
  /** A device cookie issued before the last password change is void. */
  passwordChangedAt: users.passwordChangedAt,
  createdAt: users.createdAt,
};

/** The user a password login reads, as drizzle types the columns it selects. */
export type LoginUser = Pick<typeof users.$inferSelect, keyof typeof loginColumns>;

/** What a refused login gives `passwordLoginGuard`: no user has that id and no hash is empty. */
export const NO_ACCOUNT = { userId: "00000000-0000-0000-0000-000000000000", passwordHash: "" } as const;

/** Not locked, in SQL: the lockout policy's `isLocked`, negated (`locked_until` unset or not ahead of `at`). */
const notLocked = (lockedUntil: SQL, at: SQL) => sql`(${lockedUntil} is null or ${lockedUntil} <= ${at})`;

/**
 * The login's part of its one statement (`openStatement` inserts the session and its first refresh token after
 * it; `LoginRepository.openSessionAfterPasswordCheck` runs the two), the lockout rule's SQL form: lockout-rule.test.ts runs one table of scenarios
 * through it and through the lockout policy on PostgreSQL and PGlite, so the two cannot drift.
 *
 * - `account`: the user's row, share-locked until the statement ends, only while a password alone still signs
 *   them in as it did when the password was checked (the same hash, the address verified, 2FA off). A reset, a
 *   change or a 2FA activation committed in between empties it; one still running waits for the login, and
 *   then revokes its session. A refused attempt passes `NO_ACCOUNT`, so its statement is the same. Read in full
 *   first, so its row lock comes before the throttle row's (the order resets and changes take too).
 * - `throttle`: the email's row taken as `LoginThrottleRepository.lockState` takes it (created if missing,
 *   row-locked after any concurrent attempt holding it), its failures forgotten only when `account` has its
 *   row and the email is not locked (`afterAttempt`'s "passed").
 * - `from`: a row only then, for the session to be selected from.
 *
 * The row is taken whatever `account` holds, so a refused attempt runs the same statement with the same writes
 * as a right password on a locked email: the time it takes does not tell them apart.
 */
export function passwordLoginGuard(p: { userId: string; passwordHash: string; email: string; now: Date }): {
  ctes: SQL;
  from: SQL;
} {
  const at = sql`${p.now}::timestamptz`;
  const open = notLocked(sql`login_throttles.locked_until`, at);
  return {
    ctes: sql`account as (
  select id from users
  where id = ${p.userId}::uuid and password_hash = ${p.passwordHash}
    and email_verified_at is not null and two_factor_enabled_at is null
  for share
), throttle as (
  insert into login_throttles (email, failure_count, window_started_at, lock_count)
  select ${p.email}::text, 0, ${at}, 0 from (select count(*) from account) as checked
  on conflict (email) do update set failure_count =
    case when ${open} and exists (select 1 from account) then 0 else login_throttles.failure_count end
  returning locked_until
), `,
    from: sql`from throttle, account where ${notLocked(sql`throttle.locked_until`, at)}`,
  };
}

/** What the clean password login's statement checks besides the session it opens. */
export interface PasswordLoginCheck {
  email: string;
  /** The hash the password was verified against; the account must still have it (`NO_ACCOUNT`'s: refused). */
  passwordHash: string;
}

/** The session's placeholders and the check's, field by field (see `preparedStatement`). */
type OpenAfterCheckParams = OpenParams & PasswordLoginCheck;

const openAfterPasswordCheck = preparedStatement<OpenAfterCheckParams, Record<string, unknown>>(
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
);

/** The row the statement answers, checked as it comes back (`pg` and PGlite both send a boolean). */
const openedRow = z.object({ opened: z.boolean() });

/**
 * What a password login reads and writes of the user: the row by email (the password is checked against its
 * hash), the clean login's one statement, the same row share-locked in the decision's transaction, and the
 * rehash after a sign-in. The email's failures are `LoginThrottleRepository`'s.
 */
export class LoginRepository {
  readonly #db: Database;
  /** Read by every login, rendered once and prepared (see `preparedStatement`). */
  readonly #byEmail;

  constructor(options: { db: Database }) {
    this.#db = options.db;
    this.#byEmail = this.#db
      .select(loginColumns)
      .from(users)
      .where(eq(users.email, sql.placeholder("email")))
      .prepare("users_for_login");
  }

  async findUser(email: string, tx?: Executor): Promise<LoginUser | undefined> {
    const [row] = tx
      ? await tx.select(loginColumns).from(users).where(eq(users.email, email))
      : await this.#byEmail.execute({ email });
    return row;
  }

  /**
   * The clean password login's one statement: `session` with its first refresh token, only while the account
   * still has `check.passwordHash` and may sign in with a password alone and the email is not locked; the
   * user's and the throttle row's locks and the throttle reset run in the same statement (`passwordLoginGuard`).
   * False when either said no: then nothing was inserted. A refused attempt passes `NO_ACCOUNT` and runs the
   * same statement, so it costs what a right password on a locked email does.
   */
  async openSessionAfterPasswordCheck(
    check: PasswordLoginCheck,
    session: NewSession,
    token: FirstRefreshToken,
  ): Promise<boolean> {
    const [row] = await openAfterPasswordCheck(this.#db, { ...openParams(session, token), ...check });
    return openedRow.parse(row).opened;
  }

  /**
   * The login's user re-read inside its transaction with the row share-locked until it ends: a concurrent
   * password reset or change, or a 2FA activation, either committed before (and is seen here) or waits for
   * this login to commit (and then revokes the session it opened). Taken before the throttle row, the order
   * those writers use too.
   */
  async findUserLocked(tx: Transaction, id: string): Promise<LoginUser | undefined> {
    const [row] = await tx.select(loginColumns).from(users).where(eq(users.id, id)).for("share");
    return row;
  }

  /**
   * Replaces a hash made with older argon2 parameters by one of the same password with today's, unless the
   * password changed meanwhile (the stored hash is no longer `previous`). Not a password change, so no
   * timestamp moves.
   */
  async upgradePasswordHash(id: string, previous: string, passwordHash: string): Promise<void> {
    await this.#db
      .update(users)
      .set({ passwordHash })
      .where(and(eq(users.id, id), eq(users.passwordHash, previous)));
  }
}
