ALTER TABLE "two_factor_challenges" ADD COLUMN "device_id" text;--> statement-breakpoint
ALTER TABLE "two_factor_credentials" ADD COLUMN "pending_backup_codes_sealed" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "role" text DEFAULT 'client' NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_role_check" CHECK ("role" in ('client', 'provider'));