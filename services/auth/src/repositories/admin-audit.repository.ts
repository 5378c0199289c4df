import { randomUUID } from "node:crypto";
import type { Executor } from "@mimascota/shared/db/database";
import { adminAuditLog } from "../db/schema.ts";

export type AuditOutcome = "done" | "refused" | "not_found";

export interface AuditEntry {
  at: Date;
  actor: string;
  command: string;
  userId: string | null;
  email: string;
  outcome: AuditOutcome;
  details: Record<string, unknown>;
}

/** The durable record of what support staff did (`admin_audit_log`); append only. */
export class AdminAuditRepository {
  /** In the caller's transaction, so the record commits (or rolls back) with the change it describes. */
  async record(tx: Executor, entry: AuditEntry): Promise<string> {
    const id = randomUUID();
    await tx.insert(adminAuditLog).values({ id, ...entry });
    return id;
  }
}
