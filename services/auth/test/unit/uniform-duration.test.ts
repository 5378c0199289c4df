import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { withUniformDuration } from "../../src/services/uniform-duration.ts";

describe("withUniformDuration", () => {
  it("settles no sooner than the floor, with the work's result", async () => {
    const started = performance.now();
    assert.equal(await withUniformDuration(40, async () => "done"), "done");
    // A lower bound only, and exact (timers can fire early; the floor must not); no upper bound, which would
    // be a speed assertion.
    assert.ok(performance.now() - started >= 40);
  });

  it("settles no sooner than the floor with the work's error, so failures are padded too", async () => {
    const started = performance.now();
    await assert.rejects(
      withUniformDuration(40, async () => {
        throw new Error("refused");
      }),
      /refused/,
    );
    assert.ok(performance.now() - started >= 40);
  });

  it("adds nothing when the floor is 0", async () => {
    assert.equal(await withUniformDuration(0, async () => 7), 7);
  });
});
