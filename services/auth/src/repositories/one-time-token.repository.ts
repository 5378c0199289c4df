import { and, desc, eq, gt, isNull } from "drizzle-orm";
import type { Database, Executor } from "@mimascota/shared/db/database";
import { oneTimeTokens } from "../db/schema.ts";

export type OneTimePurpose = "verify_email" | "reset_password";

/** Verification and reset tokens, by digest only: the token itself exists only in the mail. */
export class OneTimeTokenRepository {
  readonly #db: Database;

  constructor(options: { db: Database }) {
    this.#db = options.db;
  }

  /** Stores a new token and voids every unused one of the same purpose, so only the newest link works. */
  async issue(
    tx: Executor,
    token: {
      id: string;
      userId: string;
      purpose: OneTimePurpose;
      tokenHash: string;
      createdAt: Date;
      expiresAt: Date;
    },
  ): Promise<void> {
    await this.voidUnused(tx, token.userId, token.purpose, token.createdAt);
    await tx.insert(oneTimeTokens).values(token);
  }

  /** Voids the user's unused tokens of one purpose (e.g. reset links once the password has changed). */
  async voidUnused(tx: Executor, userId: string, purpose: OneTimePurpose, at: Date): Promise<void> {
    await tx
      .update(oneTimeTokens)
      .set({ consumedAt: at })
      .where(
        and(
          eq(oneTimeTokens.userId, userId),
          eq(oneTimeTokens.purpose, purpose),
          isNull(oneTimeTokens.consumedAt),
        ),
      );
  }

  /**
   * Uses a token in one atomic statement: of any number of concurrent calls with the same token exactly one
   * gets the user id back (the row lock makes the others re-check `consumed_at` and match nothing).
   */
  async consume(
    tx: Executor,
    purpose: OneTimePurpose,
    tokenHash: string,
    now: Date,
  ): Promise<string | undefined> {
    const [row] = await tx
      .update(oneTimeTokens)
      .set({ consumedAt: now })
      .where(and(...usable(purpose, tokenHash, now)))
      .returning({ userId: oneTimeTokens.userId });
    return row?.userId;
  }

  /** Reads without using: lets a request be validated before the token is spent. */
  async findUsable(purpose: OneTimePurpose, tokenHash: string, now: Date, tx: Executor = this.#db) {
    const [row] = await tx
      .select({ userId: oneTimeTokens.userId })
      .from(oneTimeTokens)
      .where(and(...usable(purpose, tokenHash, now)));
    return row?.userId;
  }

  async lastIssuedAt(tx: Executor, userId: string, purpose: OneTimePurpose): Promise<Date | undefined> {
    const [row] = await tx
      .select({ createdAt: oneTimeTokens.createdAt })
      .from(oneTimeTokens)
      .where(and(eq(oneTimeTokens.userId, userId), eq(oneTimeTokens.purpose, purpose)))
      .orderBy(desc(oneTimeTokens.createdAt))
      .limit(1);
    return row?.createdAt;
  }
}

function usable(purpose: OneTimePurpose, tokenHash: string, now: Date) {
  return [
    eq(oneTimeTokens.tokenHash, tokenHash),
    eq(oneTimeTokens.purpose, purpose),
    isNull(oneTimeTokens.consumedAt),
    gt(oneTimeTokens.expiresAt, now),
  ];
}
