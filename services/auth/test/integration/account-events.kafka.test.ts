import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Admin, Consumer, MessagesStreamModes, stringDeserializers, type Message } from "@platformatic/kafka";
import { createLogger } from "@mimascota/shared/logger";
import { KafkaEventPublisher } from "@mimascota/shared/events/kafka-event-publisher";
import { OutboxRelay } from "@mimascota/shared/events/outbox-relay";
import { serviceUrls, skipUnless, uniquePrefix } from "@mimascota/shared/testing/services";
import { hashToken } from "../../src/crypto/opaque-token.ts";
import { post, register, STRONG_PASSWORD, tokenFromMail, userRow } from "../support/account-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

type Received = Message<string, string, string, string>;
const brokers = serviceUrls.kafka.split(",");
const TOPICS = ["user.registered.v1", "user.verified.v1"];

/**
 * The account events as a downstream service sees them: committed with the change, relayed from the outbox,
 * read back from the real broker as CloudEvents in binary mode, with no secret in them.
 */
describe("account events on Kafka", { skip: await skipUnless("postgres", "kafka") }, () => {
  let ctx: AuthTestContext;
  let publisher: KafkaEventPublisher;
  let consumer: Consumer<string, string, string, string>;
  const received: Received[] = [];

  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
    const admin = new Admin({ clientId: "mimascota-test-admin", bootstrapBrokers: brokers });
    try {
      // Other suites may have created them already; that is fine.
      await admin.createTopics({ topics: TOPICS, partitions: 1, replicas: 1 }).catch(() => undefined);
    } finally {
      await admin.close();
    }
    publisher = new KafkaEventPublisher({ brokers, clientId: "mimascota-test-accounts" });
    consumer = new Consumer({
      groupId: uniquePrefix("test-account-events"),
      clientId: "mimascota-test-account-reader",
      bootstrapBrokers: brokers,
      deserializers: stringDeserializers,
    });
    const stream = await consumer.consume({
      topics: TOPICS,
      mode: MessagesStreamModes.EARLIEST,
      maxWaitTime: 200,
    });
    stream.on("data", (message: Received) => received.push(message));
  });
  after(async () => {
    await consumer?.close(true);
    await publisher?.close();
    await ctx?.close();
  });

  async function messageFor(topic: string, key: string): Promise<Received> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = received.find((m) => m.topic === topic && m.key === key);
      if (found) return found;
      assert.ok(Date.now() < deadline, `no ${topic} message for ${key}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it("publishes user.registered.v1 and user.verified.v1 as CloudEvents keyed by user id, without secrets", async () => {
    const email = `${uniquePrefix("kafka")}@example.com`;
    await register(ctx, email);
    const token = await tokenFromMail(ctx, email, "verify-email");
    assert.equal((await post(ctx, "verify-email", { token })).statusCode, 200);
    const user = await userRow(ctx, email);

    const relay = new OutboxRelay({
      db: ctx.database.db,
      publisher,
      logger: createLogger("test-relay", "silent"),
    });
    assert.equal((await relay.publishBatch()).failed, 0);

    const outbox = await ctx.events();
    for (const topic of TOPICS) {
      const message = await messageFor(topic, user.id);
      const row = outbox.find((e) => e.topic === topic && e.key === user.id);
      assert.ok(row);
      assert.deepEqual(Object.fromEntries(message.headers), {
        ce_specversion: "1.0",
        ce_id: row.id,
        ce_source: "/auth",
        ce_type: `app.mimascota.${topic}`,
        ce_time: row.occurredAt.toISOString(),
        ce_subject: user.id,
        "content-type": "application/json",
      });
      const data = JSON.parse(message.value) as Record<string, unknown>;
      assert.equal(data.userId, user.id);
      assert.equal(data.email, email);
      for (const secret of [STRONG_PASSWORD, user.passwordHash, token, hashToken(token)]) {
        assert.ok(!message.value.includes(secret), `${topic} carries no secret`);
      }
    }
  });
});
