import { and, asc, count, eq, inArray, lte, min, or, sql } from "drizzle-orm";
import type { Database } from "../db/database.ts";
import { mailQueue } from "../db/infra-schema.ts";

/** What a finished mail keeps of its bodies (the columns are not null). */
const NO_BODIES = { textBody: "", htmlBody: "" };

export type QueuedMail = typeof mailQueue.$inferSelect;

export interface MailQueueCounts {
  pending: number;
  dead: number;
  oldestPendingCreatedAt: Date | undefined;
}

/** The mail worker's SQL on `mail_queue`; `enqueueMail` (mail-queue.ts) is the writers' side. */
export class MailQueueRepository {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /**
   * Claims up to `limit` due rows and leases them in one short transaction: attempts + 1 and the next attempt
   * moved to `leaseUntil`. `skip locked` lets several workers claim side by side without taking the same row.
   */
  async claimDue(now: Date, limit: number, leaseUntil: Date): Promise<QueuedMail[]> {
    return this.#db.transaction(async (tx) => {
      const due = await tx
        .select()
        .from(mailQueue)
        .where(
          and(
            eq(mailQueue.status, "pending"),
            // A mail never tried is due at once whatever the clock says; retries wait for their time.
            or(eq(mailQueue.attempts, 0), lte(mailQueue.nextAttemptAt, now)),
          ),
        )
        .orderBy(asc(mailQueue.nextAttemptAt), asc(mailQueue.id))
        .limit(limit)
        .for("update", { skipLocked: true });
      if (due.length === 0) return [];
      await tx
        .update(mailQueue)
        .set({ attempts: sql`${mailQueue.attempts} + 1`, nextAttemptAt: leaseUntil })
        .where(
          inArray(
            mailQueue.id,
            due.map((row) => row.id),
          ),
        );
      return due.map((row) => ({ ...row, attempts: row.attempts + 1 }));
    });
  }

  /** Gives claimed but untried rows back: due again at `now`, their claim not counted as an attempt. */
  async release(ids: string[], now: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.#db
      .update(mailQueue)
      .set({ attempts: sql`${mailQueue.attempts} - 1`, nextAttemptAt: now })
      .where(inArray(mailQueue.id, ids));
  }

  /**
   * Delivered: the bodies are dropped with it. They may carry a single-use link (verification, reset) that
   * the database otherwise stores only as a digest; the row keeps recipient, template and times for audit.
   */
  async markSent(id: string, sentAt: Date): Promise<void> {
    await this.#db
      .update(mailQueue)
      .set({ status: "sent", sentAt, lastError: null, ...NO_BODIES })
      .where(eq(mailQueue.id, id));
  }

  async scheduleRetry(id: string, nextAttemptAt: Date, lastError: string): Promise<void> {
    await this.#db.update(mailQueue).set({ nextAttemptAt, lastError }).where(eq(mailQueue.id, id));
  }

  /** Given up on: the bodies go too (see `markSent`); the error and template stay for the operator. */
  async markDead(id: string, lastError: string): Promise<void> {
    await this.#db
      .update(mailQueue)
      .set({ status: "dead", lastError, ...NO_BODIES })
      .where(eq(mailQueue.id, id));
  }

  async counts(): Promise<MailQueueCounts> {
    const rows = await this.#db
      .select({ status: mailQueue.status, total: count(), oldest: min(mailQueue.createdAt) })
      .from(mailQueue)
      .where(inArray(mailQueue.status, ["pending", "dead"]))
      .groupBy(mailQueue.status);
    const pending = rows.find((row) => row.status === "pending");
    const dead = rows.find((row) => row.status === "dead");
    return {
      pending: Number(pending?.total ?? 0),
      dead: Number(dead?.total ?? 0),
      oldestPendingCreatedAt: pending?.oldest ? new Date(pending.oldest) : undefined,
    };
  }
}
