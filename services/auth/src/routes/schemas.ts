import { z } from "zod";
import { createSchemaRegistry } from "@mimascota/shared/openapi/swagger-options";

/** The auth service's named OpenAPI schemas (`components.schemas`), so generated clients get named types. */
export const openapiSchemas = createSchemaRegistry();

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Emails are compared in one canonical form everywhere: trimmed and lower-cased. Control characters (CRLF
 * header injection) and over-long parts are refused before anything else sees them.
 */
export const emailSchema = z
  .string()
  .max(1024)
  .refine((v) => !CONTROL.test(v), "must not contain control characters")
  .transform((v) => v.trim().toLowerCase())
  .pipe(
    z
      .string()
      .max(254, "must be at most 254 characters")
      .refine((v) => (v.split("@")[0] ?? "").length <= 64, "local part must be at most 64 characters")
      .pipe(z.email("must be a valid email address")),
  );

/** Length and policy are checked by the password policy, which names the reason; this only bounds the input. */
export const passwordInputSchema = z.string().min(1).max(1024);

export const localeSchema = z.enum(["es", "en"]);

export const messageResponse = z.object({
  message: z.string().describe("For people, in the caller's language (Spanish by default)"),
});
openapiSchemas.add(messageResponse, { id: "Message" });

export const userResponse = z.object({
  id: z.uuid(),
  email: z.string(),
  fullName: z.string().nullable(),
  emailVerified: z.boolean(),
  twoFactorEnabled: z.boolean(),
  createdAt: z.string().describe("ISO-8601 UTC"),
});
openapiSchemas.add(userResponse, {
  id: "User",
  example: {
    id: "0b8e2c1a-4f3d-4e5a-9b7c-6d5e4f3a2b1c",
    email: "ana@example.com",
    fullName: "Ana Pérez",
    emailVerified: true,
    twoFactorEnabled: false,
    createdAt: "2026-01-15T10:30:00.000Z",
  },
});
