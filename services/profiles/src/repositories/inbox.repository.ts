import type { Executor } from "@mimascota/shared/db/database";
import type { ParkedEvent } from "@mimascota/shared/events/inbound-event";
import { deadLetterEvents, processedEvents } from "../db/schema.ts";

/** The consumer's memory: events already applied (by CloudEvents id) and poison events parked. */
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
