import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { ProduceAcks, Producer, stringSerializers } from "@platformatic/kafka";
import { eq, inArray } from "drizzle-orm";
import { pino } from "pino";
import type { InboundEvent } from "@mimascota/shared/events/inbound-event";
import { KafkaEventConsumer } from "@mimascota/shared/events/kafka-event-consumer";
import { KafkaEventPublisher } from "@mimascota/shared/events/kafka-event-publisher";
import { serviceUrls, skipUnless, uniquePrefix } from "@mimascota/shared/testing/services";
import { deadLetterEvents, processedEvents, profiles } from "../../src/db/schema.ts";
import { CONSUMED_TOPICS } from "../../src/events/account-events.ts";
import {
  createProfileTestContext,
  deletedEvent,
  registeredEvent,
  type ProfileTestContext,
} from "../support/test-profiles.ts";

const brokers = serviceUrls.kafka.split(",");
const logger = pino({ level: "silent" });

/** The profile service's consumer group against the real broker: at least once, idempotent, ordered, never stuck. */
describe("account events from the real Kafka broker", { skip: await skipUnless("postgres", "kafka") }, () => {
  let ctx: ProfileTestContext;
  let publisher: KafkaEventPublisher;
  let raw: Producer<string, string, string, string>;
  const group = uniquePrefix("profiles-test");

  const consumer = () =>
    new KafkaEventConsumer({
      brokers,
      clientId: "profiles-test",
      groupId: group,
      topics: [...CONSUMED_TOPICS],
      sink: ctx.events,
      logger,
      // Other suites publish to these topics on the same broker: this group starts at the end of them.
      newGroupStartsAt: "latest",
      backoff: { baseMs: 50, maxMs: 500, jitter: 0.5 },
    });

  async function consuming(member: KafkaEventConsumer): Promise<void> {
    member.start();
    for (let i = 0; i < 200; i++) {
      if (
        await member.ping().then(
          () => true,
          () => false,
        )
      )
        return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail("the consumer did not join its group within 20 s");
  }

  const publish = (...events: InboundEvent[]) =>
    publisher.publish(events.map((e) => ({ ...e, time: e.time })));

  async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const value = await read();
      if (ok(value)) return value;
      assert.ok(Date.now() < deadline, `${what}: last seen ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const profileOf = (userId: string) =>
    ctx.database.db
      .select()
      .from(profiles)
      .where(eq(profiles.userId, userId))
      .then((rows) => rows);
  const processed = (ids: string[]) =>
    ctx.database.db.select().from(processedEvents).where(inArray(processedEvents.eventId, ids));

  before(async () => {
    ctx = await createProfileTestContext({ database: "postgres" });
    publisher = new KafkaEventPublisher({ brokers, clientId: "profiles-test-producer" });
    raw = new Producer({
      clientId: "profiles-test-raw",
      bootstrapBrokers: brokers,
      serializers: stringSerializers,
      acks: ProduceAcks.ALL,
      autocreateTopics: true,
    });
  });
  after(async () => {
    await publisher?.close();
    await raw?.close();
    await ctx?.close();
  });

  test("a registration makes a profile; the same event twice makes one; one user's events apply in order", async () => {
    const member = consumer();
    await consuming(member);
    try {
      const alice = randomUUID();
      const twice = registeredEvent(alice);
      await publish(twice);
      await publish(twice);
      const bob = randomUUID();
      const bobRegistered = registeredEvent(bob);
      const bobDeleted = deletedEvent(bob);
      // In one batch, same key: if they were applied out of order, Bob's profile would be left behind.
      await publish(bobRegistered, bobDeleted);
      await eventually(
        () => processed([twice.id, bobRegistered.id, bobDeleted.id]),
        (rows) => rows.length === 3,
        "all applied",
      );
      await eventually(
        () => Promise.resolve(member.stats().applied),
        (n) => n >= 4,
        "the duplicate delivered too",
      );
      assert.equal((await profileOf(alice)).length, 1);
      assert.equal((await profileOf(bob)).length, 0, "registered, then deleted: in that order");
      const metrics = (await ctx.app.inject({ method: "GET", url: "/metrics" })).body;
      assert.match(metrics, /profiles_events_total\{result="duplicate"\} [1-9]/);
    } finally {
      await member.stop();
    }
  });

  test("a poison event is parked and counted, and the next event on the partition is applied", async () => {
    const member = consumer();
    await consuming(member);
    try {
      const victim = randomUUID();
      // Not a CloudEvent at all (no ce_* headers), then a CloudEvent whose data breaks the schema.
      await raw.send({
        messages: [
          { topic: "user.registered.v1", key: victim, value: "{not json", headers: { "x-junk": "1" } },
        ],
      });
      const bad = { ...registeredEvent(victim), data: { userId: victim, email: 42 } };
      const good = registeredEvent(victim);
      await publish(bad, good);
      await eventually(
        () => profileOf(victim),
        (rows) => rows.length === 1,
        "the good event after the poison",
      );
      const parked = await ctx.database.db
        .select()
        .from(deadLetterEvents)
        .where(eq(deadLetterEvents.key, victim));
      assert.equal(parked.length, 2);
      assert.ok(parked.every((row) => row.partition !== null && row.offset !== null));
      assert.ok(parked.some((row) => /not a CloudEvent/.test(row.reason)));
      assert.ok(parked.some((row) => row.eventId === bad.id && /data does not match/.test(row.reason)));
      assert.equal(member.stats().parked, 2);
    } finally {
      await member.stop();
    }
  });

  test("a consumer stopped while events are published catches up after restart, nothing lost", async () => {
    const first = consumer();
    await consuming(first);
    const warmup = registeredEvent(randomUUID());
    await publish(warmup);
    await eventually(
      () => processed([warmup.id]),
      (rows) => rows.length === 1,
      "warm-up applied and committed",
    );
    await first.stop();
    const users = Array.from({ length: 5 }, () => randomUUID());
    const events = users.map((user) => registeredEvent(user));
    await publish(...events);
    const second = consumer();
    await consuming(second);
    try {
      await eventually(
        () => processed(events.map((e) => e.id)),
        (rows) => rows.length === events.length,
        "caught up",
      );
      for (const user of users) assert.equal((await profileOf(user)).length, 1);
    } finally {
      await second.stop();
    }
  });

  test("the consumer's lag is exported", async () => {
    const member = consumer();
    await consuming(member);
    try {
      await eventually(
        () => Promise.resolve(member.lag().size),
        (n) => n > 0,
        "a lag reading",
      );
      assert.ok(
        [...member.lag().keys()].every((topic) => (CONSUMED_TOPICS as readonly string[]).includes(topic)),
      );
    } finally {
      await member.stop();
    }
  });
});
