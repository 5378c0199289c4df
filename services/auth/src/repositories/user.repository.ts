import { and, eq, isNull, sql, type SQL } from "drizzle-orm";
import type { Database, Executor, Transaction } from "@mimascota/shared/db/database";
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

const recipientColumns = {
  id: users.id,
  email: users.email,
  fullName: users.fullName,
  locale: users.locale,
  role: users.role,
  emailVerifiedAt: users.emailVerifiedAt,
};

/** What a password login needs: the recipient, the hash, the 2FA state and what the profile shows. */
const loginColumns = {
  ...recipientColumns,
  passwordHash: users.passwordHash,
  twoFactorEnabledAt: users.twoFactorEnabledAt,
  /** A device cookie issued before the last password change is void. */
  passwordChangedAt: users.passwordChangedAt,
  createdAt: users.createdAt,
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

/** What a refused login gives `passwordLoginStillValid`: it then yields nothing. */
export const NO_ACCOUNT = { userId: "00000000-0000-0000-0000-000000000000", passwordHash: "" } as const;

/**
 * For the clean password login's one statement: a CTE `account` that yields the user's row, share-locked
 * until the statement ends, only while a password alone still signs them in as it did when the password was
 * checked (the same hash, the address verified, 2FA off). A reset, a change or a 2FA activation committed
 * in between empties it; one still running waits for the login, and then revokes its session. A refused
 * attempt passes `NO_ACCOUNT` (no user has that id and no hash is empty), so its statement is the same.
 */
export function passwordLoginStillValid(userId: string, passwordHash: string): SQL {
  return sql`account as (
  select id from users
  where id = ${userId}::uuid and password_hash = ${passwordHash}
    and email_verified_at is not null and two_factor_enabled_at is null
  for share
), `;
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
  /** The two reads of every login and every `/me`, rendered once and prepared (see `preparedStatement`). */
  readonly #forLogin;
  readonly #profile;

  constructor(options: { db: Database }) {
    this.#db = options.db;
    this.#forLogin = this.#db
      .select(loginColumns)
      .from(users)
      .where(eq(users.email, sql.placeholder("email")))
      .prepare("users_for_login");
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

  async getForLogin(email: string, tx?: Executor) {
    const [row] = tx
      ? await tx.select(loginColumns).from(users).where(eq(users.email, email))
      : await this.#forLogin.execute({ email });
    return row;
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
   * Replaces a hash made with older argon2 parameters by one of the same password with today's, unless the
   * password changed meanwhile (the stored hash is no longer `previous`). Not a password change, so no
   * timestamp moves.
   */
  async upgradePasswordHash(id: string, previous: string, passwordHash: string): Promise<void> {
    await this.#db
      .update(users)
      .set({ passwordHash })
      .where(and(eq(users.id, id), eq(users.passwordHash, previous)));
  }

  /**
   * The login's user re-read inside its transaction with the row share-locked until it ends: a concurrent
   * password reset or change, or a 2FA activation, either committed before (and is seen here) or waits for
   * this login to commit (and then revokes the session it opened). Taken before the throttle row, the order
   * those writers use too.
   */
  async getForLoginLocked(tx: Transaction, id: string) {
    const [row] = await tx.select(loginColumns).from(users).where(eq(users.id, id)).for("share");
    return row;
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
