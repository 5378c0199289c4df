import { asc, count, inArray, isNull, min, sql } from "drizzle-orm";
import type { Logger } from "pino";
import { systemClock, type Clock } from "../clock.ts";
import type { Database, Transaction } from "../db/database.ts";
import { outboxEvents } from "../db/infra-schema.ts";
import type { EventPublisher, OutboundEvent } from "./event-publisher.ts";
import { WakeableDelay } from "../wakeable-delay.ts";

export interface OutboxRelayOptions {
  db: Database;
  publisher: EventPublisher;
  logger: Logger;
  clock?: Clock;
  /** Rows claimed per transaction. */
  batchSize?: number;
  /** Wait between polls when the outbox is empty; `poke()` cuts it short. */
  pollIntervalMs?: number;
  /** First retry delay after a failed publish; doubles per consecutive failure up to `maxBackoffMs`. */
  backoffBaseMs?: number;
  maxBackoffMs?: number;
}

export interface RelayBatchResult {
  /** Rows locked by this relay in this round. */
  claimed: number;
  /** Rows acknowledged by the publisher and marked published. */
  published: number;
  /** Rows whose publish failed; they stay pending with `attempts` and `last_error` updated. */
  failed: number;
  error?: string;
}

export interface OutboxStats {
  pending: number;
  oldestPendingAgeSeconds: number;
}

/** Exponential backoff, capped: base, 2·base, 4·base, … ≤ max. */
export function backoffDelayMs(consecutiveFailures: number, baseMs: number, maxMs: number): number {
  if (consecutiveFailures <= 0) return 0;
  return Math.min(maxMs, baseMs * 2 ** Math.min(consecutiveFailures - 1, 30));
}

type OutboxRow = typeof outboxEvents.$inferSelect;

/**
 * Publishes committed outbox rows at least once, oldest first. Each round claims a batch with
 * `select … for update skip locked` inside a transaction and holds the locks while publishing, so several relay
 * instances can run side by side without publishing a row twice at the same time. A failed publish leaves the
 * whole batch pending (so nothing is lost or overtaken) and the relay backs off before retrying from the oldest.
 */
export class OutboxRelay {
  readonly #db: Database;
  readonly #publisher: EventPublisher;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #batchSize: number;
  readonly #pollIntervalMs: number;
  readonly #backoffBaseMs: number;
  readonly #maxBackoffMs: number;
  #running = false;
  #loop: Promise<void> | undefined;
  #failures = 0;
  #poked = false;
  readonly #delay = new WakeableDelay();

  constructor(options: OutboxRelayOptions) {
    this.#db = options.db;
    this.#publisher = options.publisher;
    this.#logger = options.logger.child({ component: "outbox-relay" });
    this.#clock = options.clock ?? systemClock;
    this.#batchSize = options.batchSize ?? 100;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.#backoffBaseMs = options.backoffBaseMs ?? 1_000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
  }

