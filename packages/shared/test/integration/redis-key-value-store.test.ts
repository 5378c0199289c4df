import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { createKeyValueStore } from "../../src/kv/create-key-value-store.ts";
import type { KeyValueStore } from "../../src/kv/key-value-store.ts";
import { RedisKeyValueStore } from "../../src/kv/redis-key-value-store.ts";
import { PrivateRedis } from "../../src/testing/private-redis.ts";
import { serviceUrls, skipUnless, skipUnlessPrograms, uniquePrefix } from "../../src/testing/services.ts";

const logger = pino({ level: "silent" });

async function eventually(check: () => Promise<boolean>, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("Redis key-value store (real Redis)", { skip: await skipUnless("redis") }, () => {
  let store: KeyValueStore;
  before(() => {
    store = createKeyValueStore({ url: serviceUrls.redis, logger, keyPrefix: `${uniquePrefix("kv-test")}:` });
  });
  after(async () => {
    await store.delete("plain", "ttl", "window", "concurrent", "lock", "lease", "shared-name");
    await store.close();
  });

  it("is the Redis implementation when a URL is given", () => {
    assert.equal(store.kind, "redis");
  });

  it("stores values, with and without a TTL, and deletes them", async () => {
    await store.set("plain", "v1");
    await store.set("ttl", "v2", 60_000);
    assert.deepEqual(
      [await store.get("plain"), await store.get("ttl"), await store.get("missing")],
      ["v1", "v2", null],
    );
    await store.delete("plain", "ttl");
    assert.deepEqual([await store.get("plain"), await store.get("ttl")], [null, null]);
    await store.ping();
  });

  it("expires a key once its TTL has passed", async () => {
    // TTLs of a second: long enough that a busy machine still reads the key before it goes.
    await store.set("short", "x", 1_000);
    assert.equal(await store.get("short"), "x");
    await eventually(async () => (await store.get("short")) === null, 10_000);
  });

  it("starts a counter's TTL when the counter is created and does not extend it on later increments", async () => {
    assert.equal(await store.increment("window", 1_000), 1);
    assert.equal(await store.increment("window", 60_000), 2);
    // Had the second increment reset the TTL, the key would live for a minute.
    await eventually(async () => (await store.get("window")) === null, 10_000);
    assert.equal(await store.increment("window", 60_000), 1);
  });

  it("returns 1..100 exactly once for 100 concurrent increments", async () => {
    const values = await Promise.all(
      Array.from({ length: 100 }, () => store.increment("concurrent", 60_000)),
    );
    assert.deepEqual(
      values.toSorted((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
  });

  it("lets exactly one of 50 concurrent setIfAbsent calls win, and that value is kept", async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.setIfAbsent("lock", `owner-${i}`, 60_000)),
    );
    const winners = results.flatMap((won, i) => (won ? [i] : []));
    assert.equal(winners.length, 1);
    assert.equal(await store.get("lock"), `owner-${winners[0]}`);
  });

  it("lets a lock be taken again after its TTL expires", async () => {
    assert.equal(await store.setIfAbsent("lease", "a", 1_000), true);
    assert.equal(await store.setIfAbsent("lease", "b", 1_000), false);
    await eventually(() => store.setIfAbsent("lease", "b", 60_000), 10_000);
    assert.equal(await store.get("lease"), "b");
  });

  it("keeps keys of different prefixes apart", async () => {
    const other = new RedisKeyValueStore({
      url: serviceUrls.redis,
      logger,
      keyPrefix: `${uniquePrefix("kv-other")}:`,
    });
    try {
      await store.set("shared-name", "mine");
      assert.equal(await other.get("shared-name"), null);
    } finally {
      await other.close();
    }
  });
});

describe("Redis key-value store without a server", () => {
  it("fails commands fast instead of queueing them, and closes cleanly", async () => {
    // Port 1 on loopback is never a Redis server: every connection attempt is refused.
    const store = new RedisKeyValueStore({ url: "redis://127.0.0.1:1", logger, connectTimeoutMs: 1_000 });
    await assert.rejects(store.get("k"), /offline|closed|ECONNREFUSED/i);
    await assert.rejects(store.increment("k", 1_000), /offline|closed|ECONNREFUSED/i);
    await store.close();
  });
});

describe(
  "Redis key-value store across a Redis restart",
  { skip: await skipUnlessPrograms(["redis-server", "--version"]) },
  () => {
    it("fails commands during the outage without crashing, then reconnects by itself", async () => {
      const redis = await new PrivateRedis().start();
      const store = new RedisKeyValueStore({ url: redis.url, logger });
      try {
        assert.equal(await store.increment("n", 60_000), 1);

        await redis.stop();
        await eventually(async () => {
          try {
            await store.get("n");
            return false;
          } catch {
            return true;
          }
        });
        await assert.rejects(store.increment("n", 60_000), /offline|closed|ECONNREFUSED|timed out/i);

        await redis.start();
        await eventually(async () => {
          try {
            return (await store.increment("n", 60_000)) === 1;
          } catch {
            return false;
          }
        }, 10_000);
      } finally {
        await store.close();
        await redis.stop();
      }
    });

    it("fails a command after the command timeout when Redis stops answering, instead of hanging", async () => {
      const redis = await new PrivateRedis().start();
      const store = new RedisKeyValueStore({
        url: redis.url,
        logger,
        commandTimeoutMs: 200,
      });
      try {
        await store.ping();
        // A frozen server keeps the connection open but never replies.
        redis.freeze(true);
        await assert.rejects(store.get("k"), /timed out/);
        redis.freeze(false);
        await eventually(async () => {
          try {
            await store.ping();
            return true;
          } catch {
            return false;
          }
        }, 10_000);
      } finally {
        redis.freeze(false);
        await store.close();
        await redis.stop();
      }
    });
  },
);
