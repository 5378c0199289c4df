import { asc, eq, sql } from "drizzle-orm";
import type { Executor } from "@mimascota/shared/db/database";
import { objectDeletions } from "../db/schema.ts";

/** Stored objects to delete once the transaction that let go of them has committed (see the schema). */
export class ObjectDeletionRepository {
  async request(tx: Executor, key: string, now: Date): Promise<void> {
    await tx.insert(objectDeletions).values({ key, requestedAt: now }).onConflictDoNothing();
  }

  async done(db: Executor, key: string): Promise<void> {
    await db.delete(objectDeletions).where(eq(objectDeletions.key, key));
  }

  async failed(db: Executor, key: string): Promise<void> {
    await db
      .update(objectDeletions)
      .set({ attempts: sql`${objectDeletions.attempts} + 1` })
      .where(eq(objectDeletions.key, key));
  }

  /** The oldest outstanding deletions. */
  async pending(db: Executor, limit: number): Promise<string[]> {
    const rows = await db
      .select({ key: objectDeletions.key })
      .from(objectDeletions)
      .orderBy(asc(objectDeletions.requestedAt))
      .limit(limit);
    return rows.map((row) => row.key);
  }

  async count(db: Executor): Promise<number> {
    const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(objectDeletions);
    return row?.n ?? 0;
  }
}
