import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { ManualClock } from "../../src/clock.ts";
import { createKeyValueStore } from "../../src/kv/create-key-value-store.ts";
import { MemoryKeyValueStore } from "../../src/kv/memory-key-value-store.ts";

describe("MemoryKeyValueStore", () => {
  it("is what createKeyValueStore gives when no Redis URL is configured", async () => {
    const clock = new ManualClock();
    const store = createKeyValueStore({ url: undefined, logger: pino({ level: "silent" }), clock });
    assert.equal(store.kind, "memory");
    await store.set("k", "v", 10);
    clock.advance(10);
    assert.equal(await store.get("k"), null, "it runs on the injected clock");
    await store.close();
  });

  it("keeps a value with a TTL until the TTL has passed, then forgets it", async () => {
    const clock = new ManualClock();
    const store = new MemoryKeyValueStore({ clock });
    await store.set("session", "abc", 1_000);
    await store.set("forever", "x");
    clock.advance(999);
    assert.equal(await store.get("session"), "abc");
    clock.advance(1);
    assert.equal(await store.get("session"), null);
    clock.advance(365 * 24 * 3600_000);
    assert.equal(await store.get("forever"), "x");
    await store.close();
  });

  it("counts from 1 and starts the TTL when the counter is created, not on each increment", async () => {
    const clock = new ManualClock();
    const store = new MemoryKeyValueStore({ clock });
    assert.equal(await store.increment("hits", 1_000), 1);
    clock.advance(600);
    assert.equal(await store.increment("hits", 1_000), 2);
    clock.advance(399);
    assert.equal(await store.increment("hits", 1_000), 3);
    clock.advance(1);
    assert.equal(await store.get("hits"), null, "the window ended 1000 ms after the first increment");
    assert.equal(await store.increment("hits", 1_000), 1, "a new window starts from 1");
    await store.close();
  });

  it("returns every value from 1 to n exactly once for n concurrent increments", async () => {
    const store = new MemoryKeyValueStore({ clock: new ManualClock() });
    const values = await Promise.all(Array.from({ length: 50 }, () => store.increment("c", 60_000)));
    assert.deepEqual(
      values.toSorted((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    await store.close();
  });

  it("sets a key only when absent, and again once the holder's TTL has expired", async () => {
    const clock = new ManualClock();
    const store = new MemoryKeyValueStore({ clock });
    assert.equal(await store.setIfAbsent("lock", "a", 500), true);
    assert.equal(await store.setIfAbsent("lock", "b", 500), false);
    assert.equal(await store.get("lock"), "a");
    clock.advance(500);
    assert.equal(await store.setIfAbsent("lock", "b", 500), true);
    assert.equal(await store.get("lock"), "b");
    await store.close();
  });

  it("deletes several keys at once", async () => {
    const store = new MemoryKeyValueStore({ clock: new ManualClock() });
    await store.set("a", "1");
    await store.set("b", "2");
    await store.set("c", "3");
    await store.delete("a", "b");
    assert.deepEqual([await store.get("a"), await store.get("b"), await store.get("c")], [null, null, "3"]);
    await store.close();
  });
});
