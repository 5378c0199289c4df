import { z } from "zod";
import { createSchemaRegistry } from "@mimascota/shared/openapi/swagger-options";
import { PhotoService } from "../services/photo.service.ts";
import type { Profile } from "../services/profile.service.ts";

const nullableText = z.string().nullable();

const ubication = z.object({
  department: nullableText,
  city: nullableText,
  postal_code: nullableText,
  street: nullableText,
  number: nullableText,
  apartment: nullableText,
});

/**
 * A profile as the original API returned it (snake_case), with the address both nested as `ubication` and
 * flat as the original's columns (its front end reads either).
 */
export const profileResponse = z
  .object({
    id: z.uuid(),
    user_id: z.string(),
    email: nullableText,
    name: nullableText,
    second_name: nullableText,
    display_name: nullableText,
    role: z.enum(["client", "provider"]),
    photo_url: nullableText.describe("Served through the gateway; cacheable, changes when the photo does"),
    document_type: nullableText,
    document: nullableText,
    birth_date: nullableText.describe("yyyy-MM-dd"),
    ubication: ubication.nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .extend(ubication.shape)
  .describe("A profile");

/** The profile service's named OpenAPI schemas (`components.schemas`), so generated clients get named types. */
export const openapiSchemas = createSchemaRegistry();
openapiSchemas.add(profileResponse, { id: "Profile" });

export type ProfileResponse = z.infer<typeof profileResponse>;

/** The public URL of a stored photo: through the gateway, built from the configured public base. */
export function photoUrl(publicApiUrl: string, key: string): string {
  return new URL(`/api/v1/profiles/photos/${PhotoService.fileOf(key)}`, publicApiUrl).toString();
}

export function toProfileResponse(row: Profile, publicApiUrl: string): ProfileResponse {
  const address = {
    department: row.department,
    city: row.city,
    postal_code: row.postalCode,
    street: row.street,
    number: row.number,
    apartment: row.apartment,
  };
  return {
    id: row.id,
    user_id: row.userId,
    email: row.email,
    name: row.name,
    second_name: row.secondName,
    display_name: row.displayName ?? ([row.name, row.secondName].filter(Boolean).join(" ") || null),
    role: row.role,
    photo_url: row.photoKey ? photoUrl(publicApiUrl, row.photoKey) : null,
    document_type: row.documentType,
    document: row.document,
    birth_date: row.birthDate,
    ubication: Object.values(address).some((v) => v !== null) ? address : null,
    ...address,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
