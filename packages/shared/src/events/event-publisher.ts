/** One outbox row as it goes on the wire: CloudEvents 1.0 in Kafka binary mode (attributes as `ce_*` headers). */
export interface OutboundEvent {
  id: string;
  topic: string;
  key: string;
  type: string;
  source: string;
  time: Date;
  data: unknown;
}

/** Kafka in production; in embedded mode the log, and subscribers in the same process. `publish` resolves only once every event is acknowledged. */
export interface EventPublisher {
  readonly kind: "kafka" | "log" | "in-process";
  publish(events: OutboundEvent[]): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
