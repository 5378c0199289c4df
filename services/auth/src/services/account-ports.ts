import type { Transaction } from "@mimascota/shared/db/database";

/**
 * What the account flows need from the sessions side (owned by the session service and the login throttle
 * repository); declared here as the narrow shape this side calls, so either side can be tested alone.
 */
export interface SessionRevoker {
  /** Revokes the user's live sessions in `tx` and returns their ids. */
  revokeAllForUser(
    tx: Transaction,
    userId: string,
    options: { exceptSessionId?: string; reason: string },
  ): Promise<string[]>;
  /**
   * After commit: tells the gateway (via the key-value store) to refuse these sessions' access tokens. Must
   * not throw: the database is the source of truth and the change has already committed.
   */
  publishRevoked(sessionIds: string[]): Promise<void>;
}

export interface AccountUnlocker {
  unlock(tx: Transaction, email: string): Promise<void>;
}

export interface Wake {
  mail(): void;
  events(): void;
}

/** CloudEvents `source` (a URI-reference) of every event this service writes to the outbox. */
export const EVENT_SOURCE = "/auth";
