import type { LimitCheck, LimitState } from "./gcra.ts";

/**
 * The per-request decision the gateway needs from shared state: is the session revoked, and do all the rate
 * limits admit this request (consuming one unit of each only if they all do and the session is not revoked).
 * One call, one round trip. `limits` is each limit's state as if this request were admitted, for the headers.
 */
export interface Admission {
  outcome: "admitted" | "limited" | "revoked";
  limits: LimitState[];
}

export interface AdmissionStore {
  readonly kind: "redis" | "memory";
  /** `revocationKey` is checked before any limit is consumed; a revoked session consumes nothing. */
  admit(now: number, checks: readonly LimitCheck[], revocationKey: string | undefined): Promise<Admission>;
}
