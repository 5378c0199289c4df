import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { openDatabase } from "@mimascota/shared/db/database";
import { KafkaEventPublisher } from "@mimascota/shared/events/kafka-event-publisher";
import {
  createTestDatabase,
  serviceUrls,
  skipUnless,
  uniquePrefix,
} from "@mimascota/shared/testing/services";
import { migrateProfiles } from "../../services/profiles/src/db/migrations.ts";
import { registeredEvent } from "../../services/profiles/test/support/test-profiles.ts";
import { ServiceProcess } from "./support/auth-service.ts";
import { freePort, until } from "./support/processes.ts";

/**
 * The profile service's consumer killed (SIGKILL) while account events are published: after a restart it
 * catches up from its committed position, and every event is applied exactly once (none lost, none twice).
 */
describe(
  "profile service killed while events are published",
  { skip: await skipUnless("postgres", "kafka") },
  () => {
    let database: { url: string; drop: () => Promise<void> } | undefined;
    let sql: pg.Client | undefined;
    let profiles: ServiceProcess | undefined;
    let publisher: KafkaEventPublisher | undefined;

    before(async () => {
      database = await createTestDatabase();
      const dataDir = mkdtempSync(join(tmpdir(), "mm-resilience-profiles-migrate-"));
      const handle = await openDatabase({ url: database.url, dataDir });
      await migrateProfiles(handle);
      await handle.close();
      rmSync(dataDir, { recursive: true, force: true });
      sql = new pg.Client({ connectionString: database.url });
      await sql.connect();
      profiles = new ServiceProcess("profiles", await freePort(), {
        DATABASE_URL: database.url,
        KAFKA_BROKERS: serviceUrls.kafka,
        KAFKA_CONSUMER_GROUP: uniquePrefix("profiles-crash"),
        // Other suites publish to these topics on the same broker: this group starts at their end.
        KAFKA_CONSUMER_START: "latest",
      });
      publisher = new KafkaEventPublisher({
        brokers: serviceUrls.kafka.split(","),
        clientId: "profiles-crash-test",
      });
    });
    after(async () => {
      await publisher?.close();
      await profiles?.close();
      await sql?.end();
      await database?.drop();
    });

    const consuming = () =>
      until(async () => {
        const ready = await fetch(`${profiles!.url}/ready`).catch(() => undefined);
        const body = (await ready?.json().catch(() => undefined)) as
          { checks?: Record<string, string> } | undefined;
        return body?.checks?.events === "ok";
      }, "the consumer joined its group");

    const applied = async (ids: string[]) =>
      Number(
        (
          await sql!.query<{ n: string }>(
            "select count(*) as n from processed_events where event_id = any($1)",
            [ids],
          )
        ).rows[0]!.n,
      );

    it("catches up after a crash with every event applied once", async () => {
      await profiles!.start();
      await consuming();
      const before = Array.from({ length: 20 }, () => registeredEvent(crypto.randomUUID()));
      await publisher!.publish(before);
      // Killed mid-stream: some events applied and committed, maybe one applied but not yet committed.
      await until(async () => (await applied(before.map((e) => e.id))) >= 3, "the first events applied");
      await profiles!.kill();
      const during = Array.from({ length: 20 }, () => registeredEvent(crypto.randomUUID()));
      await publisher!.publish(during);
      await profiles!.start();
      const all = [...before, ...during];
      await until(
        async () => (await applied(all.map((e) => e.id))) === all.length,
        "every event applied",
        60_000,
      );
      const users = all.map((e) => e.key);
      const rows = await sql!.query(
        "select user_id, count(*) as n from profiles where user_id = any($1) group by user_id",
        [users],
      );
      assert.equal(rows.rows.length, all.length, "one profile per registration");
      assert.ok(rows.rows.every((row: { n: string }) => Number(row.n) === 1));
    });
  },
);
