import { and, asc, count, desc, eq, gt, isNull } from "drizzle-orm";
import type { Executor } from "@mimascota/shared/db/database";
import { mailQueue, outboxEvents } from "@mimascota/shared/db/infra-schema";
import { sessions, users } from "../db/schema.ts";
import { recipientColumns } from "./user.repository.ts";

/** An account as support sees it: never the password hash. */
export type SupportAccount = NonNullable<Awaited<ReturnType<SupportRepository["findAccount"]>>>;

export type SupportSession = Awaited<ReturnType<SupportRepository["sessions"]>>[number];

const liveSession = (userId: string, now: Date) =>
  and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now));

/**
 * What the support tooling reads about one account across tables, by intent. Every read takes the caller's
 * transaction (the one the audit record is written in); none selects a hash, token body or secret.
 */
export class SupportRepository {
  async findAccount(tx: Executor, email: string) {
    const [row] = await tx
      .select({
        ...recipientColumns,
        passwordChangedAt: users.passwordChangedAt,
        twoFactorEnabledAt: users.twoFactorEnabledAt,
        createdAt: users.createdAt,
      })
      .from(users)
      .where(eq(users.email, email));
    return row;
  }

  async countLiveSessions(tx: Executor, userId: string, now: Date): Promise<number> {
    const [row] = await tx.select({ n: count() }).from(sessions).where(liveSession(userId, now));
    return Number(row?.n ?? 0);
  }

  /** The user's sessions, newest first: the live ones only, or every one still stored (`all`). */
  async sessions(tx: Executor, userId: string, options: { now: Date; all?: boolean }) {
    return tx
      .select({
        id: sessions.id,
        createdAt: sessions.createdAt,
        lastUsedAt: sessions.lastUsedAt,
        expiresAt: sessions.expiresAt,
        revokedAt: sessions.revokedAt,
        revokedReason: sessions.revokedReason,
        ip: sessions.ip,
        userAgent: sessions.userAgent,
        amr: sessions.amr,
      })
      .from(sessions)
      .where(options.all ? eq(sessions.userId, userId) : liveSession(userId, options.now))
      .orderBy(desc(sessions.createdAt));
  }

  /** Mails to the address, oldest first, without their bodies (a pending one may carry a single-use link). */
  async mailsTo(tx: Executor, email: string) {
    return tx
      .select({
        id: mailQueue.id,
        template: mailQueue.template,
        subject: mailQueue.subject,
        status: mailQueue.status,
        attempts: mailQueue.attempts,
        createdAt: mailQueue.createdAt,
        sentAt: mailQueue.sentAt,
      })
      .from(mailQueue)
      .where(eq(mailQueue.toAddress, email))
      .orderBy(asc(mailQueue.createdAt), asc(mailQueue.id));
  }

  /** Events about the user still in the outbox (keyed by user id), in the order they were written. */
  async eventsAbout(tx: Executor, userId: string) {
    return tx
      .select({
        id: outboxEvents.id,
        topic: outboxEvents.topic,
        occurredAt: outboxEvents.occurredAt,
        publishedAt: outboxEvents.publishedAt,
        data: outboxEvents.data,
      })
      .from(outboxEvents)
      .where(eq(outboxEvents.key, userId))
      .orderBy(asc(outboxEvents.id));
  }
}
