import type { Clock } from "@mimascota/shared/clock";

export type BreakerState = "closed" | "open" | "half-open";

export interface BreakerSettings {
  /** Opens after this many failures in a row. */
  consecutiveFailures: number;
  /** ...or when at least `minCalls` calls in the last `windowMs` failed at this rate (0-1). */
  failureRate: number;
  minCalls: number;
  windowMs: number;
  /** How long it stays open before letting probes through. */
  openMs: number;
  /** Probes allowed in flight while half-open. */
  halfOpenProbes: number;
  /** Successful probes that close it again. */
  closeAfter: number;
}

export interface BreakerSnapshot {
  state: BreakerState;
  consecutiveFailures: number;
  /** Calls and failures in the rolling window. */
  windowCalls: number;
  windowFailures: number;
  halfOpenSuccesses: number;
  totalFailures: number;
  openedAt: string | null;
  nextAttemptAt: string | null;
}

const BUCKETS = 10;

/**
 * A per-upstream circuit breaker with the contract's semantics, written here because cockatiel closes after a
 * single half-open success and admits one probe only. Closed: counts outcomes in a rolling window of ten
 * buckets and consecutive failures. Open: refuses every call until `openMs` has passed. Half-open: admits up
 * to `halfOpenProbes` calls at once; `closeAfter` successes close it, any failure opens it again. Callers
 * report failures only for connection errors, timeouts and 5xx (a 4xx is the client's fault).
 */
export class CircuitBreaker {
  readonly #settings: BreakerSettings;
  readonly #clock: Clock;
  readonly #onState: (state: BreakerState) => void;
  #state: BreakerState = "closed";
  #consecutive = 0;
  #calls = new Array<number>(BUCKETS).fill(0);
  #failures = new Array<number>(BUCKETS).fill(0);
  #bucketStart = 0;
  #openedAt = 0;
  #probesInFlight = 0;
  #probeSuccesses = 0;
  #totalFailures = 0;

  constructor(settings: BreakerSettings, clock: Clock, onState: (state: BreakerState) => void = () => {}) {
    this.#settings = settings;
    this.#clock = clock;
    this.#onState = onState;
  }

  get state(): BreakerState {
    this.#advance(this.#clock.now().getTime());
    return this.#state;
  }

  /** Whether a call may go to the upstream now; every `true` must be followed by one `record` or `release`. */
  tryAcquire(): boolean {
    this.#advance(this.#clock.now().getTime());
    if (this.#state === "closed") return true;
    if (this.#state === "open") return false;
    if (this.#probesInFlight >= this.#settings.halfOpenProbes) return false;
    this.#probesInFlight++;
    return true;
  }

  /** Seconds a refused caller should wait (Retry-After). */
  retryAfterSeconds(): number {
    const left = this.#openedAt + this.#settings.openMs - this.#clock.now().getTime();
    return Math.max(1, Math.ceil(left / 1000));
  }

  /**
   * Ends an admitted call that says nothing about the upstream (the client's doing: a body over the limit, a
   * request that cannot be forwarded, a client gone mid-upload): frees a half-open probe permit and counts
   * neither a success nor a failure, so such calls can neither close the breaker nor hold it closed.
   */
  release(): void {
    this.#advance(this.#clock.now().getTime());
    if (this.#state === "half-open") this.#probesInFlight = Math.max(0, this.#probesInFlight - 1);
  }

  record(success: boolean): void {
    const now = this.#clock.now().getTime();
    this.#advance(now);
    if (!success) this.#totalFailures++;
    if (this.#state === "half-open") {
      this.#probesInFlight = Math.max(0, this.#probesInFlight - 1);
      if (!success) return this.#open(now);
      if (++this.#probeSuccesses >= this.#settings.closeAfter) this.#close(now);
      return;
    }
    // A call admitted while closed may finish after the breaker opened: it no longer changes anything.
    if (this.#state === "open") return;
    this.#rotate(now);
    this.#calls[BUCKETS - 1]!++;
    if (success) {
      this.#consecutive = 0;
      return;
    }
    this.#failures[BUCKETS - 1]!++;
    this.#consecutive++;
    const calls = sum(this.#calls);
    const failures = sum(this.#failures);
    const rateTripped = calls >= this.#settings.minCalls && failures / calls >= this.#settings.failureRate;
    if (this.#consecutive >= this.#settings.consecutiveFailures || rateTripped) this.#open(now);
  }

  snapshot(): BreakerSnapshot {
    const now = this.#clock.now().getTime();
    this.#advance(now);
    this.#rotate(now);
    const opened = this.#state !== "closed";
    return {
      state: this.#state,
      consecutiveFailures: this.#consecutive,
      windowCalls: sum(this.#calls),
      windowFailures: sum(this.#failures),
      halfOpenSuccesses: this.#probeSuccesses,
      totalFailures: this.#totalFailures,
      openedAt: opened ? new Date(this.#openedAt).toISOString() : null,
      nextAttemptAt:
        this.#state === "open" ? new Date(this.#openedAt + this.#settings.openMs).toISOString() : null,
    };
  }

  #advance(now: number): void {
    if (this.#state === "open" && now >= this.#openedAt + this.#settings.openMs) {
      this.#state = "half-open";
      this.#probesInFlight = 0;
      this.#probeSuccesses = 0;
      this.#onState("half-open");
    }
  }

  #open(now: number): void {
    this.#state = "open";
    this.#openedAt = now;
    this.#probesInFlight = 0;
    this.#probeSuccesses = 0;
    this.#onState("open");
  }

  #close(now: number): void {
    this.#state = "closed";
    this.#consecutive = 0;
    this.#calls.fill(0);
    this.#failures.fill(0);
    this.#bucketStart = now;
    this.#onState("closed");
  }

  /** Shifts the ring so that the last bucket covers `now`; buckets older than the window fall off. */
  #rotate(now: number): void {
    const width = this.#settings.windowMs / BUCKETS;
    const steps = Math.floor((now - this.#bucketStart) / width);
    if (steps <= 0) return;
    if (steps >= BUCKETS) {
      this.#calls.fill(0);
      this.#failures.fill(0);
    } else {
      this.#calls = [...this.#calls.slice(steps), ...new Array<number>(steps).fill(0)];
      this.#failures = [...this.#failures.slice(steps), ...new Array<number>(steps).fill(0)];
    }
    this.#bucketStart += steps * width;
  }
}

function sum(values: number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
