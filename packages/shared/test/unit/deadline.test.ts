import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { withDeadline } from "../../src/deadline.ts";

describe("withDeadline", () => {
  it("answers with the work when it settles in time, and with its failure", async () => {
    assert.equal(await withDeadline(Promise.resolve(1), 50, () => 2), 1);
    await assert.rejects(
      withDeadline(Promise.reject(new Error("failed")), 50, () => 2),
      /failed/,
    );
  });

  it("answers with the fallback, or its error, once the time is up", async () => {
    const never = new Promise<number>(() => undefined);
    assert.equal(await withDeadline(never, 10, () => 2), 2);
    await assert.rejects(
      withDeadline(never, 10, () => {
        throw new Error("too late");
      }),
      /too late/,
    );
  });

  it("leaves no timer behind once the work has settled", async () => {
    let late = 0;
    await withDeadline(sleep(1), 30, () => ++late);
    await sleep(60);
    assert.equal(late, 0);
  });
});
