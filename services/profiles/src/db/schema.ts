import { sql } from "drizzle-orm";
import {
  bigserial,
  check,
  date,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/**
 * One profile per account (`user_id` is the access token's `sub`). Created from `user.registered.v1`, or from
 * the token's claims when the user signs in before that event has been applied (which then fills it in).
 */
export const profiles = pgTable(
  "profiles",
  {
    id: uuid("id").primaryKey(),
    userId: text("user_id").notNull().unique(),
    email: text("email"),
    role: text("role", { enum: ["client", "provider"] })
      .notNull()
      .default("client"),
    name: text("name"),
    secondName: text("second_name"),
    displayName: text("display_name"),
    documentType: text("document_type"),
    document: text("document"),
    /** A calendar day, kept as the ISO string `yyyy-MM-dd` (no time zone to shift it). */
    birthDate: date("birth_date", { mode: "string" }),
    department: text("department"),
    city: text("city"),
    postalCode: text("postal_code"),
    street: text("street"),
    number: text("number"),
    apartment: text("apartment"),
    /** The object-store key of the current photo; its URL is built from the public API URL. */
    photoKey: text("photo_key"),
    /** The `user.registered.v1` event applied to this profile, if any (a profile made from a token has none). */
    registrationEventId: text("registration_event_id"),
    createdAt: ts("created_at").notNull(),
    updatedAt: ts("updated_at").notNull(),
  },
  (t) => [check("profiles_role_check", sql`${t.role} in ('client', 'provider')`)],
);

/**
 * Accounts deleted (`user.deleted.v1`), by user id, kept for good: the deletion and the registration travel on
 * different topics, so their order of arrival is not guaranteed; a registration that arrives after its
 * account's deletion must not bring the profile back. User ids are never reused, and nothing personal is here.
 */
export const deletedAccounts = pgTable("deleted_accounts", {
  userId: text("user_id").primaryKey(),
  deletedAt: ts("deleted_at").notNull(),
});

/** Events already applied, by CloudEvents id: a redelivered event is recognised and skipped. */
export const processedEvents = pgTable("processed_events", {
  eventId: text("event_id").primaryKey(),
  topic: text("topic").notNull(),
  processedAt: ts("processed_at").notNull(),
});

/**
 * Poison events (not a CloudEvent, a schema or version this service does not know), kept as received so an
 * operator can inspect and replay them; the consumer moves past them. One row per broker position.
 */
export const deadLetterEvents = pgTable(
  "dead_letter_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    topic: text("topic").notNull(),
    partition: integer("partition"),
    offset: text("offset"),
    eventId: text("event_id"),
    key: text("key"),
    headers: jsonb("headers").$type<Record<string, string>>().notNull(),
    value: text("value").notNull(),
    reason: text("reason").notNull(),
    parkedAt: ts("parked_at").notNull(),
  },
  (t) => [uniqueIndex("dead_letter_events_position").on(t.topic, t.partition, t.offset)],
);

/**
 * Stored objects no row points to any more (a replaced or deleted photo), recorded in the transaction that
 * let go of them and deleted from the store after it commits; a deletion that fails stays here and is
 * retried, so a store outage never leaves an orphan behind for good.
 */
export const objectDeletions = pgTable("object_deletions", {
  key: text("key").primaryKey(),
  requestedAt: ts("requested_at").notNull(),
  attempts: integer("attempts").notNull().default(0),
});
