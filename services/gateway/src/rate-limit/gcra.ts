/**
 * GCRA (the generic cell rate algorithm): one stored number per key, the theoretical arrival time (TAT). A
 * limit of `limit` per `windowMs` admits a burst of `limit` and then one request every `windowMs / limit`,
 * so there is no window boundary at which two bursts fit back to back. The Lua script in
 * redis-admission.store.ts is this same function; keep them in step.
 */
export interface LimitCheck {
  key: string;
  limit: number;
  windowMs: number;
}

export interface LimitState {
  /** Requests still admitted right now. */
  remaining: number;
  /** Milliseconds until the full quota is back. */
  resetMs: number;
  /** Milliseconds until a refused request would be admitted; 0 when this limit admitted it. */
  retryAfterMs: number;
}

export interface GcraStep {
  state: LimitState;
  /** The TAT to store if every limit of the request admits it. */
  nextTat: number;
}

const EPSILON = 1e-6;

export function gcraStep(
  storedTat: number | undefined,
  now: number,
  limit: number,
  windowMs: number,
): GcraStep {
  const interval = windowMs / limit;
  const tat = storedTat === undefined || storedTat < now ? now : storedTat;
  const nextTat = tat + interval;
  const ahead = nextTat - now;
  if (ahead > windowMs + EPSILON) {
    return {
      nextTat: tat,
      state: { remaining: 0, resetMs: Math.ceil(tat - now), retryAfterMs: Math.ceil(ahead - windowMs) },
    };
  }
  return {
    nextTat,
    state: {
      remaining: Math.floor((windowMs - ahead) / interval + EPSILON),
      resetMs: Math.ceil(ahead),
      retryAfterMs: 0,
    },
  };
}
