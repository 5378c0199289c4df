import { z } from "zod";
import type { OutboundEvent } from "./event-publisher.ts";

/** One event as a consumer receives it: the CloudEvents attributes and the parsed JSON `data`, as it was sent. */
export type InboundEvent = OutboundEvent;

/** Where an event came from, enough to find it again on the broker (absent for in-process delivery). */
export interface EventOrigin {
  partition?: number;
  offset?: string;
}

/** An event that can never be processed (bad schema, unknown version): parked, never retried. */
export class PoisonEventError extends Error {
  override name = "PoisonEventError";
}

/**
 * What a consumer delivers to. `handle` applies an event (idempotently: delivery is at least once) and throws
 * `PoisonEventError` for one it can never apply; any other error is transient and the same event comes again.
 * `park` keeps a poison event durably (a dead-letter table) before the consumer moves past it.
 */
export interface EventSink {
  handle(event: InboundEvent): Promise<void>;
  park(dead: ParkedEvent): Promise<void>;
}

/** A poison event as parked: what was received, raw, and why it could not be applied. */
export interface ParkedEvent {
  topic: string;
  origin: EventOrigin;
  /** The CloudEvents id, when the headers carried one. */
  eventId: string | undefined;
  key: string | undefined;
  headers: Record<string, string>;
  value: string;
  reason: string;
}

const attributes = z.object({
  ce_specversion: z.literal("1.0"),
  ce_id: z.string().min(1).max(200),
  ce_source: z.string().min(1).max(500),
  ce_type: z.string().min(1).max(200),
  ce_time: z.iso.datetime({ offset: true }),
});

/**
 * A Kafka record in CloudEvents binary mode to an `InboundEvent`, or a `PoisonEventError` saying why it is not
 * one (missing or malformed `ce_*` headers, a value that is not JSON).
 */
export function fromCloudEventRecord(record: {
  topic: string;
  key: string | undefined;
  headers: Record<string, string>;
  value: string;
}): InboundEvent {
  const parsed = attributes.safeParse(record.headers);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join(".")).join(", ");
    throw new PoisonEventError(`not a CloudEvent (headers: ${fields})`);
  }
  if (!record.key) throw new PoisonEventError("no key");
  let data: unknown;
  try {
    data = JSON.parse(record.value);
  } catch {
    throw new PoisonEventError("data is not JSON");
  }
  const ce = parsed.data;
  return {
    id: ce.ce_id,
    topic: record.topic,
    key: record.key,
    type: ce.ce_type,
    source: ce.ce_source,
    time: new Date(ce.ce_time),
    data,
  };
}
