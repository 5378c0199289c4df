CREATE TABLE "dead_letter_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"topic" text NOT NULL,
	"partition" integer,
	"offset" text,
	"event_id" text,
	"key" text,
	"headers" jsonb NOT NULL,
	"value" text NOT NULL,
	"reason" text NOT NULL,
	"parked_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deleted_accounts" (
	"user_id" text PRIMARY KEY NOT NULL,
	"deleted_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "object_deletions" (
	"key" text PRIMARY KEY NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "processed_events" (
	"event_id" text PRIMARY KEY NOT NULL,
	"topic" text NOT NULL,
	"processed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "profiles" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"email" text,
	"role" text DEFAULT 'client' NOT NULL,
	"name" text,
	"second_name" text,
	"display_name" text,
	"document_type" text,
	"document" text,
	"birth_date" date,
	"department" text,
	"city" text,
	"postal_code" text,
	"street" text,
	"number" text,
	"apartment" text,
	"photo_key" text,
	"registration_event_id" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "profiles_user_id_unique" UNIQUE("user_id"),
	CONSTRAINT "profiles_role_check" CHECK ("profiles"."role" in ('client', 'provider'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "dead_letter_events_position" ON "dead_letter_events" USING btree ("topic","partition","offset");