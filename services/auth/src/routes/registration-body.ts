import { z } from "zod";
import { calendarDate } from "@mimascota/shared/validation/text";
import type { Role } from "../domain/role.ts";
import type { RegistrationInput } from "../services/registration.service.ts";
import { emailSchema, localeSchema, passwordInputSchema } from "./schemas.ts";

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((v) => !CONTROL.test(v), "must not contain control characters");

/** The birth date of the original registration: `dd/MM/yyyy` or ISO, returned as ISO. */
export const birthDateSchema = calendarDate;

const ubicationSchema = z.object({
  department: text(100),
  city: text(100),
  postalCode: text(20),
  street: text(150),
  number: text(20),
  apartment: text(20).nullish(),
});

/**
 * The original Mi Mascota API's registration, as its React front end sends it: the account and the person's
 * profile in `baseUser`, the birth date in `client`. Everything but the account reaches the profile service
 * through `user.registered.v1`; none of it is logged.
 */
const baseUserSchema = z.object({
  name: text(100),
  secondName: text(100).nullish(),
  email: emailSchema,
  password: passwordInputSchema,
  documentType: text(20).optional(),
  document: text(30).optional(),
  ubication: ubicationSchema.optional(),
});

const roleSchema = z.enum(["client", "provider"]);

/**
 * Registration accepts the canonical flat body (`email`, `password`, `fullName?`, `locale?`) and, beside it,
 * the original API's nested one; a field given in both spellings with different values is a 400. Unknown
 * fields (e.g. `emailVerified: true`) are stripped by zod and never reach a service.
 */
export const registerBody = z
  .object({
    email: emailSchema.optional(),
    password: passwordInputSchema.optional(),
    fullName: text(100).nullish(),
    locale: localeSchema.optional(),
    role: roleSchema.optional(),
    baseUser: baseUserSchema.optional(),
    client: z.object({ birthDate: birthDateSchema }).optional(),
  })
  .superRefine((body, ctx) => {
    const nested = body.baseUser;
    const same = (field: "email" | "password", canonical: string | undefined, alias: string | undefined) => {
      if (canonical !== undefined && alias !== undefined && canonical !== alias) {
        ctx.addIssue({ code: "custom", path: ["baseUser", field], message: `differs from ${field}` });
      }
      if (canonical === undefined && alias === undefined) {
        ctx.addIssue({ code: "custom", path: [field], message: "is required" });
      }
    };
    same("email", body.email, nested?.email);
    same("password", body.password, nested?.password);
    if (nested && body.fullName != null && body.fullName !== joinName(nested)) {
      ctx.addIssue({ code: "custom", path: ["baseUser", "name"], message: "differs from fullName" });
    }
  });

export type RegisterBody = z.output<typeof registerBody>;

function joinName(user: { name: string; secondName?: string | null | undefined }): string {
  return [user.name, user.secondName].filter((part) => part).join(" ");
}

/** The service's input from either spelling (the schema has made sure the two agree). */
export function registrationInput(body: RegisterBody, fallbackLocale: "es" | "en"): RegistrationInput {
  const nested = body.baseUser;
  const role: Role = body.role ?? "client";
  return {
    email: (body.email ?? nested?.email)!,
    password: (body.password ?? nested?.password)!,
    fullName: body.fullName ?? (nested ? joinName(nested) : null),
    locale: body.locale ?? fallbackLocale,
    role,
    profile: nested
      ? {
          name: nested.name,
          secondName: nested.secondName ?? null,
          documentType: nested.documentType ?? null,
          document: nested.document ?? null,
          birthDate: body.client?.birthDate ?? null,
          ubication: nested.ubication
            ? { ...nested.ubication, apartment: nested.ubication.apartment ?? null }
            : null,
        }
      : body.client
        ? {
            name: null,
            secondName: null,
            documentType: null,
            document: null,
            birthDate: body.client.birthDate,
            ubication: null,
          }
        : null,
  };
}
