import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import {
  BackgroundLoop,
  backoffDelayMs,
  type BackgroundLoopOptions,
  type PassOutcome,
} from "../../src/background-loop.ts";
import { captureLogger } from "../support/capture-logger.ts";

const INTERVAL = 1_000;

/** Lets every promise continuation run; setImmediate is left real while setTimeout is mocked. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A loop on mocked timers whose passes follow a script (a thrown error, an outcome, or a held pass that
 * `release()` lets finish; "idle" once the script runs out), counting passes and the most ever in flight.
 */
function scriptedLoop(
  t: TestContext,
  script: Array<PassOutcome | Error | "hold">,
  options: Partial<BackgroundLoopOptions> = {},
) {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { logger, lines } = captureLogger();
  const state = { passes: 0, inFlight: 0, mostInFlight: 0, aborted: [] as boolean[] };
  let release: () => void = () => undefined;
  const loop = new BackgroundLoop({
    logger,
    intervalMs: INTERVAL,
    log: { failed: "pass failed", recovered: "passes recovered" },
    pass: async (stopping) => {
      state.passes += 1;
      state.inFlight += 1;
      state.mostInFlight = Math.max(state.mostInFlight, state.inFlight);
      try {
        const step = script.shift() ?? "idle";
        if (step === "hold") await new Promise<void>((resolve) => (release = resolve));
        state.aborted.push(stopping.aborted);
        if (step instanceof Error) throw step;
        return step === "hold" ? "idle" : step;
      } finally {
        state.inFlight -= 1;
      }
    },
    ...options,
  });
  const failures = () => lines.filter((line) => line.msg === "pass failed");
  /** Moves the mocked clock on and lets the loop react. */
  const advance = async (ms: number): Promise<void> => {
    t.mock.timers.tick(ms);
    await settle();
  };
  return { loop, state, lines, failures, advance, release: () => release() };
}

describe("background loop", () => {
  it("runs a pass at start, then one per interval, and a poke cuts the wait short", async (t) => {
    const { loop, state, advance } = scriptedLoop(t, []);
    loop.start();
    await settle();
    assert.equal(state.passes, 1);
    await advance(INTERVAL - 1);
    assert.equal(state.passes, 1, "no pass before the interval is over");
    await advance(1);
    assert.equal(state.passes, 2);
    loop.poke();
    await settle();
    assert.equal(state.passes, 3, "the poke ran a pass without the clock moving");
    await loop.stop();
  });

  it("waits a whole interval before the first pass when asked to", async (t) => {
    const { loop, state, advance } = scriptedLoop(t, [], { firstPassAfterInterval: true });
    loop.start();
    await settle();
    assert.equal(state.passes, 0);
    await advance(INTERVAL);
    assert.equal(state.passes, 1);
    await loop.stop();
  });

  it("runs one more pass right after a pass during which it was poked, however many pokes", async (t) => {
    const { loop, state, release } = scriptedLoop(t, ["hold"]);
    loop.start();
    await settle();
    loop.poke();
    loop.poke();
    loop.poke();
    loop.start();
    await settle();
    assert.equal(state.passes, 1, "no second pass while the first is in flight");
    release();
    await settle();
    assert.equal(state.passes, 2, "one more pass for all three pokes");
    await settle();
    assert.equal(state.passes, 2, "then it waits the interval");
    assert.equal(state.mostInFlight, 1, "never two passes at once");
    await loop.stop();
  });

  it("runs again at once while a pass reports more work left", async (t) => {
    const { loop, state } = scriptedLoop(t, ["more", "more", "idle"]);
    loop.start();
    await settle();
    assert.equal(state.passes, 3);
    await loop.stop();
  });

  it("stop() waits for the pass in flight, tells it through its signal, and runs no other", async (t) => {
    const { loop, state, release } = scriptedLoop(t, ["hold", "more"]);
    loop.start();
    await settle();
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await settle();
    assert.equal(stopped, false, "stop() resolved while a pass was in flight");
    release();
    await stopping;
    assert.equal(state.passes, 1);
    assert.deepEqual(state.aborted, [true], "the pass saw the stop through its signal");
  });

  it("stop() ends the wait at once, and start() after it runs the loop again", async (t) => {
    const { loop, state, advance } = scriptedLoop(t, []);
    loop.start();
    await settle();
    await loop.stop();
    await advance(10 * INTERVAL);
    assert.equal(state.passes, 1, "no pass after stop()");
    loop.start();
    await settle();
    assert.equal(state.passes, 2);
    await loop.stop();
  });

  it("backs off per consecutive failure, ignores pokes meanwhile, resets after a success, and logs each", async (t) => {
    const failure = new Error("broker unavailable");
    const { loop, state, lines, failures, advance } = scriptedLoop(
      t,
      [failure, { failed: { err: "refused", pending: 2 } }, failure, "idle", failure],
      {
        backoff: { baseMs: 100, maxMs: 300, jitter: 0 },
        log: { failed: "pass failed", recovered: "passes recovered", failedLevel: "warn" },
      },
    );
    loop.start();
    await settle();
    loop.poke();
    await settle();
    assert.equal(state.passes, 1, "a poke does not cut a backoff short");
    for (const wait of [100, 200, 300]) await advance(wait);
    assert.equal(state.passes, 4);
    await advance(INTERVAL);
    assert.equal(state.passes, 5);
    await loop.stop();

    assert.deepEqual(
      failures().map((line) => [line.level, line.consecutiveFailures, line.retryInMs]),
      [
        [40, 1, 100],
        [40, 2, 200],
        [40, 3, 300],
        [40, 1, 100],
      ],
    );
    assert.equal(failures()[1]?.err, "refused");
    assert.equal(failures()[1]?.pending, 2, "a reported failure logs its own fields");
    assert.equal((failures()[0]?.err as { message?: string }).message, "broker unavailable");
    assert.deepEqual(
      lines.filter((line) => line.msg === "passes recovered").map((line) => line.afterFailures),
      [3],
    );
  });

  it("without a backoff, logs a failure at error, waits the interval and still wakes on a poke", async (t) => {
    const { loop, state, failures, advance } = scriptedLoop(
      t,
      [new Error("database unavailable"), new Error("again")],
      {
        log: { failed: "pass failed", describeError: (error) => (error as Error).message },
      },
    );
    loop.start();
    await settle();
    loop.poke();
    await settle();
    assert.equal(state.passes, 2);
    await advance(INTERVAL);
    assert.equal(state.passes, 3);
    await loop.stop();
    assert.deepEqual(
      failures().map((line) => [line.level, line.err, line.retryInMs]),
      [
        [50, "database unavailable", INTERVAL],
        [50, "again", INTERVAL],
      ],
    );
  });

  it("computes the backoff: doubling, capped, and jitter only shortens it", () => {
    const backoff = { baseMs: 100, maxMs: 1_000, jitter: 0.5 };
    const noJitter = () => 0;
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 100].map((n) => backoffDelayMs(n, backoff, noJitter)),
      [0, 100, 200, 400, 800, 1_000, 1_000],
    );
    for (const draw of [0, 0.5, 0.999999]) {
      const delay = backoffDelayMs(3, backoff, () => draw);
      assert.ok(delay >= 200 && delay <= 400, `${draw}: ${delay}`);
    }
  });
});
