import type { Transaction } from "@mimascota/shared/db/database";

/**
 * What the account flows need from the sessions side (owned by the session service and the login throttle
 * repository); declared here as the narrow shape this side calls, so either side can be tested alone.
 */
export interface SessionRevoker {
  /** Revokes the user's live sessions in `tx` and returns their ids; they are published after commit. */
  revokeAllForUser(
    tx: Transaction,
    userId: string,
    options: { exceptSessionId?: string; reason: string },
  ): Promise<string[]>;
}

export interface AccountUnlocker {
  unlock(tx: Transaction, email: string): Promise<void>;
}

/** CloudEvents `source` (a URI-reference) of every event this service writes to the outbox. */
export const EVENT_SOURCE = "/auth";
