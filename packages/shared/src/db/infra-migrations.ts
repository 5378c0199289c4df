import { fileURLToPath } from "node:url";
import type { DatabaseHandle } from "./database.ts";

const folder = fileURLToPath(new URL("../../drizzle", import.meta.url));

/** Creates or upgrades the shared infrastructure tables (outbox, mail queue). Idempotent. */
export function migrateInfra(handle: DatabaseHandle): Promise<void> {
  return handle.migrate(folder, "__migrations_infra");
}
