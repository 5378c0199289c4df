import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import type { AuthConfig } from "../config.ts";
import type { PasswordHasher } from "../crypto/password-hasher.ts";
import { problems } from "../errors.ts";
import type { UserRepository } from "../repositories/user.repository.ts";

export interface CurrentPasswordDeps {
  config: Pick<AuthConfig, "LOCKOUT_THRESHOLD" | "LOCKOUT_WINDOW">;
  /** Counts attempts per user. */
  kv: KeyValueStore;
  users: UserRepository;
  hasher: PasswordHasher;
}

/**
 * The signed-in caller's current password, asked before a sensitive change: change-password, turning 2FA on
 * or off. A stolen access token must not become a way to guess it (and then take the account over for good):
 * at most LOCKOUT_THRESHOLD attempts per LOCKOUT_WINDOW per user, counted across those endpoints and reserved
 * *before* the check so parallel guesses cannot overshoot; the right password clears the count. If the store
 * is down the attempt is allowed: the check itself still needs the right password.
 */
export class CurrentPasswordCheck {
  readonly #d: CurrentPasswordDeps;

  constructor(deps: CurrentPasswordDeps) {
    this.#d = deps;
  }

  /** The user (without the hash) when `password` is theirs; else INVALID_CURRENT_PASSWORD, or 429. */
  async verify(userId: string, password: string) {
    const { config, kv, users, hasher } = this.#d;
    const attempts = await kv.increment(attemptsKey(userId), config.LOCKOUT_WINDOW * 1000).catch(() => 0);
    if (attempts > config.LOCKOUT_THRESHOLD) {
      throw problems.error(
        "TOO_MANY_ATTEMPTS",
        "Too many attempts with a wrong current password. Try again later.",
        { headers: { "retry-after": String(config.LOCKOUT_WINDOW) } },
      );
    }
    const user = await users.getForChangePassword(userId);
    if (!user || !(await hasher.verify(user.passwordHash, password))) {
      throw problems.error("INVALID_CURRENT_PASSWORD", "The current password is incorrect.");
    }
    await kv.delete(attemptsKey(userId)).catch(() => undefined);
    const { passwordHash: _hash, ...rest } = user;
    return rest;
  }
}

const attemptsKey = (userId: string) => `current-password-attempts:${userId}`;
