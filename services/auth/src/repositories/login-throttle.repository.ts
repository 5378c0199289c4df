import { eq, sql, type SQL } from "drizzle-orm";
import type { Database, Executor, Transaction } from "@mimascota/shared/db/database";
import { loginThrottles } from "../db/schema.ts";
import type { ThrottleState } from "../domain/lockout-policy.ts";

const stateColumns = {
  failureCount: loginThrottles.failureCount,
  windowStartedAt: loginThrottles.windowStartedAt,
  lockedUntil: loginThrottles.lockedUntil,
  lockCount: loginThrottles.lockCount,
  lastLockedAt: loginThrottles.lastLockedAt,
};

/**
 * The throttle step of the statement every password login runs first (`SessionRepository.openAfterPasswordCheck`):
 * after `account` (a CTE of the user's row when the password login may open a session, else empty, e.g.
 * `passwordLoginStillValid`; read in full first, so its row lock comes before the throttle row's), a CTE
 * `throttle` that takes the email's row as `LoginThrottleRepository.lockState` does (created if missing,
 * row-locked until the statement ends, after any concurrent attempt holding it) and forgets its failures only
 * when `account` has its row and the email is not locked, and a `from` that yields a row only then (not
 * locked: `locked_until` not ahead, the lockout policy's `isLocked`). The row is taken whatever `account`
 * holds, so a refused attempt runs the same statement with the same writes as a right password on a locked
 * email: the time it takes does not tell them apart.
 */
export function unlessLocked(email: string, now: Date, account: SQL): { ctes: SQL; from: SQL } {
  const at = sql`${now}::timestamptz`;
  const open = sql`(login_throttles.locked_until is null or login_throttles.locked_until <= ${at})`;
  return {
    ctes: sql`${account}throttle as (
  insert into login_throttles (email, failure_count, window_started_at, lock_count)
  select ${email}::text, 0, ${at}, 0 from (select count(*) from account) as checked
  on conflict (email) do update set failure_count =
    case when ${open} and exists (select 1 from account) then 0 else login_throttles.failure_count end
  returning locked_until
), `,
    from: sql`from throttle, account where throttle.locked_until is null or throttle.locked_until <= ${at}`,
  };
}

/** Failed-login state per canonical email (unknown emails included). */
export class LoginThrottleRepository {
  readonly #db: Database;

  constructor(options: { db: Database }) {
    this.#db = options.db;
  }

  /**
   * The email's state with its row locked until `tx` ends, in one statement. The row is created if missing,
   * and an existing one is "updated" to itself, which takes its row lock (`on conflict do update` locks the
   * row it conflicts with, waiting out another attempt's lock, and returns the newest version). So even the
   * very first failures of an email are serialised: 50 parallel wrong passwords are counted one by one and
   * lock exactly at the threshold.
   */
  async lockState(tx: Transaction, email: string, now: Date): Promise<ThrottleState> {
    const [row] = await tx
      .insert(loginThrottles)
      .values({ email, failureCount: 0, windowStartedAt: now, lockCount: 0 })
      .onConflictDoUpdate({ target: loginThrottles.email, set: { email: sql`excluded.email` } })
      .returning(stateColumns);
    if (!row) throw new Error("login throttle upsert returned no row");
    return row;
  }

  async save(tx: Transaction, email: string, state: ThrottleState): Promise<void> {
    await tx.update(loginThrottles).set(state).where(eq(loginThrottles.email, email));
  }

  /** A correct password forgets earlier failures; the lock history (doubling) is kept. */
  async resetFailures(tx: Executor, email: string): Promise<void> {
    await tx
      .update(loginThrottles)
      .set({ failureCount: 0 })
      .where(sql`${loginThrottles.email} = ${email} and ${loginThrottles.failureCount} > 0`);
  }

  /** A password reset proved control of the mailbox: lift the lock and forget the history. */
  async unlock(tx: Executor, email: string): Promise<void> {
    await tx.delete(loginThrottles).where(eq(loginThrottles.email, email));
  }

  async find(email: string, tx: Executor = this.#db): Promise<ThrottleState | undefined> {
    const [row] = await tx.select(stateColumns).from(loginThrottles).where(eq(loginThrottles.email, email));
    return row;
  }
}
