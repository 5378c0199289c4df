import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { gcraStep } from "../../src/rate-limit/gcra.ts";

/** Runs requests at the given times (ms) against one limit and returns which were admitted. */
function simulate(times: number[], limit: number, windowMs: number): boolean[] {
  let tat: number | undefined;
  return times.map((now) => {
    const step = gcraStep(tat, now, limit, windowMs);
    if (step.state.retryAfterMs === 0) tat = step.nextTat;
    return step.state.retryAfterMs === 0;
  });
}

describe("GCRA", () => {
  it("admits a burst of exactly the limit, then refuses with the time until the next slot", () => {
    assert.deepEqual(
      simulate(
        Array.from({ length: 12 }, () => 0),
        10,
        60_000,
      ).filter(Boolean).length,
      10,
    );
    let tat: number | undefined;
    for (let i = 0; i < 10; i++) tat = gcraStep(tat, 0, 10, 60_000).nextTat;
    const refused = gcraStep(tat, 0, 10, 60_000).state;
    assert.deepEqual(refused, { remaining: 0, resetMs: 60_000, retryAfterMs: 6_000 });
  });

  it("reports remaining and reset after each admitted request", () => {
    const first = gcraStep(undefined, 1_000, 100, 60_000).state;
    assert.deepEqual(first, { remaining: 99, resetMs: 600, retryAfterMs: 0 });
  });

  it("never admits a second burst at a window boundary", () => {
    const times = [...Array.from({ length: 10 }, () => 59_999), ...Array.from({ length: 10 }, () => 60_001)];
    assert.equal(simulate(times, 10, 60_000).filter(Boolean).length, 10);
  });

  it("never admits more than the limit plus what has drained since the first request", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1_000, max: 120_000 }),
        fc.array(fc.integer({ min: 0, max: 300_000 }), { minLength: 1, maxLength: 300 }),
        (limit, windowMs, raw) => {
          const times = [...raw].sort((a, b) => a - b);
          const admitted = simulate(times, limit, windowMs);
          const first = times[0]!;
          times.forEach((t, i) => {
            const count = admitted.slice(0, i + 1).filter(Boolean).length;
            const bound = limit + Math.floor(((t - first) * limit) / windowMs) + 1;
            assert.ok(count <= bound, `${count} admitted by ${t} with bound ${bound}`);
          });
        },
      ),
    );
  });

  it("admits a steady stream at exactly the sustained rate", () => {
    const times = Array.from({ length: 100 }, (_, i) => i * 600);
    assert.ok(simulate(times, 100, 60_000).every(Boolean));
  });
});
