import { and, desc, eq, gt, isNull, or, sql } from "drizzle-orm";
import type { Database, Executor, Transaction } from "@mimascota/shared/db/database";
import { signingKeys } from "../db/schema.ts";

export interface NewSigningKey {
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  privateKeySealed: string;
  createdAt: Date;
  activatesAt?: Date;
}

/** JWT signing keys; the private key is only ever stored sealed. */
export class SigningKeyRepository {
  readonly #db: Database;

  constructor(options: { db: Database }) {
    this.#db = options.db;
  }

  /**
   * Serialises key creation and rotation across replicas for the rest of `tx`: two instances starting at
   * once must not both create a first key. A transaction-level lock is released by commit or rollback, so
   * a crashed holder cannot leave it behind.
   */
  async lockForKeyChange(tx: Transaction): Promise<void> {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('mimascota-auth.signing-keys'))`);
  }

  /**
   * The key that signs new tokens at `now`: the one activated last (at its creation when `activates_at` is
   * null) and not yet retired. Private part opt-in (sealed).
   */
  async findActive(now: Date, tx: Executor = this.#db) {
    const activatedAt = sql`coalesce(${signingKeys.activatesAt}, ${signingKeys.createdAt})`;
    const [row] = await tx
      .select({ kid: signingKeys.kid, alg: signingKeys.alg, privateKeySealed: signingKeys.privateKeySealed })
      .from(signingKeys)
      .where(
        and(
          sql`${activatedAt} <= ${now}::timestamptz`,
          or(isNull(signingKeys.retiredAt), gt(signingKeys.retiredAt, now)),
        ),
      )
      .orderBy(desc(activatedAt))
      .limit(1);
    return row;
  }

  /** Public keys that may still have live tokens: the active one and retired ones not yet past `expiresAt`. */
  async listPublishable(now: Date, tx: Executor = this.#db) {
    return tx
      .select({
        kid: signingKeys.kid,
        alg: signingKeys.alg,
        publicJwk: signingKeys.publicJwk,
        expiresAt: signingKeys.expiresAt,
      })
      .from(signingKeys)
      .where(or(isNull(signingKeys.expiresAt), gt(signingKeys.expiresAt, now)))
      .orderBy(desc(signingKeys.createdAt));
  }

  async insert(tx: Executor, key: NewSigningKey): Promise<void> {
    await tx.insert(signingKeys).values(key);
  }

  /** Deletes keys published ahead of use that have not started signing at `now`: they signed nothing. */
  async deletePending(tx: Executor, now: Date): Promise<string[]> {
    const rows = await tx
      .delete(signingKeys)
      .where(gt(signingKeys.activatesAt, now))
      .returning({ kid: signingKeys.kid });
    return rows.map((r) => r.kid);
  }

  /**
   * Every key but `keepKid` that still signs at `now` (or was to stop later) stops at `at`; its public key
   * stays published until `expiresAt`. Keys retired before `now` keep their dates.
   */
  async retireAllExcept(
    tx: Executor,
    keepKid: string,
    now: Date,
    at: Date,
    expiresAt: Date,
  ): Promise<string[]> {
    const rows = await tx
      .update(signingKeys)
      .set({ retiredAt: at, expiresAt })
      .where(
        and(
          or(isNull(signingKeys.retiredAt), gt(signingKeys.retiredAt, now)),
          sql`${signingKeys.kid} <> ${keepKid}`,
        ),
      )
      .returning({ kid: signingKeys.kid });
    return rows.map((r) => r.kid);
  }

  /** Every key's sealed private part (a handful of rows), for re-sealing under a new encryption key. */
  async listSealed(): Promise<{ kid: string; sealed: string }[]> {
    return this.#db.select({ kid: signingKeys.kid, sealed: signingKeys.privateKeySealed }).from(signingKeys);
  }

  /** Swaps the sealed private key, unless it changed since it was read (then false). */
  async replaceSealed(kid: string, from: string, to: string): Promise<boolean> {
    const rows = await this.#db
      .update(signingKeys)
      .set({ privateKeySealed: to })
      .where(and(eq(signingKeys.kid, kid), eq(signingKeys.privateKeySealed, from)))
      .returning({ kid: signingKeys.kid });
    return rows.length === 1;
  }
}
