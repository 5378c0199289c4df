import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { timeOrderedId } from "../../src/events/event-id.ts";

describe("time-ordered event ids", () => {
  it("are UUIDv7 strings that sort in the order they were made, within and across milliseconds", () => {
    const ids: string[] = [];
    const start = Date.now();
    for (let i = 0; i < 5_000; i++) ids.push(timeOrderedId(start + Math.floor(i / 2_500)));
    for (const id of ids)
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });

  it("carries the creation time in its first 48 bits", () => {
    const at = Date.parse("2027-02-03T04:05:06.789Z");
    const id = timeOrderedId(at);
    assert.equal(parseInt(id.replaceAll("-", "").slice(0, 12), 16), at);
  });
});
