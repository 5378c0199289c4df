import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import {
  createTestDatabase,
  skipUnless,
  skipUnlessPrograms,
  uniquePrefix,
} from "@mimascota/shared/testing/services";
import { STRONG_PASSWORD } from "../../services/auth/test/support/account-helpers.ts";
import { register, registerAll } from "./support/account-client.ts";
import { migrateDatabase, startInProcessAuth, type InProcessAuth } from "./support/auth-service.ts";
import { PrivateKafka, kafkaBinaries } from "./support/private-kafka.ts";
import { until } from "./support/processes.ts";

const TOPIC = "user.registered.v1";
const REGISTRATIONS = 100;
const skip = (await skipUnless("postgres")) || (await skipUnlessPrograms(...kafkaBinaries));

/**
 * The transactional outbox under a broker crash: the auth service (composed as in production, its relay
 * pointed at a private broker) keeps accepting registrations while the broker is dead, and once it is back
 * every committed event reaches the topic, exactly the outbox's rows.
 */
describe("Kafka down while people register", { skip }, () => {
  const kafka = new PrivateKafka();
  let database: { url: string; drop: () => Promise<void> } | undefined;
  let auth: InProcessAuth | undefined;
  let sql: pg.Client | undefined;
  const prefix = uniquePrefix("kafka-outage");

  before(async () => {
    // The broker takes seconds to start; the database is prepared meanwhile.
    const [created] = await Promise.all([createTestDatabase(), kafka.start()]);
    database = created;
    await migrateDatabase(created.url);
    sql = new pg.Client({ connectionString: created.url });
    await sql.connect();
    auth = await startInProcessAuth({ DATABASE_URL: created.url, KAFKA_BROKERS: kafka.brokers.join(",") });
  });
  after(async () => {
    await auth?.close();
    await sql?.end();
    await kafka.close();
    await database?.drop();
  });

  const pendingEvents = async () => {
    const { rows } = await sql!.query<{ n: number }>(
      "select count(*)::int as n from outbox_events where published_at is null",
    );
    return rows[0]?.n ?? -1;
  };

  it("relays a registration's event while the broker is up", async () => {
    assert.equal((await register(auth!.url, `${prefix}-first@example.com`, STRONG_PASSWORD)).status, 202);
    await until(async () => (await pendingEvents()) === 0, "the first event is published", 30_000);
  });

  it("accepts every registration while the broker is killed, keeping the events in the outbox", async () => {
    await kafka.kill();
    const emails = Array.from({ length: REGISTRATIONS }, (_, i) => `${prefix}-${i}@example.com`);
    const statuses = await registerAll(auth!.url, emails, STRONG_PASSWORD, 8);
    assert.deepEqual(
      statuses.filter((status) => status !== 202),
      [],
      "every registration is accepted (202)",
    );
    assert.equal(await pendingEvents(), REGISTRATIONS, "nothing could be published");

    // The service outlives a broker outage by design, so it stays in rotation and reports itself degraded.
    const ready = await fetch(`${auth!.url}/ready`);
    assert.equal(ready.status, 200, "/ready keeps the service in rotation");
    const body = (await ready.json()) as { status: string; checks: Record<string, string> };
    assert.equal(body.status, "degraded");
    assert.equal(body.checks.kafka, "unavailable", "/ready reports the broker");
    assert.equal(body.checks.database, "ok");
  });

  it("publishes every outbox event, none lost and none twice, once the broker is back", async () => {
    await kafka.start();
    // The relay retries on its production backoff (doubling, capped at 30 s): no restart, no poke.
    await until(async () => (await pendingEvents()) === 0, "the relay has published the backlog", 90_000);

    const { rows } = await sql!.query<{ id: string }>("select id from outbox_events where topic = $1", [
      TOPIC,
    ]);
    const outboxIds = rows.map((row) => row.id).sort();
    assert.equal(outboxIds.length, REGISTRATIONS + 1);

    // Anything published twice would be right behind the rest: a second more of reading.
    const topicIds = (await kafka.eventIdsOn(TOPIC, outboxIds.length, { settleMs: 1_000 })).sort();
    assert.equal(topicIds.length, outboxIds.length, "as many messages on the topic as rows in the outbox");
    assert.deepEqual(topicIds, outboxIds, "the same event ids");
    const ready = (await (await fetch(`${auth!.url}/ready`)).json()) as { checks: Record<string, string> };
    assert.equal(ready.checks.kafka, "ok", "/ready reports the broker back, without a restart");
  });
});
