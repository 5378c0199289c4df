import type { Logger } from "pino";
import type { EventPublisher, OutboundEvent } from "./event-publisher.ts";

/**
 * The embedded mode's "broker": each event becomes one structured log line, so a developer sees what would have
 * gone to Kafka. Event data is secret-free by contract (see `enqueueEvent`) but holds personal data (an email,
 * a registration's profile fields), which never goes to a log: the line names the data's fields, not their
 * values.
 */
export class LogEventPublisher implements EventPublisher {
  readonly kind = "log" as const;
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger.child({ component: "events" });
  }

  async publish(events: OutboundEvent[]): Promise<void> {
    for (const event of events) {
      this.#logger.info(
        {
          event: {
            id: event.id,
            topic: event.topic,
            key: event.key,
            type: event.type,
            source: event.source,
            time: event.time.toISOString(),
            fields: event.data !== null && typeof event.data === "object" ? Object.keys(event.data) : [],
          },
        },
        "event published",
      );
    }
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
