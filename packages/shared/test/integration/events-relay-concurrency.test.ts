import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { openDatabase, type DatabaseHandle } from "../../src/db/database.ts";
import { migrateInfra } from "../../src/db/infra-migrations.ts";
import type { EventPublisher, OutboundEvent } from "../../src/events/event-publisher.ts";
import { enqueueEvent } from "../../src/events/outbox.ts";
import { OutboxRelay } from "../../src/events/outbox-relay.ts";
import { createTestDatabase, skipUnless } from "../../src/testing/services.ts";

const logger = pino({ level: "silent" });

/** Publishes into a shared log; `hold()` makes the next publish wait, inside the relay's transaction, until released. */
class SharedLogPublisher implements EventPublisher {
  readonly kind = "log" as const;
  readonly #log: string[];
  #next: (() => Promise<void>) | undefined;
  constructor(log: string[]) {
    this.#log = log;
  }
  hold(): { entered: Promise<void>; release: () => void } {
    let release!: () => void;
    let enter!: () => void;
    const entered = new Promise<void>((resolve) => (enter = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.#next = async () => {
      enter();
      await gate;
    };
    return { entered, release };
  }
  async publish(events: OutboundEvent[]): Promise<void> {
    const wait = this.#next;
    this.#next = undefined;
    if (wait) await wait();
    this.#log.push(...events.map((e) => e.id));
  }
  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

describe("outbox relays side by side on PostgreSQL", { skip: await skipUnless("postgres") }, () => {
  let testDb: { url: string; drop: () => Promise<void> };
  let handle: DatabaseHandle;

  before(async () => {
    testDb = await createTestDatabase();
    handle = await openDatabase({ url: testDb.url, dataDir: tmpdir(), poolSize: 4 });
    await migrateInfra(handle);
  });
  after(async () => {
    await handle?.close();
    await testDb?.drop();
  });

  async function enqueue(key: string): Promise<string> {
    return handle.db.transaction((tx) =>
      enqueueEvent(tx, "/test", { topic: "t.v1", key, data: { key }, occurredAt: new Date() }),
    );
  }

  it("skips rows another relay holds and never publishes a user's later event before its earlier one", async () => {
    const a1 = await enqueue("user-a");
    const b1 = await enqueue("user-b");
    const a2 = await enqueue("user-a");
    const published: string[] = [];
    const slow = new SharedLogPublisher(published);
    const fast = new SharedLogPublisher(published);
    const first = new OutboxRelay({ db: handle.db, publisher: slow, logger, batchSize: 1 });
    const second = new OutboxRelay({ db: handle.db, publisher: fast, logger, batchSize: 10 });

    const { entered, release } = slow.hold();
    const firstRound = first.publishBatch(); // claims a1 and waits inside publish, holding its row lock
    try {
      await entered;
      const secondRound = await second.publishBatch(); // a1 is locked: b1 may go, a2 must wait for a1
      assert.deepEqual(secondRound, { claimed: 2, published: 1, failed: 0 });
      assert.deepEqual(published, [b1]);
    } finally {
      release(); // even on failure, so the held transaction ends and the pool can close
    }
    assert.equal((await firstRound).published, 1);
    assert.equal((await second.publishBatch()).published, 1);
    assert.deepEqual(published, [b1, a1, a2]);
    assert.equal((await second.stats()).pending, 0);
  });
});
