import { ProduceAcks, Producer, stringSerializers, type MessageToProduce } from "@platformatic/kafka";
import type { EventPublisher, OutboundEvent } from "./event-publisher.ts";
import type { KafkaSecurity } from "./kafka-security.ts";
import { withDeadline } from "../deadline.ts";

export interface KafkaEventPublisherOptions {
  /** `host:port` bootstrap brokers. */
  brokers: string[];
  clientId: string;
  /** Per-request timeout and connect timeout, ms (default 2 000). */
  timeoutMs?: number;
  /**
   * Client-level retries of one send. Kept small and finite: the outbox relay retries with its own backoff,
   * and an idempotent producer left to its default would retry forever, hanging the relay while Kafka is down.
   * The defaults bound one failing publish to 7 s, inside the services' 10 s graceful-shutdown budget.
   */
  retries?: number;
  retryDelayMs?: number;
  /** TLS and SASL (`kafkaSecurity`); a plaintext, unauthenticated connection without them. */
  security?: KafkaSecurity;
}

type KafkaMessage = MessageToProduce<string, string, string, string>;
type KafkaProducer = Producer<string, string, string, string>;

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

class KafkaDeadlineError extends Error {}

/**
 * Publishes to Kafka with acks=all through an idempotent producer; `publish` resolves once the broker acked.
 * Every call also has a deadline of its own: the client was seen to wait forever on a peer that accepts the
 * connection but never answers (its request timeout did not apply to the version handshake), which would
 * stall the relay and graceful shutdown. A producer that misses a deadline is force-closed and replaced.
 */
export class KafkaEventPublisher implements EventPublisher {
  readonly kind = "kafka" as const;
  readonly #options: KafkaEventPublisherOptions;
  readonly #timeoutMs: number;
  readonly #deadlineMs: number;
  #producer: KafkaProducer;

  constructor(options: KafkaEventPublisherOptions) {
    this.#options = options;
    this.#timeoutMs = options.timeoutMs ?? 2_000;
    const retries = Math.max(2, options.retries ?? 2);
    this.#deadlineMs = (retries + 1) * this.#timeoutMs + retries * (options.retryDelayMs ?? 250) + 500;
    this.#producer = this.#createProducer();
  }

  #createProducer(): KafkaProducer {
    return new Producer({
      clientId: this.#options.clientId,
      bootstrapBrokers: this.#options.brokers,
      serializers: stringSerializers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      // Values above 1: the library turns 0 or 1 into "forever" for idempotent producers.
      retries: Math.max(2, this.#options.retries ?? 2),
      retryDelay: this.#options.retryDelayMs ?? 250,
      timeout: this.#timeoutMs,
      connectTimeout: this.#timeoutMs,
      // Asks the broker to create a missing topic; a broker configured without auto-creation still refuses,
      // and the relay then keeps the event and records the error.
      autocreateTopics: true,
      ...this.#options.security,
    });
  }

  async publish(events: OutboundEvent[]): Promise<void> {
    if (events.length === 0) return;
    const producer = this.#producer;
    await this.#withDeadline(
      producer,
      producer.send({ messages: events.map(toKafkaMessage) }),
      this.#deadlineMs,
    );
  }

  /** Readiness: the cluster answers a metadata request. */
  async ping(): Promise<void> {
    const producer = this.#producer;
    await this.#withDeadline(
      producer,
      producer.metadata({ topics: [], forceUpdate: true }),
      2 * this.#timeoutMs,
    );
  }

  async close(): Promise<void> {
    await this.#producer.close(true);
  }

  async #withDeadline<T>(producer: KafkaProducer, work: Promise<T>, ms: number): Promise<T> {
    try {
      return await withDeadline(work, ms, () => {
        throw new KafkaDeadlineError(`Kafka did not answer within ${ms} ms`);
      });
    } catch (error) {
      if (error instanceof KafkaDeadlineError && this.#producer === producer) {
        this.#producer = this.#createProducer();
        // Force-closing fails the stuck request, which the race above has already abandoned.
        producer.close(true).catch(() => {});
      }
      throw error;
    }
  }
}
