import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { outboxEvents } from "../../src/db/infra-schema.ts";
import { preparedStatement } from "../../src/db/prepared-statement.ts";
import { INFRA_DATABASES, infraDatabase, skipUnlessDatabase } from "../support/infra-database.ts";

interface EventParams {
  id: string;
  topic: string;
  data: Record<string, unknown>;
  at: Date;
}

/** Inserts an outbox row (a table every database here has) and answers what was stored. */
const insertEvent = preparedStatement<EventParams, { id: string; topic: string; data: unknown }>(
  "test_insert_event",
  (p) => sql`insert into outbox_events (id, topic, key, source, type, data, occurred_at)
    values (${p.id}::uuid, ${p.topic}, 'k', 'test', ${p.topic}, ${sql.param(p.data, outboxEvents.data)}::jsonb,
      ${p.at}::timestamptz)
    returning id, topic, data`,
);
const countByTopic = preparedStatement<{ topic: string }, { n: number }>(
  "test_count_by_topic",
  (p) => sql`select count(*)::int as n from outbox_events where topic = ${p.topic}`,
);

const event = (topic: string): EventParams => ({
  id: crypto.randomUUID(),
  topic,
  data: { userId: "u1", tags: ["a", "b"] },
  at: new Date(),
});

for (const kind of INFRA_DATABASES) {
  describe(`preparedStatement on ${kind}`, { skip: await skipUnlessDatabase(kind) }, () => {
    const database = infraDatabase(kind, "prepared-statement", outboxEvents);

    it("runs with each call's values, encoding through the column (jsonb), many times over", async () => {
      const first = event("t.one");
      const [row] = await insertEvent(database.db, first);
      assert.deepEqual(row, { id: first.id, topic: "t.one", data: first.data });
      for (let i = 0; i < 5; i += 1) await insertEvent(database.db, event(`t.${i % 2}`));
      assert.deepEqual(await countByTopic(database.db, { topic: "t.0" }), [{ n: 3 }]);
      assert.deepEqual(await countByTopic(database.db, { topic: "t.1" }), [{ n: 2 }]);
    });

    it("runs on every pooled connection and inside transactions, which keep or roll back its writes", async () => {
      // More concurrent calls than the pool has connections: each prepares the named statement once.
      await Promise.all(Array.from({ length: 24 }, () => insertEvent(database.db, event("t.pool"))));
      assert.deepEqual(await countByTopic(database.db, { topic: "t.pool" }), [{ n: 24 }]);

      await database.db.transaction(async (tx) => {
        await insertEvent(tx, event("t.tx"));
        assert.deepEqual(await countByTopic(tx, { topic: "t.tx" }), [{ n: 1 }]);
      });
      await assert.rejects(
        database.db.transaction(async (tx) => {
          await insertEvent(tx, event("t.tx"));
          throw new Error("roll back");
        }),
        /roll back/,
      );
      assert.deepEqual(await countByTopic(database.db, { topic: "t.tx" }), [{ n: 1 }]);
    });

    it("refuses a call that lacks a value instead of sending null", async () => {
      await assert.rejects(
        countByTopic(database.db, {} as { topic: string }),
        /No value for placeholder "topic"/,
      );
    });
  });
}

describe("preparedStatement definitions", () => {
  it("refuses a statement that computes with a parameter instead of interpolating it", () => {
    assert.throws(
      () =>
        preparedStatement<{ tags: string[] }, never>(
          "test_bad_json",
          (p) => sql`select ${JSON.stringify(p.tags)}::jsonb`,
        ),
      /prepared statement test_bad_json: parameter tags used as a value/,
    );
    assert.throws(
      () => preparedStatement<{ n: number }, never>("test_bad_text", (p) => sql`select ${`${p.n}`}`),
      /parameter n used as a value/,
    );
  });
});
