import { setTimeout as sleep } from "node:timers/promises";
import { Consumer, stringDeserializers, type Message } from "@platformatic/kafka";
import type { Logger } from "pino";
import { backoffDelayMs, type Backoff } from "../background-loop.ts";
import {
  fromCloudEventRecord,
  PoisonEventError,
  type EventSink,
  type InboundEvent,
  type ParkedEvent,
} from "./inbound-event.ts";
import type { KafkaSecurity } from "./kafka-security.ts";

export interface KafkaEventConsumerOptions {
  brokers: string[];
  clientId: string;
  groupId: string;
  topics: string[];
  sink: EventSink;
  logger: Logger;
  security?: KafkaSecurity;
  /** Wait before retrying a transient failure or reconnecting (default 200 ms doubling to 10 s, jittered). */
  backoff?: Backoff;
  /** How often the group's lag is read for the metrics (ms). */
  lagIntervalMs?: number;
  /**
   * Where a group with no committed offsets begins: `earliest` (default: a new service builds its state from
   * the whole retained history) or `latest` (tests that share a broker's topics with other suites).
   */
  newGroupStartsAt?: "earliest" | "latest";
  /** Group session timeout (ms): how soon a dead member's partitions move to another. */
  sessionTimeoutMs?: number;
}

type StringMessage = Message<string, string, string, string>;

export interface ConsumerStats {
  applied: number;
  parked: number;
  /** Deliveries that failed for a transient reason and were retried. */
  retried: number;
}

/**
 * A Kafka consumer group member that delivers each event to a sink, one at a time, in partition order (the
 * key is the user id, so one user's events are applied in the order they happened).
 *
 * The offset is committed only after the sink has applied the event (its database transaction committed) or
 * parked it, so a crash in between redelivers it: at least once, which the sink's idempotency by event id
 * makes exactly-once in effect. A poison event (not a CloudEvent, or one the sink refuses as such) is parked
 * and passed, never blocking its partition; any other failure (the database down) retries the same event
 * with a growing backoff until it succeeds or the consumer stops, so nothing is skipped.
 *
 * The broker may be down at start or go away later: the member reconnects with the same backoff, and the
 * service keeps answering meanwhile (its readiness reports the consumer as degraded).
 */
export class KafkaEventConsumer {
  readonly #options: KafkaEventConsumerOptions;
  readonly #stop = new AbortController();
  readonly #stats: ConsumerStats = { applied: 0, parked: 0, retried: 0 };
  #consumer: Consumer<string, string, string, string> | undefined;
  #running: Promise<void> | undefined;
  #connected = false;
  #lag = new Map<string, number[]>();

  constructor(options: KafkaEventConsumerOptions) {
    this.#options = options;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** Leaves the group and waits for the event in hand; its offset stays uncommitted unless it was applied. */
  async stop(): Promise<void> {
    this.#stop.abort();
    const consumer = this.#consumer;
    await consumer?.close(true).catch(() => {});
    await this.#running;
  }

  stats(): ConsumerStats {
    return { ...this.#stats };
  }

  /** Messages behind the group's position, by topic and partition, as last read (empty until then). */
  lag(): ReadonlyMap<string, readonly number[]> {
    return this.#lag;
  }

  /** Readiness: a member of the group with an open stream. */
  async ping(): Promise<void> {
    if (!this.#connected) throw new Error("not consuming");
  }

  async #run(): Promise<void> {
    const { logger } = this.#options;
    let attempt = 0;
    while (!this.#stop.signal.aborted) {
      const consumer = this.#createConsumer();
      this.#consumer = consumer;
      try {
        const stream = await consumer.consume({
          topics: this.#options.topics,
          mode: "committed",
          fallbackMode: this.#options.newGroupStartsAt ?? "earliest",
          autocommit: false,
          sessionTimeout: this.#options.sessionTimeoutMs ?? 10_000,
          heartbeatInterval: 1_000,
        });
        this.#connected = true;
        attempt = 0;
        this.#watchLag(consumer);
        logger.info({ topics: this.#options.topics, group: this.#options.groupId }, "consuming events");
        for await (const message of stream as AsyncIterable<StringMessage>) {
          if (!(await this.#deliver(message))) break;
          await message.commit();
        }
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        logger.warn({ err: error }, "event consumer disconnected; reconnecting");
      } finally {
        this.#connected = false;
        consumer.stopLagMonitoring();
        await consumer.close(true).catch(() => {});
      }
      if (!(await this.#pause(attempt++))) break;
    }
  }

  /** Applies or parks one message; false when the consumer stopped before it could (not to be committed). */
  async #deliver(message: StringMessage): Promise<boolean> {
    const { sink, logger } = this.#options;
    const headers = Object.fromEntries(message.headers);
    const record = {
      topic: message.topic,
      key: message.key || undefined,
      headers,
      value: message.value ?? "",
    };
    for (let attempt = 0; !this.#stop.signal.aborted; attempt++) {
      try {
        let event: InboundEvent;
        try {
          event = fromCloudEventRecord(record);
          await sink.handle(event);
          this.#stats.applied++;
          return true;
        } catch (error) {
          if (!(error instanceof PoisonEventError)) throw error;
          const parked: ParkedEvent = {
            ...record,
            origin: { partition: message.partition, offset: message.offset.toString() },
            eventId: headers.ce_id,
            reason: error.message,
          };
          await sink.park(parked);
          this.#stats.parked++;
          logger.warn(
            {
              topic: message.topic,
              partition: message.partition,
              offset: String(message.offset),
              reason: error.message,
            },
            "poison event parked",
          );
          return true;
        }
      } catch (error) {
        this.#stats.retried++;
        logger.warn(
          { err: error, topic: message.topic, partition: message.partition, offset: String(message.offset) },
          "event not applied; retrying",
        );
        if (!(await this.#pause(attempt))) return false;
      }
    }
    return false;
  }

  /** Sleeps the backoff for `attempt`; false when the consumer stopped meanwhile. */
  async #pause(attempt: number): Promise<boolean> {
    const backoff = this.#options.backoff ?? { baseMs: 200, maxMs: 10_000, jitter: 0.5 };
    try {
      await sleep(backoffDelayMs(attempt + 1, backoff), undefined, { signal: this.#stop.signal });
      return true;
    } catch {
      return false;
    }
  }

  #watchLag(consumer: Consumer<string, string, string, string>): void {
    consumer.on("consumer:lag", (offsets: Map<string, bigint[]>) => {
      this.#lag = new Map([...offsets].map(([topic, lags]) => [topic, lags.map((lag) => Number(lag))]));
    });
    consumer.on("consumer:lag:error", () => {});
    consumer.startLagMonitoring({ topics: this.#options.topics }, this.#options.lagIntervalMs ?? 5_000);
  }

  #createConsumer(): Consumer<string, string, string, string> {
    return new Consumer({
      clientId: this.#options.clientId,
      groupId: this.#options.groupId,
      bootstrapBrokers: this.#options.brokers,
      deserializers: stringDeserializers,
      timeout: 5_000,
      connectTimeout: 5_000,
      retries: 1,
      // A consumer may start before anything was ever published to its topics: asks the broker to create them
      // (one configured without auto-creation refuses, and the member retries with its backoff).
      autocreateTopics: true,
      ...this.#options.security,
    });
  }
}
