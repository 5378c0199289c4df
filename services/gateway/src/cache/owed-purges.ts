/**
 * Purges that could not reach the cache store (down, or hung past its deadline), remembered per user until
 * the last entry stored before them has expired (one cache TTL). Past `max` users it stops counting: every
 * user's entries are then suspect for one TTL.
 */
export class OwedPurges {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #users = new Map<string, number>();
  #allUntil = 0;

  constructor(options: { ttlMs: number; max?: number }) {
    this.#ttlMs = options.ttlMs;
    this.#max = options.max ?? 10_000;
  }

  add(userId: string, now: number): void {
    const until = now + this.#ttlMs;
    if (this.#users.size < this.#max || this.#users.has(userId)) {
      this.#users.set(userId, until);
      return;
    }
    this.#allUntil = until;
    this.#users.clear();
  }

  /**
   * `clear`: the user's entries may be used. `owed`: only once their purge has been made (then `settle`).
   * `all`: no user's entries may be used yet.
   */
  state(userId: string, now: number): "clear" | "owed" | "all" {
    if (now < this.#allUntil) return "all";
    const until = this.#users.get(userId);
    if (until === undefined) return "clear";
    if (until > now) return "owed";
    this.#users.delete(userId);
    return "clear";
  }

  settle(userId: string): void {
    this.#users.delete(userId);
  }
}
