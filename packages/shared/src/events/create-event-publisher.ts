import type { Logger } from "pino";
import type { EventPublisher } from "./event-publisher.ts";
import { KafkaEventPublisher } from "./kafka-event-publisher.ts";
import type { KafkaSecurity } from "./kafka-security.ts";
import { LogEventPublisher } from "./log-event-publisher.ts";

export interface EventPublisherConfig {
  /** From KAFKA_BROKERS; empty or unset means the embedded mode (events go to the log). */
  brokers?: string[] | undefined;
  /** TLS and SASL for the brokers (`kafkaSecurity`). */
  security?: KafkaSecurity;
  clientId: string;
  logger: Logger;
}

export function createEventPublisher(config: EventPublisherConfig): EventPublisher {
  if (config.brokers && config.brokers.length > 0) {
    return new KafkaEventPublisher({
      brokers: config.brokers,
      clientId: config.clientId,
      security: config.security,
    });
  }
  return new LogEventPublisher(config.logger);
}