  start(): void {
    if (this.#loop) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops polling; resolves once the batch in flight (if any) has been published or released. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#delay.wake();
    await this.#loop;
    this.#loop = undefined;
  }

  /** Publish soon (e.g. right after a commit that enqueued an event) instead of at the next poll. */
  poke(): void {
    this.#poked = true;
    // While backing off from a failing publisher, a commit is no reason to hammer it sooner.
    if (this.#failures === 0) this.#delay.wake();
  }

  /** For the outbox-lag metrics. */
  async stats(): Promise<OutboxStats> {
    const [row] = await this.#db
      .select({ pending: count(), oldest: min(outboxEvents.createdAt) })
      .from(outboxEvents)
      .where(isNull(outboxEvents.publishedAt));
    const oldest = row?.oldest ? new Date(row.oldest) : undefined;
    return {
      pending: row?.pending ?? 0,
      oldestPendingAgeSeconds: oldest
        ? Math.max(0, (this.#clock.now().getTime() - oldest.getTime()) / 1000)
        : 0,
    };
  }

  /** One round: claim, publish, mark. The polling loop calls it; tests call it directly. */
  async publishBatch(): Promise<RelayBatchResult> {
    return this.#db.transaction(async (tx) => {
      const claimed = await tx
        .select()
        .from(outboxEvents)
        .where(isNull(outboxEvents.publishedAt))
        .orderBy(asc(outboxEvents.createdAt), asc(outboxEvents.id))
        .limit(this.#batchSize)
        .for("update", { skipLocked: true });
      if (claimed.length === 0) return { claimed: 0, published: 0, failed: 0 };
      const ready = await this.#notOvertakingOtherRelays(tx, claimed);
      if (ready.length === 0) return { claimed: claimed.length, published: 0, failed: 0 };
      const ids = ready.map((row) => row.id);
      try {
        await this.#publisher.publish(ready.map(toOutboundEvent));
      } catch (error) {
        const message = describeError(error);
        await tx
          .update(outboxEvents)
          .set({ attempts: sql`${outboxEvents.attempts} + 1`, lastError: message })
          .where(inArray(outboxEvents.id, ids));
        return { claimed: claimed.length, published: 0, failed: ready.length, error: message };
      }
      await tx
        .update(outboxEvents)
        .set({ publishedAt: this.#clock.now(), lastError: null })
        .where(inArray(outboxEvents.id, ids));
      return { claimed: claimed.length, published: ready.length, failed: 0 };
    });
  }

  /**
   * Skip-locked claiming lets another relay hold an older row of the same key (user) than ours; publishing
   * ours first would reorder that user's events. Keep only the rows with no older pending row of their key
   * outside this batch; the rest stay for a later round.
   */
  async #notOvertakingOtherRelays(tx: Transaction, claimed: OutboxRow[]): Promise<OutboxRow[]> {
    const last = claimed[claimed.length - 1];
    if (!last) return [];
    const keys = [...new Set(claimed.map((row) => row.key))];
    const sameKeys = await tx
      .select({ id: outboxEvents.id, key: outboxEvents.key })
      .from(outboxEvents)
      .where(
        sql`${outboxEvents.publishedAt} is null and ${inArray(outboxEvents.key, keys)}
          and (${outboxEvents.createdAt}, ${outboxEvents.id}) <= (
            select o.created_at, o.id from ${outboxEvents} o where o.id = ${last.id})`,
      )
      .orderBy(asc(outboxEvents.createdAt), asc(outboxEvents.id));
    const mine = new Set(claimed.map((row) => row.id));
    const blockedKeys = new Set<string>();
    const held = new Set<string>();
    for (const row of sameKeys) {
      if (!mine.has(row.id)) blockedKeys.add(row.key);
      else if (blockedKeys.has(row.key)) held.add(row.id);
    }
    return claimed.filter((row) => !held.has(row.id));
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const delay = await this.#round();
      if (!this.#running) break;
      if (delay > 0) await this.#delay.sleep(delay);
    }
  }

  /** Runs one batch and returns how long to wait before the next. */
  async #round(): Promise<number> {
    this.#poked = false;
    try {
      const result = await this.publishBatch();
      if (result.failed > 0) return this.#failed(result.error ?? "publish failed", result.failed);
      if (this.#failures > 0)
        this.#logger.info({ afterFailures: this.#failures }, "event publishing recovered");
      this.#failures = 0;
      if (result.published > 0) this.#logger.debug({ published: result.published }, "events published");
      const more = result.claimed === this.#batchSize && result.published > 0;
      return more || this.#poked ? 0 : this.#pollIntervalMs;
    } catch (error) {
      return this.#failed(describeError(error), undefined);
    }
  }

  #failed(error: string, pendingInBatch: number | undefined): number {
    this.#failures += 1;
    const retryInMs = backoffDelayMs(this.#failures, this.#backoffBaseMs, this.#maxBackoffMs);
    this.#logger.warn(
      { err: error, consecutiveFailures: this.#failures, pendingInBatch, retryInMs },
      "event publishing failed; events stay in the outbox",
    );
    return retryInMs;
  }
}

function toOutboundEvent(row: OutboxRow): OutboundEvent {
  return {
    id: row.id,
    topic: row.topic,
    key: row.key,
    type: row.type,
    source: row.source,
    time: row.occurredAt,
    data: row.data,
  };
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error).slice(0, 1000);
  const causes: string[] = [error.message];
  // @platformatic/kafka wraps the broker's or socket's reason in `cause` / `errors`.
  let cause: unknown = error.cause ?? (error as { errors?: unknown[] }).errors?.[0];
  for (let depth = 0; cause instanceof Error && depth < 3; depth++) {
    causes.push(cause.message);
    cause = cause.cause ?? (cause as { errors?: unknown[] }).errors?.[0];
  }
  return causes.join(": ").slice(0, 1000);
}
