import type { Clock } from "@mimascota/shared/clock";
import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import type { AuthSettings } from "../config.ts";
import type { PasswordHasher } from "../crypto/password-hasher.ts";
import { problems } from "../errors.ts";
import type { UserRepository } from "../repositories/user.repository.ts";

export interface CurrentPasswordDeps {
  /** Guesses: the account lock's threshold per window. A sign-in within `twoFactor.recentSignInMs` may stand in. */
  settings: Pick<AuthSettings, "lockout" | "twoFactor">;
  clock: Clock;
  sessions: { signedInAt(sessionId: string): Promise<Date | undefined> };
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
  readonly #deps: CurrentPasswordDeps;

  constructor(deps: CurrentPasswordDeps) {
    this.#deps = deps;
  }

  /** The user (without the hash) when `password` is theirs; else INVALID_CURRENT_PASSWORD, or 429. */
  async verify(userId: string, password: string) {
    const { settings, kv, users, hasher } = this.#deps;
    const { lockout } = settings;
    const attempts = await kv.increment(attemptsKey(userId), lockout.windowMs).catch(() => 0);
    if (attempts > lockout.threshold) {
      throw problems.error("TOO_MANY_ATTEMPTS", {
        variant: "current_password",
        headers: { "retry-after": String(Math.ceil(lockout.windowMs / 1000)) },
      });
    }
    const user = await users.getForChangePassword(userId);
    if (!user || !(await hasher.verify(user.passwordHash, password))) {
      throw problems.error("INVALID_CURRENT_PASSWORD");
    }
    await kv.delete(attemptsKey(userId)).catch(() => undefined);
    const { passwordHash: _hash, ...rest } = user;
    return rest;
  }

  /**
   * The password when one is sent; without one, a session that signed in (password, and 2FA where on) within
   * RECENT_AUTH_WINDOW, as the original front end expects for turning 2FA on and off. The sign-in time is the
   * server's record of the session, so neither a refreshed access token nor anything the client says renews
   * it; outside the window the answer is REAUTHENTICATION_REQUIRED.
   */
  async verifyOrRecent(auth: { userId: string; sessionId: string }, password: string | undefined) {
    if (password !== undefined) return this.verify(auth.userId, password);
    const { clock, settings, sessions, users } = this.#deps;
    const signedInAt = await sessions.signedInAt(auth.sessionId);
    const recent =
      signedInAt !== undefined &&
      clock.now().getTime() - signedInAt.getTime() <= settings.twoFactor.recentSignInMs;
    const user = recent ? await users.findRecipientById(auth.userId) : undefined;
    if (!user) throw problems.error("REAUTHENTICATION_REQUIRED");
    return user;
  }
}

const attemptsKey = (userId: string) => `current-password-attempts:${userId}`;
