import { and, count, eq, sql } from "drizzle-orm";
import type { Executor } from "@mimascota/shared/db/database";
import type { ProfileChanges } from "../domain/profile-fields.ts";
import { profiles } from "../db/schema.ts";

export type ProfileRow = typeof profiles.$inferSelect;
export type NewProfile = typeof profiles.$inferInsert;

/** Registration data for a profile: every column the `user.registered.v1` event can carry. */
export type RegistrationFields = Omit<NewProfile, "id" | "userId" | "createdAt" | "updatedAt" | "photoKey">;

export class ProfileRepository {
  findByUserId(db: Executor, userId: string): Promise<ProfileRow | undefined> {
    return db
      .select()
      .from(profiles)
      .where(eq(profiles.userId, userId))
      .then((rows) => rows[0]);
  }

  /** The profile with this id, only if `userId` owns it (another user's profile is "not found"). */
  findOwned(db: Executor, id: string, userId: string): Promise<ProfileRow | undefined> {
    return db
      .select()
      .from(profiles)
      .where(and(eq(profiles.id, id), eq(profiles.userId, userId)))
      .then((rows) => rows[0]);
  }

  /** Inserts unless the user already has a profile; the row either way (a concurrent insert is not an error). */
  async insertIfAbsent(db: Executor, row: NewProfile): Promise<{ row: ProfileRow; created: boolean }> {
    const inserted = await db
      .insert(profiles)
      .values(row)
      .onConflictDoNothing({ target: profiles.userId })
      .returning();
    if (inserted[0]) return { row: inserted[0], created: true };
    const existing = await this.findByUserId(db, row.userId);
    if (!existing) throw new Error("profile vanished between insert and select");
    return { row: existing, created: false };
  }

  async update(
    db: Executor,
    userId: string,
    changes: ProfileChanges,
    now: Date,
  ): Promise<ProfileRow | undefined> {
    const rows = await db
      .update(profiles)
      .set({ ...changes, updatedAt: now })
      .where(eq(profiles.userId, userId))
      .returning();
    return rows[0];
  }

  /**
   * Fills in what a registration carried without overwriting what the user has set since (a profile made
   * from the token at first sign-in, then edited, keeps the edits): each column takes the event's value only
   * where it is still null.
   */
  async fillFromRegistration(
    db: Executor,
    userId: string,
    fields: RegistrationFields,
    now: Date,
  ): Promise<void> {
    const fill = Object.fromEntries(
      Object.entries(fields)
        .filter(([, value]) => value !== undefined && value !== null)
        .map(([key, value]) => {
          const column = profiles[key as keyof RegistrationFields];
          return [key, sql`coalesce(${column}, ${value})`];
        }),
    );
    await db
      .update(profiles)
      .set({ ...fill, updatedAt: now })
      .where(eq(profiles.userId, userId));
  }

  /**
   * Sets the photo and returns the key it replaced (null when there was none; undefined when the user owns no
   * such profile). Run in a transaction: the row is locked between reading the old key and writing the new.
   */
  async replacePhoto(
    tx: Executor,
    id: string,
    userId: string,
    key: string,
    now: Date,
  ): Promise<string | null | undefined> {
    const [current] = await tx
      .select({ photoKey: profiles.photoKey })
      .from(profiles)
      .where(and(eq(profiles.id, id), eq(profiles.userId, userId)))
      .for("update");
    if (!current) return undefined;
    await tx.update(profiles).set({ photoKey: key, updatedAt: now }).where(eq(profiles.id, id));
    return current.photoKey;
  }

  /** Deletes the user's profile; the photo key it held, so the object can go too. */
  async deleteByUserId(db: Executor, userId: string): Promise<{ photoKey: string | null } | undefined> {
    const rows = await db
      .delete(profiles)
      .where(eq(profiles.userId, userId))
      .returning({ photoKey: profiles.photoKey });
    return rows[0];
  }

  async countByUserId(db: Executor, userId: string): Promise<number> {
    const [row] = await db.select({ n: count() }).from(profiles).where(eq(profiles.userId, userId));
    return row?.n ?? 0;
  }
}
