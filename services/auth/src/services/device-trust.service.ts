import { randomUUID } from "node:crypto";
import type { Clock } from "@mimascota/shared/clock";
import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import type { AuthSettings } from "../config.ts";
import type { SecretBox } from "../two-factor/secret-box.ts";

export interface DeviceTrustDeps {
  clock: Clock;
  /** The device's own failures are judged by the account lock's threshold, window and first duration. */
  settings: Pick<AuthSettings, "lockout" | "cookies">;
  sealer: SecretBox;
  /** Per-device failure counts and the device lockout list. */
  kv: KeyValueStore;
}

/** The account a device cookie was issued to, and when its password last changed. */
export interface DeviceOwner {
  id: string;
  passwordChangedAt: Date | null;
}

interface DevicePayload {
  /** The device's random id: what its failures are counted under. */
  d: string;
  /** The owner's password change time at issue (ms, 0 for never): a later change voids the cookie. */
  p: number;
  /** Expiry (ms). */
  e: number;
}

/**
 * OWASP's device cookies, against lockout as a weapon: anyone who knows an address can keep its account
 * locked with wrong passwords, and the lock must stay (it stops the guessing). A browser that has signed in
 * as the user holds a device cookie (sealed: authenticated and bound to the user by the associated data;
 * issued anew at each sign-in); a login that presents a valid one is judged by that device's own failure
 * count instead of the account lock, so the owner still signs in during an attack. Its limits, should it be
 * stolen: it works for one account only, LOCKOUT_THRESHOLD wrong passwords within LOCKOUT_WINDOW put it on the
 * lockout list for LOCKOUT_DURATION (then only the account lock applies), a password change or reset voids
 * it, and it expires after DEVICE_COOKIE_TTL. If the store is unreachable a cookie counts as absent: the
 * account lock applies, never less.
 */
export class DeviceTrustService {
  readonly #deps: DeviceTrustDeps;

  constructor(deps: DeviceTrustDeps) {
    this.#deps = deps;
  }

  /** A new cookie value for the device the owner just signed in on, and its lifetime in seconds. */
  issue(owner: DeviceOwner): { value: string; maxAgeSeconds: number } {
    const { deviceTtlMs, deviceTtlSeconds } = this.#deps.settings.cookies;
    const payload: DevicePayload = {
      d: randomUUID(),
      p: owner.passwordChangedAt?.getTime() ?? 0,
      e: this.#deps.clock.now().getTime() + deviceTtlMs,
    };
    return {
      value: this.#deps.sealer.seal(JSON.stringify(payload), aad(owner.id)),
      maxAgeSeconds: deviceTtlSeconds,
    };
  }

  /** The device id of a valid, unexpired, not locked out cookie issued to `owner`; else undefined. */
  async trusted(cookie: string | undefined, owner: DeviceOwner | undefined): Promise<string | undefined> {
    if (!cookie || !owner || cookie.length > 512) return undefined;
    let payload: DevicePayload;
    try {
      payload = JSON.parse(this.#deps.sealer.open(cookie, aad(owner.id))) as DevicePayload;
    } catch {
      return undefined;
    }
    const now = this.#deps.clock.now().getTime();
    if (typeof payload.d !== "string" || !(payload.e > now)) return undefined;
    if (payload.p !== (owner.passwordChangedAt?.getTime() ?? 0)) return undefined;
    const locked = await this.#deps.kv.get(lockedKey(payload.d)).catch(() => "unknown");
    return locked === null ? payload.d : undefined;
  }

  /** One wrong password from a trusted device; at the threshold the device joins the lockout list. */
  async recordFailure(deviceId: string): Promise<void> {
    const { settings, kv } = this.#deps;
    const { lockout } = settings;
    const failures = await kv
      .increment(failuresKey(deviceId), lockout.windowMs)
      .catch(() => lockout.threshold);
    if (failures >= lockout.threshold) {
      await kv.set(lockedKey(deviceId), "1", lockout.durationMs).catch(() => undefined);
    }
  }
}

const aad = (userId: string) => `device:${userId}`;
const failuresKey = (deviceId: string) => `device-failures:${deviceId}`;
const lockedKey = (deviceId: string) => `device-locked:${deviceId}`;
