import type { Logger } from "pino";

/** Exponential backoff, capped, with jitter. */
export interface Backoff {
  /** Delay after the first failure (ms); doubles per further consecutive failure. */
  baseMs: number;
  /** Upper bound of one delay (ms). */
  maxMs: number;
  /** Up to this fraction is taken off each delay at random, so retries after an outage do not stampede. */
  jitter: number;
}

/** Delay after `failures` consecutive failures: base·2^(n−1), capped, minus up to `jitter` of it; 0 after none. */
export function backoffDelayMs(
  failures: number,
  backoff: Backoff,
  random: () => number = Math.random,
): number {
  if (failures <= 0) return 0;
  const capped = Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(capped * (1 - backoff.jitter * random()));
}

/**
 * What one pass tells the loop: `"idle"`, wait the interval (or a poke); `"more"`, work is known to be left
 * (a full batch), run again at once; `{ failed }`, the pass failed without throwing (its failure had to be
 * recorded in a transaction that commits), back off and log these fields (`err` at least). A thrown error
 * counts as a failure too.
 */
export type PassOutcome = "idle" | "more" | { failed: Record<string, unknown> };

export interface BackgroundLoopOptions {
  /** One pass of the domain work. `stopping` is aborted by `stop()`, so a long pass can cut itself short. */
  pass: (stopping: AbortSignal) => Promise<PassOutcome>;
  logger: Logger;
  /** Wait between passes (ms) when nothing is left; `poke()` cuts it short. */
  intervalMs: number;
  /** Wait a whole interval before the first pass instead of running it at `start()`. */
  firstPassAfterInterval?: boolean;
  /**
   * Wait after consecutive failed passes, reset by a success; a poke does not cut it short. Without it a
   * failed pass waits the interval like any other, and a poke does.
   */
  backoff?: Backoff;
  /** The backoff's jitter draw (Math.random by default). */
  random?: () => number;
  log: {
    /** Logged per failed pass, with `err`, `consecutiveFailures` and `retryInMs`. */
    failed: string;
    /** "warn" where failing is an expected, retried state (a broker outage); "error" by default. */
    failedLevel?: "warn" | "error";
    /** Logged at info by the first successful pass after failures, with `afterFailures`. */
    recovered?: string;
    /** The `err` logged for a thrown error; by default the error itself, so the logger keeps its stack. */
    describeError?: (error: unknown) => unknown;
  };
}

/**
 * Runs a pass, waits, runs the next: never two passes at once. The domain classes (outbox relay, mail worker,
 * housekeeping) own one each and keep their own start/stop/poke; starting and stopping them stays with the
 * composition root.
 */
export class BackgroundLoop {
  readonly #options: BackgroundLoopOptions;
  #run: { done: Promise<void>; stopping: AbortController } | undefined;
  #wake: (() => void) | undefined;
  #poked = false;
  #failures = 0;

  constructor(options: BackgroundLoopOptions) {
    this.#options = options;
  }

  /** Starts the loop; a no-op while it runs. */
  start(): void {
    if (this.#run) return;
    const stopping = new AbortController();
    this.#run = { stopping, done: this.#loop(stopping.signal) };
  }

  /** Ends the wait, aborts the pass's signal, and resolves once the pass in flight (if any) has returned. */
  async stop(): Promise<void> {
    const run = this.#run;
    if (!run) return;
    run.stopping.abort();
    this.#wake?.();
    await run.done;
    if (this.#run === run) this.#run = undefined;
  }

  /** New work: run a pass now, or right after the one in flight (once, however many pokes). */
  poke(): void {
    this.#poked = true;
    // While backing off from a failing dependency, new work is no reason to hammer it sooner.
    if (!this.#backingOff()) this.#wake?.();
  }

  async #loop(stopping: AbortSignal): Promise<void> {
    if (this.#options.firstPassAfterInterval) await this.#wait(this.#options.intervalMs, stopping);
    while (!stopping.aborted) {
      this.#poked = false;
      await this.#wait(await this.#pass(stopping), stopping);
    }
  }

  /** Runs one pass and returns how long to wait before the next. */
  async #pass(stopping: AbortSignal): Promise<number> {
    const { pass, intervalMs, log, logger } = this.#options;
    let outcome: PassOutcome;
    try {
      outcome = await pass(stopping);
    } catch (error) {
      outcome = { failed: { err: log.describeError ? log.describeError(error) : error } };
    }
    if (typeof outcome === "object") return this.#failed(outcome.failed);
    if (this.#failures > 0 && log.recovered) logger.info({ afterFailures: this.#failures }, log.recovered);
    this.#failures = 0;
    return outcome === "more" ? 0 : intervalMs;
  }

  #failed(fields: Record<string, unknown>): number {
    const { backoff, intervalMs, random, log, logger } = this.#options;
    this.#failures += 1;
    const retryInMs = backoff ? backoffDelayMs(this.#failures, backoff, random) : intervalMs;
    logger[log.failedLevel ?? "error"](
      { ...fields, consecutiveFailures: this.#failures, retryInMs },
      log.failed,
    );
    return retryInMs;
  }

  #backingOff(): boolean {
    return this.#failures > 0 && this.#options.backoff !== undefined;
  }

  /** Sleeps unless stopping, or poked since the pass began (and not backing off); `#wake` ends it early. */
  #wait(ms: number, stopping: AbortSignal): Promise<void> {
    if (ms <= 0 || stopping.aborted || (this.#poked && !this.#backingOff())) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}
