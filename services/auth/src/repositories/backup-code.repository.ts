import { randomUUID } from "node:crypto";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Database, Executor } from "@mimascota/shared/db/database";
import { backupCodes } from "../db/schema.ts";

/** Backup codes, stored only as salted argon2id hashes (see `two-factor/backup-codes.ts`). */
export class BackupCodeRepository {
  readonly #db: Database;

  constructor(options: { db: Database }) {
    this.#db = options.db;
  }

  /** The new set replaces every earlier code, used or not: an old printout stops working at once. */
  async replaceAll(tx: Executor, userId: string, hashes: readonly string[], at: Date): Promise<void> {
    await this.deleteAll(tx, userId);
    await tx
      .insert(backupCodes)
      .values(hashes.map((codeHash) => ({ id: randomUUID(), userId, codeHash, createdAt: at })));
  }

  async deleteAll(tx: Executor, userId: string): Promise<void> {
    await tx.delete(backupCodes).where(eq(backupCodes.userId, userId));
  }

  async listUnused(userId: string, tx: Executor = this.#db): Promise<{ id: string; codeHash: string }[]> {
    return tx
      .select({ id: backupCodes.id, codeHash: backupCodes.codeHash })
      .from(backupCodes)
      .where(and(eq(backupCodes.userId, userId), isNull(backupCodes.usedAt)))
      .orderBy(backupCodes.id);
  }

  /**
   * Spends a code; false when it was already spent. Two requests racing with one code both match its hash,
   * but only one of them changes the row, so the code works once.
   */
  async markUsed(id: string, at: Date, tx: Executor = this.#db): Promise<boolean> {
    const rows = await tx
      .update(backupCodes)
      .set({ usedAt: at })
      .where(and(eq(backupCodes.id, id), isNull(backupCodes.usedAt)))
      .returning({ id: backupCodes.id });
    return rows.length === 1;
  }

  async countUnused(userId: string, tx: Executor = this.#db): Promise<number> {
    const [row] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(backupCodes)
      .where(and(eq(backupCodes.userId, userId), isNull(backupCodes.usedAt)));
    return row?.n ?? 0;
  }
}
