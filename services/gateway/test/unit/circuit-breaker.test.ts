import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock } from "@mimascota/shared/clock";
import {
  CircuitBreaker,
  type BreakerSettings,
  type BreakerState,
} from "../../src/breaker/circuit-breaker.ts";
import { CircuitOpenError } from "../../src/proxy/upstream.ts";

const settings: BreakerSettings = {
  consecutiveFailures: 5,
  failureRate: 0.5,
  minCalls: 20,
  windowMs: 10_000,
  openMs: 60_000,
  halfOpenProbes: 3,
  closeAfter: 2,
};

function setup() {
  const clock = new ManualClock();
  const transitions: BreakerState[] = [];
  const breaker = new CircuitBreaker(settings, clock, (s) => transitions.push(s));
  const call = (success: boolean) => {
    if (!breaker.tryAcquire()) return false;
    breaker.record(success);
    return true;
  };
  return { clock, breaker, transitions, call };
}

describe("circuit breaker", () => {
  it("opens after five consecutive failures, not four", () => {
    const { breaker, call } = setup();
    for (let i = 0; i < 4; i++) call(false);
    assert.equal(breaker.state, "closed");
    call(true);
    for (let i = 0; i < 4; i++) call(false);
    assert.equal(breaker.state, "closed", "a success resets the run");
    call(false);
    assert.equal(breaker.state, "open");
  });

  it("opens at a 50% failure rate over at least 20 calls in the window, and forgets older calls", () => {
    const { breaker, clock, call } = setup();
    for (let i = 0; i < 18; i++) call(i % 2 === 0);
    assert.equal(breaker.state, "closed", "18 calls are below the minimum");
    clock.advance(11_000);
    for (let i = 0; i < 19; i++) call(i % 2 === 0);
    assert.equal(breaker.state, "closed", "the earlier calls left the window");
    call(false);
    assert.equal(breaker.state, "open");
  });

  it("refuses while open, with Retry-After counting down to the next attempt", () => {
    const { breaker, clock, call } = setup();
    for (let i = 0; i < 5; i++) call(false);
    assert.equal(breaker.tryAcquire(), false);
    assert.equal(breaker.retryAfterSeconds(), 60);
    clock.advance(59_500);
    assert.equal(breaker.retryAfterSeconds(), 1);
    assert.equal(breaker.snapshot().nextAttemptAt, new Date(clock.now().getTime() + 500).toISOString());
  });

  it("half-opens after the open period, admits three probes at once and closes after two successes", () => {
    const { breaker, clock, call, transitions } = setup();
    for (let i = 0; i < 5; i++) call(false);
    clock.advance(60_000);
    assert.equal(breaker.state, "half-open");
    assert.deepEqual([breaker.tryAcquire(), breaker.tryAcquire(), breaker.tryAcquire()], [true, true, true]);
    assert.equal(breaker.tryAcquire(), false, "a fourth concurrent probe is refused");
    breaker.record(true);
    assert.equal(breaker.state, "half-open");
    breaker.record(true);
    assert.equal(breaker.state, "closed");
    breaker.record(true); // the third probe finishing late changes nothing
    assert.deepEqual(transitions, ["open", "half-open", "closed"]);
    assert.equal(breaker.snapshot().consecutiveFailures, 0);
  });

  it("counts a released call as neither success nor failure, and frees its probe permit", () => {
    const { breaker, clock, call } = setup();
    for (let i = 0; i < 4; i++) call(false);
    assert.equal(breaker.tryAcquire(), true);
    breaker.release();
    call(false);
    assert.equal(breaker.state, "open", "a release between failures does not reset the run");
    clock.advance(60_000);
    for (let round = 0; round < 5; round++) {
      assert.deepEqual(
        [breaker.tryAcquire(), breaker.tryAcquire(), breaker.tryAcquire()],
        [true, true, true],
      );
      breaker.release();
      breaker.release();
      breaker.release();
    }
    assert.equal(breaker.state, "half-open", "released probes never close it");
    call(true);
    call(true);
    assert.equal(breaker.state, "closed");
  });

  it("reopens on a failed probe for a full open period", () => {
    const { breaker, clock, call } = setup();
    for (let i = 0; i < 5; i++) call(false);
    clock.advance(60_000);
    call(true);
    call(false);
    assert.equal(breaker.state, "open");
    clock.advance(59_000);
    assert.equal(breaker.state, "open");
    clock.advance(1_000);
    assert.equal(breaker.state, "half-open");
  });
});

describe("CircuitOpenError", () => {
  it("says when to retry and, being control flow built for every refused call, has no stack frames", () => {
    const before = Error.stackTraceLimit;
    const error = new CircuitOpenError(30);
    assert.equal(error.retryAfterSeconds, 30);
    assert.equal(error.stack, "CircuitOpenError: circuit open");
    assert.equal(Error.stackTraceLimit, before);
    assert.match(new Error("a fault").stack ?? "", /\n\s+at /);
  });
});
