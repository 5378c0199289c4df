import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { reconnectDelay } from "../../src/redis/redis-connection.ts";

describe("Redis reconnect delay", () => {
  it("doubles from 100 ms up to 2 s, the ceiling of every attempt however long the outage", () => {
    const ceilings = Array.from({ length: 8 }, (_, retries) => reconnectDelay(retries, () => 1));
    assert.deepEqual(ceilings, [100, 200, 400, 800, 1_600, 2_000, 2_000, 2_000]);
    assert.equal(
      reconnectDelay(1_000, () => 1),
      2_000,
    );
  });

  it("takes a random part of up to half off, so instances that lost Redis together do not retry in step", () => {
    assert.equal(
      reconnectDelay(0, () => 0),
      50,
    );
    assert.equal(
      reconnectDelay(10, () => 0),
      1_000,
    );
    assert.equal(
      reconnectDelay(10, () => 0.5),
      1_500,
    );
  });
});
