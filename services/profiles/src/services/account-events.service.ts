import { randomUUID } from "node:crypto";
import type { Clock } from "@mimascota/shared/clock";
import type { Database } from "@mimascota/shared/db/database";
import { UnitOfWork } from "@mimascota/shared/db/unit-of-work";
import type { EventSink, InboundEvent, ParkedEvent } from "@mimascota/shared/events/inbound-event";
import { parseAccountEvent, type Registered } from "../events/account-events.ts";
import type { ProfileMetrics } from "../metrics.ts";
import type { InboxRepository } from "../repositories/inbox.repository.ts";
import type { ProfileRepository, RegistrationFields } from "../repositories/profile.repository.ts";
import type { PhotoService } from "./photo.service.ts";

export interface AccountEventsDeps {
  db: Database;
  clock: Clock;
  profiles: ProfileRepository;
  inbox: InboxRepository;
  photos: PhotoService;
  metrics: ProfileMetrics;
}

/**
 * Applies the auth service's account events: `user.registered.v1` creates the profile (or fills in the one
 * made from a token at an early sign-in), `user.deleted.v1` deletes it and its photo. Each event is applied
 * in one transaction with the record of its id, so a redelivery is recognised and changes nothing. One
 * topic's events for a user arrive in order (key = user id); across the two topics they may not, so a
 * deletion is remembered and a registration arriving after it is ignored: the result is the same either way.
 */
export class AccountEventsService implements EventSink {
  readonly #deps: AccountEventsDeps;
  readonly #work: UnitOfWork;

  constructor(deps: AccountEventsDeps) {
    this.#deps = deps;
    this.#work = new UnitOfWork({ db: deps.db });
  }

  async handle(event: InboundEvent): Promise<void> {
    const parsed = parseAccountEvent(event);
    const { profiles, inbox, photos, clock } = this.#deps;
    const applied = await this.#work.run(async (tx) => {
      const now = clock.now();
      if (!(await inbox.markProcessed(tx, parsed.id, event.topic, now))) return false;
      if (parsed.kind === "registered") {
        // The deletion may have overtaken the registration (they travel on different topics).
        if (await inbox.isDeleted(tx, parsed.data.userId)) return true;
        const fields = registrationFields(parsed.data, parsed.id);
        const { created } = await profiles.insertIfAbsent(tx, {
          id: randomUUID(),
          userId: parsed.data.userId,
          ...fields,
          createdAt: now,
          updatedAt: now,
        });
        if (!created) await profiles.fillFromRegistration(tx, parsed.data.userId, fields, now);
      } else {
        await inbox.markDeleted(tx, parsed.data.userId, now);
        const deleted = await profiles.deleteByUserId(tx, parsed.data.userId);
        if (deleted?.photoKey) await photos.releaseObject(tx, deleted.photoKey);
      }
      return true;
    });
    this.#deps.metrics.events.inc(applied ? "applied" : "duplicate");
  }

  /** Housekeeping: applied-event ids older than the retention (longer than the topics keep events) go. */
  async forgetOldEventIds(retentionMs: number): Promise<number> {
    const before = new Date(this.#deps.clock.now().getTime() - retentionMs);
    return this.#deps.inbox.forgetProcessedBefore(this.#deps.db, before);
  }

  async park(dead: ParkedEvent): Promise<void> {
    await this.#deps.inbox.park(this.#deps.db, dead, this.#deps.clock.now());
    this.#deps.metrics.events.inc("parked");
  }
}

/** The profile columns a registration carries; a flat registration (no `profile`) gives the name only. */
function registrationFields(data: Registered, eventId: string): RegistrationFields {
  const p = data.profile;
  const u = p?.ubication;
  return {
    email: data.email,
    role: data.role,
    name: p?.name ?? data.fullName ?? null,
    secondName: p?.secondName ?? null,
    displayName: data.fullName ?? p?.name ?? null,
    documentType: p?.documentType ?? null,
    document: p?.document ?? null,
    birthDate: p?.birthDate ?? null,
    department: u?.department ?? null,
    city: u?.city ?? null,
    postalCode: u?.postalCode ?? null,
    street: u?.street ?? null,
    number: u?.number ?? null,
    apartment: u?.apartment ?? null,
    registrationEventId: eventId,
  };
}
