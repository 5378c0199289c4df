import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { pino, type Logger } from "pino";
import { createEventPublisher } from "../../src/events/create-event-publisher.ts";
import type { OutboundEvent } from "../../src/events/event-publisher.ts";
import { KafkaEventPublisher, toKafkaMessage } from "../../src/events/kafka-event-publisher.ts";
import { LogEventPublisher } from "../../src/events/log-event-publisher.ts";
import { loggerOptions } from "../../src/logger.ts";

const event: OutboundEvent = {
  id: "0190f0d8-5b6e-7a00-8f00-0123456789ab",
  topic: "user.registered.v1",
  key: "b3f1c2a4-0000-4000-8000-000000000001",
  type: "app.mimascota.user.registered.v1",
  source: "/auth",
  time: new Date("2026-05-06T07:08:09.010Z"),
  data: { userId: "b3f1c2a4-0000-4000-8000-000000000001", locale: "es" },
};

function capturingLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = pino(loggerOptions("test", "info"), sink);
  return {
    logger,
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe("CloudEvents binary mode for Kafka", () => {
  it("puts the JSON data in the value, the user id in the key, and every attribute in a ce_* header", () => {
    const message = toKafkaMessage(event);
    assert.equal(message.topic, "user.registered.v1");
    assert.equal(message.key, event.key);
    assert.deepEqual(JSON.parse(message.value ?? ""), event.data);
    assert.deepEqual(message.headers, {
      ce_specversion: "1.0",
      ce_id: event.id,
      ce_source: "/auth",
      ce_type: "app.mimascota.user.registered.v1",
      ce_time: "2026-05-06T07:08:09.010Z",
      ce_subject: event.key,
      "content-type": "application/json",
    });
  });
});

describe("log event publisher (embedded mode)", () => {
  it("writes each event as one structured log line naming the data's fields, never their values", async () => {
    const { logger, lines } = capturingLogger();
    const publisher = new LogEventPublisher(logger);
    const personal = { email: "ana@example.com", profile: { document: "DOC-4242-XY" } };
    await publisher.publish([event, { ...event, id: "second", data: personal }]);
    const logged = lines();
    assert.equal(logged.length, 2);
    const { data, ...attributes } = event;
    assert.deepEqual(logged[0]?.event, {
      ...attributes,
      time: "2026-05-06T07:08:09.010Z",
      fields: Object.keys(data as object),
    });
    assert.equal(logged[0]?.msg, "event published");
    assert.deepEqual((logged[1]?.event as { fields: unknown }).fields, ["email", "profile"]);
    assert.ok(!JSON.stringify(logged).includes("ana@example.com"));
    assert.ok(!JSON.stringify(logged).includes("DOC-4242-XY"));
  });
});

describe("createEventPublisher", () => {
  it("uses Kafka when brokers are configured and the log otherwise", async () => {
    const { logger } = capturingLogger();
    const kafka = createEventPublisher({ brokers: ["127.0.0.1:9092"], clientId: "test", logger });
    assert.ok(kafka instanceof KafkaEventPublisher);
    await kafka.close();
    assert.equal(createEventPublisher({ brokers: [], clientId: "test", logger }).kind, "log");
    assert.equal(createEventPublisher({ brokers: undefined, clientId: "test", logger }).kind, "log");
  });
});
