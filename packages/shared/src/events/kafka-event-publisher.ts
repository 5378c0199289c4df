import { ProduceAcks, Producer, stringSerializers, type MessageToProduce } from "@platformatic/kafka";
import type { EventPublisher, OutboundEvent } from "./event-publisher.ts";

export interface KafkaEventPublisherOptions {
  /** `host:port` bootstrap brokers. */
  brokers: string[];
  clientId: string;
  /** Per-request timeout and connect timeout, ms. */
  timeoutMs?: number;
  /**
   * Client-level retries of one send. Kept small and finite: the outbox relay retries with its own backoff,
   * and an idempotent producer left to its default would retry forever, hanging the relay while Kafka is down.
   */
  retries?: number;
  retryDelayMs?: number;
}

type KafkaMessage = MessageToProduce<string, string, string, string>;

/**
 * CloudEvents 1.0 in Kafka binary content mode: the value is the JSON `data`, every other attribute is a
 * `ce_*` header, and the key is the user id so one user's events stay ordered within a partition.
 */
export function toKafkaMessage(event: OutboundEvent): KafkaMessage {
  return {
    topic: event.topic,
    key: event.key,
    value: JSON.stringify(event.data),
    headers: {
      ce_specversion: "1.0",
      ce_id: event.id,
      ce_source: event.source,
      ce_type: event.type,
      ce_time: event.time.toISOString(),
      ce_subject: event.key,
      "content-type": "application/json",
    },
  };
}

/** Publishes to Kafka with acks=all through an idempotent producer; `publish` resolves once the broker acked. */
export class KafkaEventPublisher implements EventPublisher {
  readonly kind = "kafka" as const;
  readonly #producer: Producer<string, string, string, string>;

  constructor(options: KafkaEventPublisherOptions) {
    const timeout = options.timeoutMs ?? 5_000;
    this.#producer = new Producer({
      clientId: options.clientId,
      bootstrapBrokers: options.brokers,
      serializers: stringSerializers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      // Values above 1: the library turns 0 or 1 into "forever" for idempotent producers.
      retries: Math.max(2, options.retries ?? 3),
      retryDelay: options.retryDelayMs ?? 500,
      timeout,
      connectTimeout: timeout,
      // Asks the broker to create a missing topic; a broker configured without auto-creation still refuses,
      // and the relay then keeps the event and records the error.
      autocreateTopics: true,
    });
  }

  async publish(events: OutboundEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.#producer.send({ messages: events.map(toKafkaMessage) });
  }

  /** Readiness: the cluster answers a metadata request. */
  async ping(): Promise<void> {
    await this.#producer.metadata({ topics: [], forceUpdate: true });
  }

  async close(): Promise<void> {
    await this.#producer.close();
  }
}
