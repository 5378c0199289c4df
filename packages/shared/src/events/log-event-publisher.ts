import type { Logger } from "pino";
import type { EventPublisher, OutboundEvent } from "./event-publisher.ts";

/**
 * The embedded mode's "broker": each event becomes one structured log line, so a developer sees what would have
 * gone to Kafka. Event data is secret-free by contract (see `enqueueEvent`), and the logger still redacts.
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
            data: event.data,
          },
        },
        "event published",
      );
    }
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
