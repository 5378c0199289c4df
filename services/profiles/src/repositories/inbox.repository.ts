import type { Executor } from "@mimascota/shared/db/database";
import type { ParkedEvent } from "@mimascota/shared/events/inbound-event";
import { eq, lt } from "drizzle-orm";
import { deadLetterEvents, deletedAccounts, processedEvents } from "../db/schema.ts";

/** The consumer's memory: events already applied (by CloudEvents id), accounts deleted, poison events parked. */
export class InboxRepository {
  /** Records the event as applied; false when it already was (a redelivery), and the caller then does nothing. */
  async markProcessed(tx: Executor, eventId: string, topic: string, now: Date): Promise<boolean> {
    const rows = await tx
      .insert(processedEvents)
      .values({ eventId, topic, processedAt: now })
      .onConflictDoNothing()
      .returning({ eventId: processedEvents.eventId });
    return rows.length > 0;
  }

  /**
   * Forgets applied event ids older than `before`: a redelivery comes within the topics' retention, so ids
   * kept longer than that only take space. Returns how many were deleted.
   */
  async forgetProcessedBefore(db: Executor, before: Date): Promise<number> {
    const rows = await db
      .delete(processedEvents)
      .where(lt(processedEvents.processedAt, before))
      .returning({ eventId: processedEvents.eventId });
    return rows.length;
  }

  /** Remembers that the account is gone, whatever arrives for it later. */
  async markDeleted(tx: Executor, userId: string, at: Date): Promise<void> {
    await tx.insert(deletedAccounts).values({ userId, deletedAt: at }).onConflictDoNothing();
  }

  async isDeleted(db: Executor, userId: string): Promise<boolean> {
    const rows = await db
      .select({ userId: deletedAccounts.userId })
      .from(deletedAccounts)
      .where(eq(deletedAccounts.userId, userId));
    return rows.length > 0;
  }

  /** Keeps a poison event; parking the same broker position twice (a redelivery) keeps one row. */
  async park(db: Executor, event: ParkedEvent, now: Date): Promise<void> {
    await db
      .insert(deadLetterEvents)
      .values({
        topic: event.topic,
        partition: event.origin.partition ?? null,
        offset: event.origin.offset ?? null,
        eventId: event.eventId ?? null,
        key: event.key ?? null,
        headers: event.headers,
        value: event.value,
        reason: event.reason,
        parkedAt: now,
      })
      .onConflictDoNothing();
  }
}
