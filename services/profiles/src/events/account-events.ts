import { z } from "zod";
import { PoisonEventError, type InboundEvent } from "@mimascota/shared/events/inbound-event";
import { eventType } from "@mimascota/shared/events/outbox";

/** The auth service's topics this service consumes. */
export const REGISTERED = "user.registered.v1";
export const DELETED = "user.deleted.v1";
export const CONSUMED_TOPICS = [REGISTERED, DELETED] as const;

// Lenient where the auth service was strict (it validated the input), bounded everywhere: an event is data
// from another service, and a field too long for a column must park the event, not fail it forever.
const text = (max: number) => z.string().max(max);

const registeredData = z.object({
  userId: text(64).min(1),
  email: text(320),
  fullName: text(200).nullish(),
  role: z.enum(["client", "provider"]).default("client"),
  profile: z
    .object({
      name: text(100).nullish(),
      secondName: text(100).nullish(),
      documentType: text(20).nullish(),
      document: text(30).nullish(),
      birthDate: z.iso.date().nullish(),
      ubication: z
        .object({
          department: text(100),
          city: text(100),
          postalCode: text(20),
          street: text(150),
          number: text(20),
          apartment: text(20).nullish(),
        })
        .nullish(),
    })
    .nullish(),
  registeredAt: z.iso.datetime({ offset: true }),
});

const deletedData = z.object({
  userId: text(64).min(1),
  deletedAt: z.iso.datetime({ offset: true }),
});

export type Registered = z.output<typeof registeredData>;
export type Deleted = z.output<typeof deletedData>;

export type AccountEvent =
  { kind: "registered"; id: string; data: Registered } | { kind: "deleted"; id: string; data: Deleted };

/**
 * An inbound event as one this service knows, or a PoisonEventError: an unknown topic or CloudEvents type (a
 * version this code does not speak), data that does not match the schema, or a key that is not the data's
 * user (ordering per user relies on it).
 */
export function parseAccountEvent(event: InboundEvent): AccountEvent {
  const schema =
    event.topic === REGISTERED ? registeredData : event.topic === DELETED ? deletedData : undefined;
  if (!schema) throw new PoisonEventError(`unknown topic ${event.topic}`);
  if (event.type !== eventType(event.topic)) throw new PoisonEventError(`unknown type ${event.type}`);
  const parsed = schema.safeParse(event.data);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join(".") || "(data)"))];
    throw new PoisonEventError(`data does not match ${event.topic}: ${fields.join(", ")}`);
  }
  if (parsed.data.userId !== event.key) throw new PoisonEventError("key is not the data's userId");
  return event.topic === REGISTERED
    ? { kind: "registered", id: event.id, data: parsed.data as Registered }
    : { kind: "deleted", id: event.id, data: parsed.data as Deleted };
}
