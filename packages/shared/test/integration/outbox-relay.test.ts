import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { asc } from "drizzle-orm";
import { pino } from "pino";
import { backoffDelayMs } from "../../src/background-loop.ts";
import { ManualClock } from "../../src/clock.ts";
import { outboxEvents } from "../../src/db/infra-schema.ts";
import type { EventPublisher, OutboundEvent } from "../../src/events/event-publisher.ts";
import { enqueueEvent, eventType } from "../../src/events/outbox.ts";
import { OutboxRelay } from "../../src/events/outbox-relay.ts";
import { INFRA_DATABASES, infraDatabase, skipUnlessDatabase } from "../support/infra-database.ts";

const logger = pino({ level: "silent" });
const RELAY_BACKOFF = { baseMs: 1_000, maxMs: 30_000, jitter: 0 };

/** Records what it acknowledged; each call takes the next scripted outcome ("ok" once the script runs out). */
class FakePublisher implements EventPublisher {
  readonly kind = "log" as const;
  readonly acknowledged: OutboundEvent[] = [];
  calls = 0;
  readonly #script: Array<"ok" | "fail" | (() => Promise<void>)>;
  constructor(script: Array<"ok" | "fail" | (() => Promise<void>)> = []) {
    this.#script = script;
  }
  async publish(events: OutboundEvent[]): Promise<void> {
    this.calls += 1;
    const step = this.#script.shift() ?? "ok";
    if (step === "fail") throw new Error("broker unavailable");
    if (typeof step === "function") await step();
    this.acknowledged.push(...events);
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

for (const kind of INFRA_DATABASES) {
  describe(`outbox relay on ${kind}`, { skip: await skipUnlessDatabase(kind) }, () => {
    const handle = infraDatabase(kind, "outbox-relay", outboxEvents);

    async function enqueueInOneTransaction(...names: string[]): Promise<string[]> {
      return handle.db.transaction(async (tx) => {
        const ids: string[] = [];
        for (const name of names) {
          ids.push(
            await enqueueEvent(tx, "/test", {
              topic: "user.registered.v1",
              key: `user-${name}`,
              data: { name },
              occurredAt: new Date("2026-01-01T00:00:00Z"),
            }),
          );
        }
        return ids;
      });
    }

    function rows() {
      return handle.db.select().from(outboxEvents).orderBy(asc(outboxEvents.createdAt), asc(outboxEvents.id));
    }

    describe("outbox relay", () => {
      it("publishes committed events in the order they were enqueued and marks them published", async () => {
        const first = await enqueueInOneTransaction("a", "b", "c");
        const second = await enqueueInOneTransaction("d", "e");
        const publisher = new FakePublisher();
        const relay = new OutboxRelay({ db: handle.db, publisher, logger });

        const result = await relay.publishBatch();

        assert.deepEqual(result, { claimed: 5, published: 5, failed: 0 });
        assert.deepEqual(
          publisher.acknowledged.map((e) => e.id),
          [...first, ...second],
        );
        const event = publisher.acknowledged[0];
        assert.equal(event?.type, eventType("user.registered.v1"));
        assert.equal(event?.key, "user-a");
        assert.equal(event?.source, "/test");
        assert.deepEqual(event?.data, { name: "a" });
        assert.equal(event?.time.toISOString(), "2026-01-01T00:00:00.000Z");
        for (const row of await rows()) assert.ok(row.publishedAt, `row ${row.id} is marked published`);
        assert.deepEqual(await relay.publishBatch(), { claimed: 0, published: 0, failed: 0 });
        assert.equal(publisher.calls, 1);
      });

      it("never publishes an event whose transaction rolled back", async () => {
        await assert.rejects(
          handle.db.transaction(async (tx) => {
            await enqueueEvent(tx, "/test", { topic: "t", key: "u", data: {}, occurredAt: new Date() });
            throw new Error("state change failed");
          }),
          /state change failed/,
        );
        const publisher = new FakePublisher();
        const relay = new OutboxRelay({ db: handle.db, publisher, logger });
        assert.deepEqual(await relay.publishBatch(), { claimed: 0, published: 0, failed: 0 });
        assert.equal(publisher.calls, 0);
      });

      it("keeps a failed batch pending with attempts and last_error, then retries it without loss, duplicates or reordering", async () => {
        const ids = await enqueueInOneTransaction("a", "b", "c", "d");
        const publisher = new FakePublisher(["ok", "fail", "ok"]);
        const relay = new OutboxRelay({ db: handle.db, publisher, logger, batchSize: 2 });

        assert.equal((await relay.publishBatch()).published, 2);
        const failed = await relay.publishBatch();
        assert.equal(failed.failed, 2);
        assert.match(failed.error ?? "", /broker unavailable/);
        const afterFailure = await rows();
        assert.deepEqual(
          afterFailure.map((r) => [r.publishedAt !== null, r.attempts, r.lastError]),
          [
            [true, 0, null],
            [true, 0, null],
            [false, 1, "broker unavailable"],
            [false, 1, "broker unavailable"],
          ],
        );
        assert.equal((await relay.stats()).pending, 2);

        assert.equal((await relay.publishBatch()).published, 2);
        assert.deepEqual(
          publisher.acknowledged.map((e) => e.id),
          ids,
        );
        const done = await rows();
        assert.ok(done.every((r) => r.publishedAt !== null && r.lastError === null));
        assert.equal((await relay.stats()).pending, 0);
      });

      it("reports the pending count and the age of the oldest pending event", async () => {
        const clock = new ManualClock(new Date());
        const relay = new OutboxRelay({ db: handle.db, publisher: new FakePublisher(), logger, clock });
        assert.deepEqual(await relay.stats(), { pending: 0, oldestPendingAgeSeconds: 0 });
        await enqueueInOneTransaction("a", "b");
        clock.advance(90_000);
        const stats = await relay.stats();
        assert.equal(stats.pending, 2);
        assert.ok(
          stats.oldestPendingAgeSeconds >= 89 && stats.oldestPendingAgeSeconds < 120,
          `${stats.oldestPendingAgeSeconds}`,
        );
      });

      it("publishes from its loop when poked, and stop() waits for the batch in flight", async () => {
        let release!: () => void;
        let entered!: () => void;
        const inFlight = new Promise<void>((resolve) => (entered = resolve));
        const publisher = new FakePublisher([
          () => {
            entered();
            return new Promise<void>((resolve) => (release = resolve));
          },
        ]);
        const relay = new OutboxRelay({ db: handle.db, publisher, logger, pollIntervalMs: 60_000 });
        relay.start();
        const [id] = await enqueueInOneTransaction("a");
        relay.poke();
        await inFlight;

        let stopped = false;
        const stopping = relay.stop().then(() => (stopped = true));
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(stopped, false, "stop() resolved while a publish was still in flight");
        release();
        await stopping;

        assert.deepEqual(
          publisher.acknowledged.map((e) => e.id),
          [id],
        );
        const [row] = await rows();
        assert.ok(row?.publishedAt, "the in-flight batch was marked published before stop() resolved");
      });

      it("backs off after a failure instead of retrying on every poke", async () => {
        let failedOnce!: () => void;
        const firstFailure = new Promise<void>((resolve) => (failedOnce = resolve));
        const publisher = new FakePublisher([
          async () => {
            failedOnce();
            throw new Error("broker unavailable");
          },
        ]);
        const relay = new OutboxRelay({
          db: handle.db,
          publisher,
          logger,
          pollIntervalMs: 10,
          backoff: { baseMs: 60_000 },
        });
        await enqueueInOneTransaction("a");
        relay.start();
        await firstFailure;
        relay.poke();
        // Give a wrongly-woken loop ample time to make a second call.
        await new Promise((resolve) => setTimeout(resolve, 200));
        await relay.stop();
        assert.equal(publisher.calls, 1);
        const [row] = await rows();
        assert.equal(row?.attempts, 1);
        assert.equal(row?.publishedAt, null);
      });

      it("computes exponential backoff capped at the maximum", () => {
        assert.deepEqual(
          [1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelayMs(n, RELAY_BACKOFF)),
          [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000],
        );
        assert.equal(backoffDelayMs(0, RELAY_BACKOFF), 0);
        assert.equal(backoffDelayMs(10_000, RELAY_BACKOFF), 30_000);
      });
    });
  });
}
