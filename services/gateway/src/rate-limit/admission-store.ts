import type { LimitCheck, LimitState } from "./gcra.ts";

/**
 * The per-request decision the gateway needs from shared state: is the session revoked, and do all the rate
 * limits admit this request (consuming one unit of each only if they all do). One call, one round trip.
 */
export type Admission = { outcome: "admitted" | "limited"; limits: LimitState[] } | { outcome: "revoked" };

export interface AdmissionStore {
  readonly kind: "redis" | "memory";
  /** `revocationKey` is checked before any limit is consumed; a revoked session consumes nothing. */
  admit(now: number, checks: readonly LimitCheck[], revocationKey: string | undefined): Promise<Admission>;
}
