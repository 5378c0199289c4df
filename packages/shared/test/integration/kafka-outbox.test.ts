import assert from "node:assert/strict";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { after, before, describe, it } from "node:test";
import { Admin, Consumer, MessagesStreamModes, stringDeserializers, type Message } from "@platformatic/kafka";
import { asc, inArray } from "drizzle-orm";
import { pino } from "pino";
import { openDatabase, type DatabaseHandle } from "../../src/db/database.ts";
import { migrateInfra } from "../../src/db/infra-migrations.ts";
import { outboxEvents } from "../../src/db/infra-schema.ts";
import { KafkaEventPublisher } from "../../src/events/kafka-event-publisher.ts";
import { enqueueEvent, eventType } from "../../src/events/outbox.ts";
import { OutboxRelay } from "../../src/events/outbox-relay.ts";
import { createTestDatabase, serviceUrls, skipUnless, uniquePrefix } from "../../src/testing/services.ts";

type Received = Message<string, string, string, string>;

const logger = pino({ level: "silent" });
const brokers = serviceUrls.kafka.split(",");
const topic = uniquePrefix("test.outbox").replaceAll("-", ".");

/** A port nothing listens on: bound once by us, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address && typeof address === "object");
  return address.port;
}

describe("outbox relay → real Kafka", { skip: await skipUnless("postgres", "kafka") }, () => {
  let testDb: { url: string; drop: () => Promise<void> };
  let handle: DatabaseHandle;
  let publisher: KafkaEventPublisher;
  let consumer: Consumer<string, string, string, string>;
  const received: Received[] = [];
  let arrived: () => void = () => {};

  async function receivedCount(n: number): Promise<Received[]> {
    const deadline = Date.now() + 20_000;
    while (received.length < n) {
      assert.ok(Date.now() < deadline, `expected ${n} messages on ${topic}, got ${received.length}`);
      await new Promise<void>((resolve) => {
        arrived = resolve;
        setTimeout(resolve, 250);
      });
    }
    return received.slice();
  }

  async function enqueue(name: string, rollback = false): Promise<string> {
    let id = "";
    const work = handle.db.transaction(async (tx) => {
      id = await enqueueEvent(tx, "/auth", {
        topic,
        key: `user-${name}`,
        data: { userId: `user-${name}`, email: `${name}@example.test` },
        occurredAt: new Date("2026-03-04T05:06:07.089Z"),
      });
      if (rollback) throw new Error("rolled back on purpose");
    });
    if (rollback) await assert.rejects(work, /rolled back on purpose/);
    else await work;
    return id;
  }

  before(async () => {
    testDb = await createTestDatabase();
    handle = await openDatabase({ url: testDb.url, dataDir: tmpdir() });
    await migrateInfra(handle);
    const admin = new Admin({ clientId: "mimascota-test-admin", bootstrapBrokers: brokers });
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
    await admin.close();
    publisher = new KafkaEventPublisher({ brokers, clientId: "mimascota-test-relay" });
    consumer = new Consumer({
      groupId: uniquePrefix("test-outbox-reader"),
      clientId: "mimascota-test-reader",
      bootstrapBrokers: brokers,
      deserializers: stringDeserializers,
    });
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      maxWaitTime: 200,
    });
    stream.on("data", (message: Received) => {
      received.push(message);
      arrived();
    });
  });

  after(async () => {
    await consumer?.close(true);
    await publisher?.close();
    await handle?.close();
    await testDb?.drop();
  });

  it("publishes an event committed in a transaction as a CloudEvent a real consumer reads back", async () => {
    const relay = new OutboxRelay({ db: handle.db, publisher, logger, pollIntervalMs: 60_000 });
    relay.start();
    const id = await enqueue("ana");
    relay.poke();
    const [message] = await receivedCount(1);
    await relay.stop();

    assert.ok(message);
    assert.equal(message.topic, topic);
    assert.equal(message.key, "user-ana");
    assert.deepEqual(JSON.parse(message.value), { userId: "user-ana", email: "ana@example.test" });
    assert.deepEqual(Object.fromEntries(message.headers), {
      ce_specversion: "1.0",
      ce_id: id,
      ce_source: "/auth",
      ce_type: eventType(topic),
      ce_time: "2026-03-04T05:06:07.089Z",
      ce_subject: "user-ana",
      "content-type": "application/json",
    });
    const [row] = await handle.db
      .select()
      .from(outboxEvents)
      .where(inArray(outboxEvents.id, [id]));
    assert.ok(row?.publishedAt, "the row is marked published");
  });

  it("never publishes an event enqueued in a rolled-back transaction", async () => {
    const seen = received.length;
    const rolledBack = await enqueue("ghost", true);
    const marker = await enqueue("marker");
    const relay = new OutboxRelay({ db: handle.db, publisher, logger });
    assert.equal((await relay.publishBatch()).published, 1);

    const messages = (await receivedCount(seen + 1)).slice(seen);
    assert.deepEqual(
      messages.map((m) => m.headers.get("ce_id")),
      [marker],
    );
    assert.ok(!received.some((m) => m.headers.get("ce_id") === rolledBack));
    assert.equal((await relay.stats()).pending, 0);
  });

  it("keeps events pending while the broker is unreachable, then publishes them in order once it is reachable", async () => {
    const seen = received.length;
    const ids = [await enqueue("bea"), await enqueue("carla"), await enqueue("bea")];
    const unreachable = new KafkaEventPublisher({
      brokers: [`127.0.0.1:${await closedPort()}`],
      clientId: "mimascota-test-unreachable",
      timeoutMs: 500,
      retries: 2,
      retryDelayMs: 50,
    });
    try {
      await publisher.ping(); // the readiness check: the real broker answers
      await assert.rejects(unreachable.ping(), "and an unreachable one fails it");
      const failing = new OutboxRelay({ db: handle.db, publisher: unreachable, logger });
      const result = await failing.publishBatch();
      assert.equal(result.failed, 3);
      assert.equal(result.published, 0);
    } finally {
      await unreachable.close();
    }
    const pending = await handle.db
      .select()
      .from(outboxEvents)
      .where(inArray(outboxEvents.id, ids))
      .orderBy(asc(outboxEvents.createdAt), asc(outboxEvents.id));
    assert.deepEqual(
      pending.map((r) => [r.publishedAt, r.attempts]),
      [
        [null, 1],
        [null, 1],
        [null, 1],
      ],
    );
    assert.ok(pending.every((r) => r.lastError && r.lastError.length > 0));

    const relay = new OutboxRelay({ db: handle.db, publisher, logger });
    assert.equal((await relay.publishBatch()).published, 3);
    const messages = (await receivedCount(seen + 3)).slice(seen);
    assert.deepEqual(
      messages.map((m) => m.headers.get("ce_id")),
      ids,
    );
    assert.deepEqual((await relay.stats()).pending, 0);
  });
});
