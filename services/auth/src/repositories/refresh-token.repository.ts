import { and, eq, isNull } from "drizzle-orm";
import type { Database, Executor } from "@mimascota/shared/db/database";
import { refreshTokens, sessions } from "../db/schema.ts";

export interface NewRefreshToken {
  id: string;
  sessionId: string;
  parentId: string | null;
  tokenHash: string;
  createdAt: Date;
  expiresAt: Date;
}

/** Refresh tokens, stored only as SHA-256 digests. */
export class RefreshTokenRepository {
  readonly #db: Database;

  constructor(options: { db: Database }) {
    this.#db = options.db;
  }

  async insert(tx: Executor, token: NewRefreshToken): Promise<void> {
    await tx.insert(refreshTokens).values(token);
  }

  /** A presented token with the state of its session: everything a refresh or logout decides on. */
  async findWithSession(tokenHash: string, tx: Executor = this.#db) {
    const [row] = await tx
      .select({
        id: refreshTokens.id,
        sessionId: refreshTokens.sessionId,
        expiresAt: refreshTokens.expiresAt,
        rotatedAt: refreshTokens.rotatedAt,
        userId: sessions.userId,
        amr: sessions.amr,
        sessionExpiresAt: sessions.expiresAt,
        sessionRevokedAt: sessions.revokedAt,
      })
      .from(refreshTokens)
      .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
      .where(eq(refreshTokens.tokenHash, tokenHash));
    return row;
  }

  /**
   * Marks the token rotated if nobody has yet, in one statement: of any number of concurrent refreshes with
   * one token, exactly one gets `true` (PostgreSQL re-checks `rotated_at is null` after waiting on the row).
   */
  async markRotated(tx: Executor, id: string, at: Date): Promise<boolean> {
    const rows = await tx
      .update(refreshTokens)
      .set({ rotatedAt: at })
      .where(and(eq(refreshTokens.id, id), isNull(refreshTokens.rotatedAt)))
      .returning({ id: refreshTokens.id });
    return rows.length === 1;
  }
}
