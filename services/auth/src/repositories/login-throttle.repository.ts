import { eq, sql } from "drizzle-orm";
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
 * Failed-login state per canonical email (unknown emails included), judged by the lockout policy. The clean
 * login takes the same row inside its one statement (`passwordLoginGuard`).
 */
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

  /**
   * The second factor passed: earlier failures are forgotten and the lock history (doubling) is kept, as the
   * lockout policy's `afterAttempt` does for a password alone.
   */
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
