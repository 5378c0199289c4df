import { asc, count, inArray, isNull, min, sql } from "drizzle-orm";
import type { Logger } from "pino";
import { BackgroundLoop, type Backoff, type PassOutcome } from "../background-loop.ts";
import { systemClock, type Clock } from "../clock.ts";
import type { Database, Transaction } from "../db/database.ts";
import { outboxEvents } from "../db/infra-schema.ts";
import type { EventPublisher, OutboundEvent } from "./event-publisher.ts";

export interface OutboxRelayOptions {
  db: Database;
  publisher: EventPublisher;
  logger: Logger;
  clock?: Clock;
  /** Rows claimed per transaction. */
  batchSize?: number;
  /** Wait between polls when the outbox is empty; `poke()` cuts it short. */
  pollIntervalMs?: number;
  /** Wait after a failed round, growing per consecutive failure; a poke does not cut it short. */
  backoff?: Partial<Backoff>;
}

// No jitter: the few relays of a deployment retrying together are no stampede for the broker.
const defaultRelayBackoff: Backoff = { baseMs: 1_000, maxMs: 30_000, jitter: 0 };

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
  readonly #loop: BackgroundLoop;

  constructor(options: OutboxRelayOptions) {
    this.#db = options.db;
    this.#publisher = options.publisher;
    this.#logger = options.logger.child({ component: "outbox-relay" });
    this.#clock = options.clock ?? systemClock;
    this.#batchSize = options.batchSize ?? 100;
    this.#loop = new BackgroundLoop({
      pass: () => this.#round(),
      logger: this.#logger,
      intervalMs: options.pollIntervalMs ?? 1_000,
      backoff: { ...defaultRelayBackoff, ...options.backoff },
      log: {
        failed: "event publishing failed; events stay in the outbox",
        failedLevel: "warn",
        recovered: "event publishing recovered",
        describeError,
      },
    });
  }

  start(): void {
    this.#loop.start();
  }

  /** Stops polling; resolves once the batch in flight (if any) has been published or released. */
  async stop(): Promise<void> {
    await this.#loop.stop();
  }

  /**
   * Publish soon (e.g. right after a commit that enqueued an event) instead of at the next poll; while
   * backing off from a failing publisher, not sooner than the backoff.
   */
  poke(): void {
    this.#loop.poke();
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

  /** One round of the loop: a failed publish backs it off, a full batch runs the next at once. */
  async #round(): Promise<PassOutcome> {
    const result = await this.publishBatch();
    if (result.failed > 0)
      return { failed: { err: result.error ?? "publish failed", pendingInBatch: result.failed } };
    if (result.published > 0) this.#logger.debug({ published: result.published }, "events published");
    return result.claimed === this.#batchSize && result.published > 0 ? "more" : "idle";
  }
}

/** An outbox row as it goes out (to Kafka, or to an in-process subscriber). */
export function toOutboundEvent(row: OutboxRow): OutboundEvent {
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
