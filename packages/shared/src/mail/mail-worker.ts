import type { Logger } from "pino";
import { BackgroundLoop, backoffDelayMs, type Backoff, type PassOutcome } from "../background-loop.ts";
import { systemClock, type Clock } from "../clock.ts";
import type { Database } from "../db/database.ts";
import { MailQueueRepository, type QueuedMail } from "./mail-queue.repository.ts";
import type { MailTransport } from "./mail-transport.ts";

/** How long a mail waits after each failed attempt (recorded on its row, so it survives restarts). */
export const defaultMailBackoff: Backoff = { baseMs: 5_000, maxMs: 15 * 60_000, jitter: 0.2 };

export interface MailWorkerOptions {
  db: Database;
  transport: MailTransport;
  logger: Logger;
  /** "Now" for due checks, retry times and queue age, so tests move time instead of sleeping. */
  clock?: Clock;
  /** Wait between polls when nothing is due; `poke()` cuts it short. */
  pollIntervalMs?: number;
  /** Attempts before a mail becomes `dead` (kept in the table, logged at error). */
  maxAttempts?: number;
  backoff?: Partial<Backoff>;
  /** Rows claimed per round. */
  batchSize?: number;
  /**
   * How long a claimed row is reserved for this worker. A worker that dies mid-send leaves the row pending;
   * another picks it up once the lease ends. Must exceed the transport's worst-case send time.
   */
  leaseMs?: number;
  random?: () => number;
}

export interface MailRoundResult {
  claimed: number;
  sent: number;
  /** Failed and scheduled for another attempt. */
  retrying: number;
  /** Failed for the last time. */
  dead: number;
}

export interface MailQueueStats {
  pending: number;
  dead: number;
  oldestPendingAgeSeconds: number;
}

/**
 * Delivers the durable mail queue. Each round claims due rows with `for update skip locked` and leases them
 * (attempts + 1, next attempt pushed past the lease) in one short transaction, then sends outside any
 * transaction, so several workers can run side by side and a slow SMTP server never holds a database lock.
 *
 * Delivery is at least once: if the process dies after the SMTP server accepted a mail but before the row is
 * marked sent, the row is sent again when its lease ends. The row id is the Message-ID's local part, so such a
 * duplicate is recognisable. A mail is never lost: failures only reschedule it, and after `maxAttempts` it is
 * kept as `dead` for an operator to inspect.
 */
export class MailWorker {
  readonly #queue: MailQueueRepository;
  readonly #transport: MailTransport;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #maxAttempts: number;
  readonly #backoff: Backoff;
  readonly #batchSize: number;
  readonly #leaseMs: number;
  readonly #random: () => number;
  readonly #loop: BackgroundLoop;

  constructor(options: MailWorkerOptions) {
    this.#queue = new MailQueueRepository(options.db);
    this.#transport = options.transport;
    this.#logger = options.logger.child({ component: "mail-worker" });
    this.#clock = options.clock ?? systemClock;
    // With the default backoff (capped at 15 min) 300 attempts span about three days: an SMTP outage shorter than
    // that delays mail and loses none; after it the row is kept as `dead` for an operator.
    this.#maxAttempts = options.maxAttempts ?? 300;
    this.#backoff = { ...defaultMailBackoff, ...options.backoff };
    this.#batchSize = options.batchSize ?? 10;
    this.#leaseMs = options.leaseMs ?? 2 * 60_000;
    this.#random = options.random ?? Math.random;
    // No loop backoff: a failed round (a database hiccup) is retried at the next poll; each mail's own
    // backoff is what spares a failing SMTP server.
    this.#loop = new BackgroundLoop({
      pass: (stopping) => this.#round(stopping),
      logger: this.#logger,
      intervalMs: options.pollIntervalMs ?? 1_000,
      log: { failed: "mail worker round failed", describeError },
    });
  }

  start(): void {
    this.#loop.start();
  }

  /**
   * Stops polling; resolves once the send in flight (if any) has been recorded. Claimed mails not yet tried
   * are released at once, so shutdown waits for one send, not for a whole batch against a slow server.
   */
  async stop(): Promise<void> {
    await this.#loop.stop();
  }

  /** Send soon (e.g. right after a commit that queued a mail) instead of at the next poll. */
  poke(): void {
    this.#loop.poke();
  }

  /** For the queue-depth metrics. */
  async stats(): Promise<MailQueueStats> {
    const counts = await this.#queue.counts();
    const oldest = counts.oldestPendingCreatedAt;
    return {
      pending: counts.pending,
      dead: counts.dead,
      oldestPendingAgeSeconds: oldest
        ? Math.max(0, (this.#clock.now().getTime() - oldest.getTime()) / 1000)
        : 0,
    };
  }

  /**
   * One round: claim due rows, send each, record the outcome. The loop calls it; tests call it directly.
   * Once `stopping` is aborted, the rows not yet tried are released instead of sent.
   */
  async processDue(stopping?: AbortSignal): Promise<MailRoundResult> {
    const now = this.#clock.now();
    const claimed = await this.#queue.claimDue(now, this.#batchSize, new Date(now.getTime() + this.#leaseMs));
    const result: MailRoundResult = { claimed: claimed.length, sent: 0, retrying: 0, dead: 0 };
    for (const [index, row] of claimed.entries()) {
      if (stopping?.aborted) {
        await this.#queue.release(
          claimed.slice(index).map((untried) => untried.id),
          this.#clock.now(),
        );
        break;
      }
      const outcome = await this.#deliver(row);
      result[outcome] += 1;
    }
    return result;
  }

  async #deliver(row: QueuedMail): Promise<"sent" | "retrying" | "dead"> {
    try {
      await this.#transport.send({
        id: row.id,
        to: row.toAddress,
        subject: row.subject,
        text: row.textBody,
        html: row.htmlBody,
      });
    } catch (error) {
      return this.#failed(row, describeError(error));
    }
    await this.#queue.markSent(row.id, this.#clock.now());
    this.#logger.debug({ mailId: row.id, template: row.template, attempts: row.attempts }, "mail sent");
    return "sent";
  }

  async #failed(row: QueuedMail, lastError: string): Promise<"retrying" | "dead"> {
    const context = { mailId: row.id, template: row.template, attempts: row.attempts, err: lastError };
    if (row.attempts >= this.#maxAttempts) {
      await this.#queue.markDead(row.id, lastError);
      this.#logger.error(context, "mail gave up after its last attempt; kept as dead");
      return "dead";
    }
    const delayMs = backoffDelayMs(row.attempts, this.#backoff, this.#random);
    await this.#queue.scheduleRetry(row.id, new Date(this.#clock.now().getTime() + delayMs), lastError);
    this.#logger.warn({ ...context, retryInMs: delayMs }, "mail delivery failed; will retry");
    return "retrying";
  }

  async #round(stopping: AbortSignal): Promise<PassOutcome> {
    const result = await this.processDue(stopping);
    // A full batch probably left more due rows behind.
    return result.claimed === this.#batchSize ? "more" : "idle";
  }
}

/**
 * A short reason for `last_error` and logs: the error's message only, never the mail it was sending. SMTP
 * replies such as "550 <ana@example.com>: no such user" quote the recipient, so addresses are masked.
 */
function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const text = typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message;
  return text
    .replace(/[^\s<>"'@]+@[^\s<>"'@]+/g, "<address>")
    .replace(/\s+/g, " ")
    .slice(0, 300);
}
