import { and, eq, isNull, sql } from "drizzle-orm";
import type { Database, Executor } from "@mimascota/shared/db/database";
import { users } from "../db/schema.ts";
import type { Role } from "../domain/role.ts";

type Locale = "es" | "en";

export interface NewUser {
  id: string;
  email: string;
  passwordHash: string;
  fullName: string | null;
  locale: Locale;
  role: Role;
  createdAt: Date;
}

/** Who to write to: enough for a mail, never the password hash. */
export interface MailRecipient {
  id: string;
  email: string;
  fullName: string | null;
  locale: Locale;
  role: Role;
  emailVerifiedAt: Date | null;
}

/** The columns of a `MailRecipient` (the login reads them too, with its own). */
export const recipientColumns = {
  id: users.id,
  email: users.email,
  fullName: users.fullName,
  locale: users.locale,
  role: users.role,
  emailVerifiedAt: users.emailVerifiedAt,
};

/** The contract's `user` object. */
export interface Profile {
  id: string;
  email: string;
  fullName: string | null;
  emailVerified: boolean;
  twoFactorEnabled: boolean;
  createdAt: string;
}

export function toProfile(row: {
  id: string;
  email: string;
  fullName: string | null;
  emailVerifiedAt: Date | null;
  twoFactorEnabledAt: Date | null;
  createdAt: Date;
}): Profile {
  return {
    id: row.id,
    email: row.email,
    fullName: row.fullName,
    emailVerified: row.emailVerifiedAt !== null,
    twoFactorEnabled: row.twoFactorEnabledAt !== null,
    createdAt: row.createdAt.toISOString(),
  };
}

const profileColumns = {
  id: users.id,
  email: users.email,
  fullName: users.fullName,
  emailVerifiedAt: users.emailVerifiedAt,
  twoFactorEnabledAt: users.twoFactorEnabledAt,
  createdAt: users.createdAt,
};

/** Users by intent; the password hash is selected only by the methods that verify a password. */
export class UserRepository {
  readonly #db: Database;
  /** The read of every `/me`, rendered once and prepared (see `preparedStatement`). */
  readonly #profile;

  constructor(options: { db: Database }) {
    this.#db = options.db;
    this.#profile = this.#db
      .select(profileColumns)
      .from(users)
      .where(eq(users.id, sql.placeholder("id")))
      .prepare("users_profile");
  }

  /**
   * Inserts unless the email is taken. `on conflict do nothing` turns the check-then-insert race of two
   * registrations of one email into a plain "not inserted", never a unique-violation error.
   */
  async insertIfEmailFree(tx: Executor, user: NewUser): Promise<boolean> {
    const rows = await tx
      .insert(users)
      .values(user)
      .onConflictDoNothing({ target: users.email })
      .returning({ id: users.id });
    return rows.length === 1;
  }

  async findRecipientByEmail(email: string, tx: Executor = this.#db): Promise<MailRecipient | undefined> {
    const [row] = await tx.select(recipientColumns).from(users).where(eq(users.email, email));
    return row;
  }

  async findRecipientById(id: string, tx: Executor = this.#db): Promise<MailRecipient | undefined> {
    const [row] = await tx.select(recipientColumns).from(users).where(eq(users.id, id));
    return row;
  }

  /** Takes the user's row lock for the rest of the transaction (serialises per-account cooldowns). */
  async lockForUpdate(tx: Executor, id: string): Promise<boolean> {
    const rows = await tx.select({ id: users.id }).from(users).where(eq(users.id, id)).for("update");
    return rows.length === 1;
  }

  async getForChangePassword(id: string, tx: Executor = this.#db) {
    const [row] = await tx
      .select({ ...recipientColumns, passwordHash: users.passwordHash })
      .from(users)
      .where(eq(users.id, id));
    return row;
  }

  /** What an access token says of its user besides the id: the `email` and `roles` claims. */
  async getClaims(id: string, tx: Executor = this.#db): Promise<{ email: string; role: Role } | undefined> {
    const [row] = await tx
      .select({ email: users.email, role: users.role })
      .from(users)
      .where(eq(users.id, id));
    return row;
  }

  /** The contract's `user` object. */
  async getProfile(id: string) {
    const [row] = await this.#profile.execute({ id });
    return row && toProfile(row);
  }

  async setPasswordHash(tx: Executor, id: string, passwordHash: string, changedAt: Date): Promise<void> {
    await tx.update(users).set({ passwordHash, passwordChangedAt: changedAt }).where(eq(users.id, id));
  }

  /**
   * Deletes the account; its sessions, refresh tokens, one-time tokens, 2FA credential, backup codes and login
   * challenges go with it (foreign keys cascade). False when it was already gone (a racing deletion).
   */
  async delete(tx: Executor, id: string): Promise<boolean> {
    const rows = await tx.delete(users).where(eq(users.id, id)).returning({ id: users.id });
    return rows.length === 1;
  }

  /** Sets the verification time once; true only for the call that verified the address. */
  async markEmailVerified(tx: Executor, id: string, at: Date): Promise<boolean> {
    const rows = await tx
      .update(users)
      .set({ emailVerifiedAt: at })
      .where(and(eq(users.id, id), isNull(users.emailVerifiedAt)))
      .returning({ id: users.id });
    return rows.length === 1;
  }
}
