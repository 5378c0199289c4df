import { randomUUID } from "node:crypto";
import type { Clock } from "@mimascota/shared/clock";
import type { Database } from "@mimascota/shared/db/database";
import { commonError } from "@mimascota/shared/errors";
import { ageOn } from "@mimascota/shared/validation/text";
import type { ProfileChanges } from "../domain/profile-fields.ts";
import { problems } from "../errors.ts";
import type { InboxRepository } from "../repositories/inbox.repository.ts";
import type { ProfileRepository, ProfileRow } from "../repositories/profile.repository.ts";

/** A profile as the services hand it to routes (the stored row: routes never read repositories). */
export type Profile = ProfileRow;

/** The verified caller: who the access token says it is. Never taken from a body or a client header. */
export interface Caller {
  userId: string;
  sessionId: string;
  email?: string | undefined;
  roles: readonly string[];
}

export interface ProfileServiceDeps {
  db: Database;
  clock: Clock;
  profiles: ProfileRepository;
  /** Deleted accounts: a deleted account's token (until revoked everywhere) must not bring its profile back. */
  inbox: InboxRepository;
  minimumAge: number;
}

export interface Page<T> {
  items: T[];
  page: number;
  size: number;
  total: number;
  pages: number;
}

/**
 * The caller's own profile, and nobody else's: every method takes the caller and reads or writes only the
 * profile whose `user_id` is the caller's token subject.
 */
export class ProfileService {
  readonly #deps: ProfileServiceDeps;

  constructor(deps: ProfileServiceDeps) {
    this.#deps = deps;
  }

  /**
   * The caller's profile. A user who signs in before `user.registered.v1` has been applied (a consumer behind,
   * or the broker down) still gets one, seeded from the token's claims; the event fills in the rest later.
   */
  async me(caller: Caller): Promise<ProfileRow> {
    const existing = await this.#deps.profiles.findByUserId(this.#deps.db, caller.userId);
    if (existing) return existing;
    return (await this.#createFromToken(caller, {})).row;
  }

  /** POST /profiles: creates the caller's profile with these fields, or updates it (`created` says which). */
  async save(caller: Caller, changes: ProfileChanges): Promise<{ row: ProfileRow; created: boolean }> {
    this.#checkAge(changes);
    const { db, profiles, clock } = this.#deps;
    return db.transaction(async (tx) => {
      const existing = await profiles.findByUserId(tx, caller.userId);
      if (!existing) return this.#createFromToken(caller, changes, tx);
      const row = await profiles.update(tx, caller.userId, changes, clock.now());
      return { row: row ?? existing, created: false };
    });
  }

  /** PUT /profiles/{id}: only the owner; any other id, another user's included, is 404. */
  async update(caller: Caller, id: string, changes: ProfileChanges): Promise<ProfileRow> {
    this.#checkAge(changes);
    const { db, profiles, clock } = this.#deps;
    return db.transaction(async (tx) => {
      const owned = await profiles.findOwned(tx, id, caller.userId);
      if (!owned) throw problems.error("PROFILE_NOT_FOUND");
      return (await profiles.update(tx, caller.userId, changes, clock.now())) ?? owned;
    });
  }

  /**
   * GET /profiles: the original API's paginated list, which here only ever holds the caller's own profile
   * (listing other people's personal data is never allowed). The front end falls back to it.
   */
  async list(caller: Caller, page: number, size: number): Promise<Page<ProfileRow>> {
    const own = await this.me(caller);
    return { items: page === 1 ? [own] : [], page, size, total: 1, pages: 1 };
  }

  async #createFromToken(
    caller: Caller,
    changes: ProfileChanges,
    tx: Parameters<ProfileRepository["insertIfAbsent"]>[0] = this.#deps.db,
  ): Promise<{ row: ProfileRow; created: boolean }> {
    if (await this.#deps.inbox.isDeleted(tx, caller.userId)) throw commonError("UNAUTHORIZED");
    const now = this.#deps.clock.now();
    return this.#deps.profiles.insertIfAbsent(tx, {
      id: randomUUID(),
      userId: caller.userId,
      email: caller.email ?? null,
      role: caller.roles.includes("provider") ? "provider" : "client",
      ...changes,
      createdAt: now,
      updatedAt: now,
    });
  }

  #checkAge(changes: ProfileChanges): void {
    const { birthDate } = changes;
    if (!birthDate) return;
    const now = this.#deps.clock.now();
    if (birthDate > now.toISOString().slice(0, 10) || ageOn(birthDate, now) < this.#deps.minimumAge) {
      throw problems.error("UNDERAGE", { params: { minimumAge: this.#deps.minimumAge } });
    }
  }
}
