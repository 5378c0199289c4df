import { randomUUID } from "node:crypto";
import type { Clock } from "@mimascota/shared/clock";
import { withDeadline } from "@mimascota/shared/deadline";
import { ageOn } from "@mimascota/shared/validation/text";
import type { UnitOfWork } from "@mimascota/shared/db/unit-of-work";
import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import { enqueueEvent } from "@mimascota/shared/events/outbox";
import type { AuthSettings } from "../config.ts";
import { hashToken, newOpaqueToken } from "../crypto/opaque-token.ts";
import type { PasswordHasher } from "../crypto/password-hasher.ts";
import type { AccountMailer } from "../mail/account-mailer.ts";
import type { OneTimeTokenRepository } from "../repositories/one-time-token.repository.ts";
import { problems } from "../errors.ts";
import type { Role } from "../domain/role.ts";
import type { UserRepository } from "../repositories/user.repository.ts";
import { EVENT_SOURCE } from "./account-ports.ts";
import type { PasswordPolicy } from "./password-policy.ts";
import { withUniformDuration } from "./uniform-duration.ts";

/** How long the notice cooldown may take before the notice is sent anyway; well inside the response floor. */
const NOTICE_CHECK_DEADLINE_MS = 50;

/** What a person typed about themselves at registration, for the profile service (never logged). */
export interface RegistrationProfile {
  name: string | null;
  secondName: string | null;
  documentType: string | null;
  document: string | null;
  /** ISO `yyyy-MM-dd`. */
  birthDate: string | null;
  ubication: {
    department: string;
    city: string;
    postalCode: string;
    street: string;
    number: string;
    apartment: string | null;
  } | null;
}

export interface RegistrationInput {
  email: string;
  password: string;
  fullName: string | null;
  locale: "es" | "en";
  role: Role;
  profile: RegistrationProfile | null;
}

export interface RegistrationDeps {
  clock: Clock;
  settings: Pick<AuthSettings, "accountTokens" | "registration">;
  /** Holds the per-account cooldown of "already registered" notices. */
  kv: KeyValueStore;
  users: UserRepository;
  tokens: OneTimeTokenRepository;
  mailer: AccountMailer;
  policy: PasswordPolicy;
  hasher: PasswordHasher;
  /** Runs the transactions: after commit it wakes the mail and event workers and runs the hooks (revocations). */
  work: UnitOfWork;
  onRegistered?: () => void;
}

/**
 * Registration that reveals nothing about which emails have accounts: the caller always gets the same answer
 * (the route's 202) after the same work (policy check, one argon2id hash, one transaction), and the owner of
 * an existing account is told by mail instead.
 */
export class RegistrationService {
  readonly #deps: RegistrationDeps;

  constructor(deps: RegistrationDeps) {
    this.#deps = deps;
  }

  register(input: RegistrationInput): Promise<void> {
    return withUniformDuration(this.#deps.settings.accountTokens.responseFloorMs, () =>
      this.#register(input),
    );
  }

  async #register(input: RegistrationInput): Promise<void> {
    const { work, clock, users, tokens, mailer } = this.#deps;
    // The checks see only the input, so a refusal is the same for new and existing emails.
    this.#assertOldEnough(input.profile?.birthDate ?? null);
    this.#deps.policy.enforce(input.password, input.email);
    // Hashed for existing emails too: skipping it would make "already registered" measurably faster.
    const passwordHash = await this.#deps.hasher.hash(input.password);
    const now = clock.now();
    const created = await work.run(async (tx) => {
      const userId = randomUUID();
      const inserted = await users.insertIfEmailFree(tx, {
        id: userId,
        email: input.email,
        passwordHash,
        fullName: input.fullName,
        locale: input.locale,
        role: input.role,
        createdAt: now,
      });
      if (!inserted) {
        // Taken (possibly by a registration racing this one, now committed): tell the owner, in their language.
        const owner = await users.findRecipientByEmail(input.email, tx);
        if (owner && (await this.#noticeAllowed(owner.id))) {
          await mailer.queue(tx, owner, "already-registered", {
            name: owner.fullName,
            loginLink: mailer.links.login(),
            resetLink: mailer.links.forgotPassword(),
          });
        }
        return false;
      }
      const token = newOpaqueToken();
      await tokens.issue(tx, {
        id: randomUUID(),
        userId,
        purpose: "verify_email",
        tokenHash: hashToken(token),
        createdAt: now,
        expiresAt: new Date(now.getTime() + this.#deps.settings.accountTokens.verificationTtlMs),
      });
      await mailer.queue(tx, { email: input.email, locale: input.locale }, "verify-email", {
        name: input.fullName,
        link: mailer.links.verifyEmail(token),
        validHours: Math.max(1, Math.round(this.#deps.settings.accountTokens.verificationTtlMs / 3_600_000)),
      });
      await enqueueEvent(tx, EVENT_SOURCE, {
        topic: "user.registered.v1",
        key: userId,
        // The profile fields are what this event is for: the profile service builds the profile from them.
        data: {
          userId,
          email: input.email,
          locale: input.locale,
          fullName: input.fullName,
          role: input.role,
          ...(input.profile ? { profile: input.profile } : {}),
          registeredAt: now.toISOString(),
        },
        occurredAt: now,
      });
      return true;
    });
    if (created) this.#deps.onRegistered?.();
  }

  /** The original system's rule: people register from MINIMUM_AGE (16) on, counted in whole years (UTC). */
  #assertOldEnough(birthDate: string | null): void {
    if (birthDate === null) return;
    const minAge = this.#deps.settings.registration.minimumAge;
    if (ageOn(birthDate, this.#deps.clock.now()) < minAge)
      throw problems.error("UNDERAGE", { params: { minAge } });
  }

  /**
   * At most one "already registered" notice per account per cooldown (RESEND_COOLDOWN), so repeated sign-ups
   * with someone's address cannot flood their mailbox. If the store is unreachable, or has not answered within
   * NOTICE_CHECK_DEADLINE_MS (a hung Redis would otherwise hold this answer for its full command timeout, far
   * past the response floor, and so tell an existing email from a new one), the notice is sent: a possible
   * extra mail is better than a silently missing one.
   */
  async #noticeAllowed(userId: string): Promise<boolean> {
    const cooldownMs = this.#deps.settings.accountTokens.resendCooldownMs;
    if (cooldownMs <= 0) return true;
    const claimed = this.#deps.kv.setIfAbsent(`already-registered-notice:${userId}`, "1", cooldownMs);
    return withDeadline(claimed, NOTICE_CHECK_DEADLINE_MS, () => true).catch(() => true);
  }
}
