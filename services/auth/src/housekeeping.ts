import { and, eq, inArray, isNull, lt, or, type SQL } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Logger } from "pino";
import { BackgroundLoop, type PassOutcome } from "@mimascota/shared/background-loop";
import type { Clock } from "@mimascota/shared/clock";
import type { Database } from "@mimascota/shared/db/database";
import { mailQueue, outboxEvents } from "@mimascota/shared/db/infra-schema";
import type { AuthSettings } from "./config.ts";
import { loginThrottles, oneTimeTokens, sessions, twoFactorChallenges } from "./db/schema.ts";

/** Rows per delete statement: short statements, short row locks, however large the backlog. */
const BATCH = 1000;

interface Purge {
  name: string;
  table: PgTable;
  key: PgColumn;
  /** The rows that no longer matter, given the retention cut-off and now. */
  done: (cut: Date, now: Date) => SQL | undefined;
}

/** Its schedule and retention; the lockout's window and cap say when a throttle row no longer counts. */
export type HousekeepingSettings = Pick<AuthSettings, "housekeeping" | "lockout">;

/**
 * Deletes what has stopped mattering, so no table grows forever: sessions ended (revoked or past their
 * absolute end) longer than the retention ago, with their refresh tokens (cascade); used or expired
 * verification, reset and two-factor tokens; throttle rows with no live failures, no lock and no lock history
 * left to double; published events and sent mails. Everything is kept for the retention period after it
 * ended, for support and audits. Refresh tokens of live sessions are kept however old, since a rotated one
 * coming back is how reuse (theft) is detected.
 */
export class Housekeeper {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #settings: AuthSettings["housekeeping"];
  readonly #loop: BackgroundLoop;
  readonly #purges: Purge[];
  readonly #totals: Record<string, number> = {};
  /** When the last pass finished; until the first, when this housekeeper was made. */
  #lastPassAt: Date;

  constructor(options: { db: Database; clock: Clock; logger: Logger; settings: HousekeepingSettings }) {
    this.#db = options.db;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#settings = options.settings.housekeeping;
    this.#lastPassAt = options.clock.now();
    const { windowMs, maxDurationMs } = options.settings.lockout;
    const ago = (now: Date, ms: number) => new Date(now.getTime() - ms);
    this.#purges = [
      {
        name: "sessions",
        table: sessions,
        key: sessions.id,
        done: (cut) => or(lt(sessions.expiresAt, cut), lt(sessions.revokedAt, cut)),
      },
      {
        name: "one_time_tokens",
        table: oneTimeTokens,
        key: oneTimeTokens.id,
        done: (cut) => or(lt(oneTimeTokens.expiresAt, cut), lt(oneTimeTokens.consumedAt, cut)),
      },
      {
        name: "two_factor_challenges",
        table: twoFactorChallenges,
        key: twoFactorChallenges.id,
        done: (cut) => or(lt(twoFactorChallenges.expiresAt, cut), lt(twoFactorChallenges.consumedAt, cut)),
      },
      {
        // What the lockout policy would read as "nothing": not locked, no failure inside the window, and
        // the last lock older than twice the cap (when the doubling memory fades). Rechecked on the newest
        // row version, so a row a login is locking right now is not deleted under it.
        name: "login_throttles",
        table: loginThrottles,
        key: loginThrottles.email,
        done: (_cut, now) =>
          and(
            or(isNull(loginThrottles.lockedUntil), lt(loginThrottles.lockedUntil, now)),
            or(eq(loginThrottles.failureCount, 0), lt(loginThrottles.windowStartedAt, ago(now, windowMs))),
            or(
              isNull(loginThrottles.lastLockedAt),
              lt(loginThrottles.lastLockedAt, ago(now, 2 * maxDurationMs)),
            ),
          ),
      },
      {
        name: "outbox_events",
        table: outboxEvents,
        key: outboxEvents.id,
        // Unpublished rows have no publication time, so `<` is never true for them.
        done: (cut) => lt(outboxEvents.publishedAt, cut),
      },
      {
        name: "mail_queue",
        table: mailQueue,
        key: mailQueue.id,
        done: (cut) => and(eq(mailQueue.status, "sent"), lt(mailQueue.sentAt, cut)),
      },
    ];
    // Every table's series exists from the start (at 0), so a dashboard or alert sees it before the first pass.
    for (const purge of this.#purges) this.#totals[purge.name] = 0;
    this.#loop = new BackgroundLoop({
      pass: (stopping) => this.#pass(stopping),
      logger: this.#logger,
      intervalMs: this.#settings.intervalMs,
      firstPassAfterInterval: true,
      // No backoff: the next pass retries; nothing is half-deleted (each batch is one statement).
      log: { failed: "housekeeping pass failed" },
    });
  }

  /**
   * One pass over every table; returns how many rows each lost. Once `stopping` is aborted, each table gets
   * one more batch at most, so a shutdown does not wait for a large backlog.
   */
  async runOnce(stopping?: AbortSignal): Promise<Record<string, number>> {
    const now = this.#clock.now();
    const cut = new Date(now.getTime() - this.#settings.retentionMs);
    const deleted: Record<string, number> = {};
    for (const purge of this.#purges) {
      let total = 0;
      for (;;) {
        const n = await this.#deleteBatch(purge, cut, now);
        total += n;
        if (n < BATCH || stopping?.aborted) break;
      }
      deleted[purge.name] = total;
      this.#totals[purge.name] = (this.#totals[purge.name] ?? 0) + total;
    }
    this.#lastPassAt = this.#clock.now();
    return deleted;
  }

  /** When the last complete pass finished (when this housekeeper was made, until the first). */
  lastPassAt(): Date {
    return this.#lastPassAt;
  }

  /** Rows deleted since this housekeeper was made, by table (every table listed, 0 until it loses rows). */
  totals(): Record<string, number> {
    return { ...this.#totals };
  }

  /** Runs a pass every interval (the first one interval after start); an interval of 0 disables it. */
  start(): void {
    if (this.#settings.intervalMs === 0) return;
    this.#loop.start();
  }

  /** Ends the wait, lets a pass in progress finish its current batches, and resolves when it has. */
  async stop(): Promise<void> {
    await this.#loop.stop();
  }

  async #pass(stopping: AbortSignal): Promise<PassOutcome> {
    const deleted = await this.runOnce(stopping);
    this.#logger.info({ deleted }, "housekeeping pass done");
    return "idle";
  }

  async #deleteBatch(purge: Purge, cut: Date, now: Date): Promise<number> {
    const done = purge.done(cut, now);
    const batch = this.#db.select({ key: purge.key }).from(purge.table).where(done).limit(BATCH);
    const rows = await this.#db
      .delete(purge.table)
      .where(and(inArray(purge.key, batch), done))
      .returning({ key: purge.key });
    return rows.length;
  }
}
