import { and, desc, eq, gt, isNull, or, sql } from "drizzle-orm";
import type { Database, Executor, Transaction } from "@mimascota/shared/db/database";
import { signingKeys } from "../db/schema.ts";

export interface NewSigningKey {
  kid: string;
  alg: string;
  publicJwk: Record<string, unknown>;
  privateKeySealed: string;
  createdAt: Date;
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

  /** The key that signs new tokens: the newest one not retired. Private part opt-in (sealed). */
  async findActive(tx: Executor = this.#db) {
    const [row] = await tx
      .select({ kid: signingKeys.kid, alg: signingKeys.alg, privateKeySealed: signingKeys.privateKeySealed })
      .from(signingKeys)
      .where(isNull(signingKeys.retiredAt))
      .orderBy(desc(signingKeys.createdAt))
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

  /** Retires every active key except `keepKid`; their public keys stay published until `expiresAt`. */
  async retireAllExcept(tx: Executor, keepKid: string, at: Date, expiresAt: Date): Promise<string[]> {
    const rows = await tx
      .update(signingKeys)
      .set({ retiredAt: at, expiresAt })
      .where(and(isNull(signingKeys.retiredAt), sql`${signingKeys.kid} <> ${keepKid}`))
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
