import type { Executor } from "../db/database.ts";
import { outboxEvents } from "../db/infra-schema.ts";
import { recordEnqueued } from "../db/unit-of-work.ts";
import { timeOrderedId } from "./event-id.ts";

export interface DomainEvent {
  /** Kafka topic, e.g. `user.registered.v1`. */
  topic: string;
  /** Message key: the user id. */
  key: string;
  /** CloudEvents `data`. Never a secret, token or password hash. */
  data: Record<string, unknown>;
  occurredAt: Date;
}

/** CloudEvents `type` for a topic: the topic name under the product's reverse-DNS prefix. */
export function eventType(topic: string): string {
  return `app.mimascota.${topic}`;
}

/**
 * Writes the event in the caller's transaction: it is published if and only if the state change commits.
 * The relay publishes it later, at least once, in the order events were enqueued. The id is also the CloudEvents
 * `id` consumers de-duplicate on.
 */
export async function enqueueEvent(tx: Executor, source: string, event: DomainEvent): Promise<string> {
  const id = timeOrderedId();
  recordEnqueued(tx, "events");
  await tx.insert(outboxEvents).values({
    id,
    topic: event.topic,
    key: event.key,
    type: eventType(event.topic),
    source,
    data: event.data,
    occurredAt: event.occurredAt,
  });
  return id;
}
