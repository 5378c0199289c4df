import type { Logger } from "pino";
import type { EventPublisher, OutboundEvent } from "./event-publisher.ts";
import { PoisonEventError, type EventSink } from "./inbound-event.ts";
import { LogEventPublisher } from "./log-event-publisher.ts";

/**
 * The embedded mode's broker when a consumer runs in the same process (`npm start`: the profile service
 * consumes the auth service's events). Each event is logged as the log publisher does, then handed to the
 * sinks subscribed to its topic, in order. `publish` resolves once every sink has applied (or parked) its
 * events; a transient failure rejects, so the outbox relay keeps the batch and delivers it again later: the
 * same at-least-once contract as Kafka, which the sinks' idempotency absorbs.
 */
export class InProcessEventBus implements EventPublisher {
  readonly kind = "in-process" as const;
  readonly #log: LogEventPublisher;
  readonly #subscribers = new Map<string, EventSink[]>();

  constructor(logger: Logger) {
    this.#log = new LogEventPublisher(logger);
  }

  subscribe(topics: readonly string[], sink: EventSink): void {
    for (const topic of topics) this.#subscribers.set(topic, [...(this.#subscribers.get(topic) ?? []), sink]);
  }

  async publish(events: OutboundEvent[]): Promise<void> {
    await this.#log.publish(events);
    for (const event of events) {
      for (const sink of this.#subscribers.get(event.topic) ?? []) {
        try {
          await sink.handle({ ...event, data: structuredClone(event.data) });
        } catch (error) {
          if (!(error instanceof PoisonEventError)) throw error;
          await sink.park({
            topic: event.topic,
            origin: {},
            eventId: event.id,
            key: event.key,
            headers: { ce_id: event.id, ce_type: event.type, ce_source: event.source },
            value: JSON.stringify(event.data),
            reason: error.message,
          });
        }
      }
    }
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
