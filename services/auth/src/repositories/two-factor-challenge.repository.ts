import { and, eq, gt, isNull, lt, sql } from "drizzle-orm";
import type { Executor } from "@mimascota/shared/db/database";
import { twoFactorChallenges } from "../db/schema.ts";

export interface NewTwoFactorChallenge {
  id: string;
  userId: string;
  tokenHash: string;
  createdAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
  /** The trusted device of the password step, if any. */
  deviceId: string | null;
}

/** The pending second step of a password login with 2FA on; the token is stored only as a digest. */
export class TwoFactorChallengeRepository {
  async create(tx: Executor, challenge: NewTwoFactorChallenge): Promise<void> {
    await tx.insert(twoFactorChallenges).values(challenge);
  }

  /**
   * Counts one attempt on a usable challenge (not consumed, not expired, fewer than `maxAttempts` so far) in a
   * single statement, before the code is checked: twenty parallel guesses on one token get at most
   * `maxAttempts` checks. No row means the token is unknown, used, expired or exhausted: all alike.
   */
  async reserveAttempt(
    tx: Executor,
    tokenHash: string,
    now: Date,
    maxAttempts: number,
  ): Promise<{ id: string; userId: string; createdAt: Date; deviceId: string | null } | undefined> {
    const [row] = await tx
      .update(twoFactorChallenges)
      .set({ failedAttempts: sql`${twoFactorChallenges.failedAttempts} + 1` })
      .where(
        and(
          eq(twoFactorChallenges.tokenHash, tokenHash),
          isNull(twoFactorChallenges.consumedAt),
          gt(twoFactorChallenges.expiresAt, now),
          lt(twoFactorChallenges.failedAttempts, maxAttempts),
        ),
      )
      .returning({
        id: twoFactorChallenges.id,
        userId: twoFactorChallenges.userId,
        createdAt: twoFactorChallenges.createdAt,
        deviceId: twoFactorChallenges.deviceId,
      });
    return row;
  }

  /** Single use: true only for the one call that consumed it. */
  async consume(tx: Executor, id: string, now: Date): Promise<boolean> {
    const rows = await tx
      .update(twoFactorChallenges)
      .set({ consumedAt: now })
      .where(and(eq(twoFactorChallenges.id, id), isNull(twoFactorChallenges.consumedAt)))
      .returning({ id: twoFactorChallenges.id });
    return rows.length === 1;
  }
}
