import { setTimeout as sleep } from "node:timers/promises";

export interface Sample {
  /** performance.now() when the request was sent and when its answer (or error) arrived. */
  sentAt: number;
  doneAt: number;
  /** 0 when no HTTP answer arrived (connection error). */
  status: number;
  headers: Headers | undefined;
  body: string;
}

/**
 * A bounded load loop on loopback: `concurrency` workers send requests back to back until `stop()` (or
 * `maxRequests`), recording every answer. `inFlight()` says how many were outstanding at a given moment.
 */
export class LoadLoop {
  readonly samples: Sample[] = [];
  readonly #send: (index: number) => Promise<Response>;
  readonly #concurrency: number;
  readonly #maxRequests: number;
  readonly #pauseMs: number;
  #running = false;
  #sent = 0;
  #pending = 0;
  #workers: Promise<void>[] = [];

  constructor(options: {
    send: (index: number) => Promise<Response>;
    concurrency: number;
    maxRequests: number;
    /** Pause between one worker's requests, to keep a 2-core machine responsive. */
    pauseMs?: number;
  }) {
    this.#send = options.send;
    this.#concurrency = options.concurrency;
    this.#maxRequests = options.maxRequests;
    this.#pauseMs = options.pauseMs ?? 0;
  }

  start(): this {
    this.#running = true;
    this.#workers = Array.from({ length: this.#concurrency }, () => this.#work());
    return this;
  }

  /** Requests sent and not yet answered. */
  inFlight(): number {
    return this.#pending;
  }

  /** Resolves once `maxRequests` have been answered. */
  async finished(): Promise<Sample[]> {
    await Promise.all(this.#workers);
    return this.samples;
  }

  async stop(): Promise<Sample[]> {
    this.#running = false;
    await Promise.all(this.#workers);
    return this.samples;
  }

  async #work(): Promise<void> {
    while (this.#running && this.#sent < this.#maxRequests) {
      const index = this.#sent++;
      this.#pending += 1;
      const sentAt = performance.now();
      try {
        const response = await this.#send(index);
        const body = await response.text();
        this.samples.push({
          sentAt,
          doneAt: performance.now(),
          status: response.status,
          headers: response.headers,
          body,
        });
      } catch {
        this.samples.push({ sentAt, doneAt: performance.now(), status: 0, headers: undefined, body: "" });
      } finally {
        this.#pending -= 1;
      }
      if (this.#pauseMs > 0) await sleep(this.#pauseMs);
    }
  }
}

/** The q-quantile (0..1) of `values`, nearest-rank. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
