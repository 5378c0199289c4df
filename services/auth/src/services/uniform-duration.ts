import { setTimeout as sleep } from "node:timers/promises";

/**
 * Runs `work` and settles no sooner than `floorMs` after the start, with its result or its error. Register,
 * resend and forgot do different work for known and unknown emails (a few inserts and a mail, or nothing);
 * padding every answer to one floor above that work makes the response time say nothing about the address.
 * Wall time on purpose: this is about what a client can measure, not the domain clock.
 */
export async function withUniformDuration<T>(floorMs: number, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    // Timers truncate a fractional delay and count from the event loop's cached clock, so one can fire a
    // millisecond or two short of what was asked: sleep again until the floor has really passed.
    let remaining = floorMs - (performance.now() - started);
    while (remaining > 0) {
      await sleep(Math.ceil(remaining));
      remaining = floorMs - (performance.now() - started);
    }
  }
}
