import { and, asc, eq, gt, isNotNull, isNull, lt, or } from "drizzle-orm";
import type { Database, Executor } from "@mimascota/shared/db/database";
import { twoFactorCredentials, users } from "../db/schema.ts";
import {
  NO_ATTEMPTS,
  type AccountAttemptStore,
  type AccountAttempts,
} from "../two-factor/two-factor-attempts.ts";

export interface TwoFactorCredential {
  secretSealed: string;
  /** While pending: the backup codes enable showed, sealed; null once confirmed. */
  pendingBackupCodesSealed: string | null;
  confirmedAt: Date | null;
  lastUsedStep: number | null;
}

/** A user's TOTP credential (`two_factor_credentials`) and the 2FA switch on `users`. */
export class TwoFactorRepository implements AccountAttemptStore {
  readonly #db: Database;

  constructor(options: { db: Database }) {
    this.#db = options.db;
  }

  async find(userId: string, tx: Executor = this.#db): Promise<TwoFactorCredential | undefined> {
    const [row] = await tx
      .select({
        secretSealed: twoFactorCredentials.secretSealed,
        pendingBackupCodesSealed: twoFactorCredentials.pendingBackupCodesSealed,
        confirmedAt: twoFactorCredentials.confirmedAt,
        lastUsedStep: twoFactorCredentials.lastUsedStep,
      })
      .from(twoFactorCredentials)
      .where(eq(twoFactorCredentials.userId, userId));
    return row;
  }

  /**
   * Stores a pending secret, replacing an earlier pending one. A confirmed credential is never overwritten
   * (false is returned), so an enable racing a verify-setup cannot swap the secret under a user who just
   * turned 2FA on. The attempt counters are kept: starting over does not reset the 2FA limit.
   */
  async savePending(
    tx: Executor,
    userId: string,
    sealed: { secret: string; backupCodes: string },
    at: Date,
  ): Promise<boolean> {
    const pending = { secretSealed: sealed.secret, pendingBackupCodesSealed: sealed.backupCodes };
    const rows = await tx
      .insert(twoFactorCredentials)
      .values({ userId, ...pending, createdAt: at })
      .onConflictDoUpdate({
        target: twoFactorCredentials.userId,
        set: { ...pending, createdAt: at, lastUsedStep: null },
        setWhere: isNull(twoFactorCredentials.confirmedAt),
      })
      .returning({ userId: twoFactorCredentials.userId });
    return rows.length === 1;
  }

  /**
   * Records `step` as used unless it (or a later one) already was. This single conditional update is what
   * makes a TOTP code single use per user when two requests carrying it race: only one row update happens.
   */
  async useStep(userId: string, step: number, tx: Executor = this.#db): Promise<boolean> {
    const rows = await tx
      .update(twoFactorCredentials)
      .set({ lastUsedStep: step })
      .where(
        and(
          eq(twoFactorCredentials.userId, userId),
          or(isNull(twoFactorCredentials.lastUsedStep), lt(twoFactorCredentials.lastUsedStep, step)),
        ),
      )
      .returning({ userId: twoFactorCredentials.userId });
    return rows.length === 1;
  }

  /**
   * Confirms the pending credential whose secret the code was checked against, and turns 2FA on. False when
   * it is no longer pending (a racing confirmation) or an enable in another tab replaced the secret meanwhile:
   * a secret is never confirmed without a code from it.
   */
  async confirm(tx: Executor, userId: string, secretSealed: string, at: Date): Promise<boolean> {
    const rows = await tx
      .update(twoFactorCredentials)
      .set({ confirmedAt: at, pendingBackupCodesSealed: null })
      .where(
        and(
          eq(twoFactorCredentials.userId, userId),
          isNull(twoFactorCredentials.confirmedAt),
          eq(twoFactorCredentials.secretSealed, secretSealed),
        ),
      )
      .returning({ userId: twoFactorCredentials.userId });
    if (rows.length !== 1) return false;
    await tx.update(users).set({ twoFactorEnabledAt: at }).where(eq(users.id, userId));
    return true;
  }

  /** Up to `limit` credentials' sealed secrets after `afterUserId`, in user id order (for re-sealing). */
  async sealedAfter(
    afterUserId: string | undefined,
    limit: number,
  ): Promise<{ userId: string; sealed: string }[]> {
    return this.#db
      .select({ userId: twoFactorCredentials.userId, sealed: twoFactorCredentials.secretSealed })
      .from(twoFactorCredentials)
      .where(afterUserId === undefined ? undefined : gt(twoFactorCredentials.userId, afterUserId))
      .orderBy(asc(twoFactorCredentials.userId))
      .limit(limit);
  }

  /** Swaps the sealed secret, unless it changed since it was read (a new enable, a disable: then false). */
  async replaceSealed(userId: string, from: string, to: string): Promise<boolean> {
    const rows = await this.#db
      .update(twoFactorCredentials)
      .set({ secretSealed: to })
      .where(and(eq(twoFactorCredentials.userId, userId), eq(twoFactorCredentials.secretSealed, from)))
      .returning({ userId: twoFactorCredentials.userId });
    return rows.length === 1;
  }

  /** Deletes a confirmed credential and turns 2FA off; false when there was none (a racing disable). */
  async removeConfirmed(tx: Executor, userId: string): Promise<boolean> {
    const rows = await tx
      .delete(twoFactorCredentials)
      .where(and(eq(twoFactorCredentials.userId, userId), isNotNull(twoFactorCredentials.confirmedAt)))
      .returning({ userId: twoFactorCredentials.userId });
    if (rows.length !== 1) return false;
    await tx.update(users).set({ twoFactorEnabledAt: null }).where(eq(users.id, userId));
    return true;
  }

  /** When the password last changed (reset or change): a login step begun before that is void. */
  async passwordChangedAt(userId: string, tx: Executor = this.#db): Promise<Date | null> {
    const [row] = await tx.select({ at: users.passwordChangedAt }).from(users).where(eq(users.id, userId));
    return row?.at ?? null;
  }

  async enabledAt(userId: string, tx: Executor = this.#db): Promise<Date | null> {
    const [row] = await tx.select({ at: users.twoFactorEnabledAt }).from(users).where(eq(users.id, userId));
    return row?.at ?? null;
  }

  /**
   * The per-account attempt state, changed under the credential's row lock so that concurrent attempts are
   * counted one by one. Without a credential there is no code to check, so nothing is stored.
   */
  update<T>(
    userId: string,
    change: (current: AccountAttempts) => { next: AccountAttempts; result: T },
  ): Promise<T> {
    return this.#db.transaction(async (tx) => {
      const [row] = await tx
        .select({
          failureCount: twoFactorCredentials.failureCount,
          windowStartedAt: twoFactorCredentials.failureWindowStartedAt,
          blockedUntil: twoFactorCredentials.blockedUntil,
        })
        .from(twoFactorCredentials)
        .where(eq(twoFactorCredentials.userId, userId))
        .for("update");
      const { next, result } = change(row ?? NO_ATTEMPTS);
      if (row) {
        await tx
          .update(twoFactorCredentials)
          .set({
            failureCount: next.failureCount,
            failureWindowStartedAt: next.windowStartedAt,
            blockedUntil: next.blockedUntil,
          })
          .where(eq(twoFactorCredentials.userId, userId));
      }
      return result;
    });
  }
}
