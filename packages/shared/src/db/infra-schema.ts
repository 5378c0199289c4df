import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * Tables owned by the shared infrastructure: the transactional outbox and the durable mail queue. A service
 * writes rows here inside its own transaction, so the event or mail commits (or rolls back) with the state
 * change it describes. Their migrations live in packages/shared/drizzle.
 */
export const outboxEvents = pgTable(
  "outbox_events",
  {
    /** Also the CloudEvents `id`, so consumers can de-duplicate at-least-once deliveries. */
    id: uuid("id").primaryKey(),
    topic: text("topic").notNull(),
    /** Kafka message key (the user id), so one user's events stay ordered within a partition. */
    key: text("key").notNull(),
    type: text("type").notNull(),
    source: text("source").notNull(),
    data: jsonb("data").notNull(),
    occurredAt: timestamp("occurred_at", { withTimezone: true, mode: "date" }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    publishedAt: timestamp("published_at", { withTimezone: true, mode: "date" }),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
  },
  (t) => [
    index("outbox_events_unpublished_idx")
      .on(t.createdAt)
      .where(sql`${t.publishedAt} is null`),
  ],
);

export const mailQueue = pgTable(
  "mail_queue",
  {
    id: uuid("id").primaryKey(),
    /** What kind of mail it is (e.g. `verify-email`), for metrics and logs without reading the body. */
    template: text("template").notNull(),
    toAddress: text("to_address").notNull(),
    subject: text("subject").notNull(),
    textBody: text("text_body").notNull(),
    htmlBody: text("html_body").notNull(),
    status: text("status", { enum: ["pending", "sent", "dead"] })
      .notNull()
      .default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    lastError: text("last_error"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    sentAt: timestamp("sent_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    index("mail_queue_due_idx")
      .on(t.nextAttemptAt)
      .where(sql`${t.status} = 'pending'`),
  ],
);
