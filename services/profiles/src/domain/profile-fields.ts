import { z } from "zod";
import { calendarDate, textLine } from "@mimascota/shared/validation/text";

/** Identity documents the Mi Mascota front end offers: the Uruguayan cédula and a passport. */
export const DOCUMENT_TYPES = ["CI", "Pasaporte"] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

const personName = (max: number) =>
  textLine(max).refine(
    (v) => /^[\p{L}\p{M}][\p{L}\p{M}' .-]*$/u.test(v),
    "must be letters, spaces, ' . or -",
  );

const documentType = z
  .string()
  .trim()
  .transform((v) => DOCUMENT_TYPES.find((type) => type.toLowerCase() === v.toLowerCase()) ?? v)
  .pipe(z.enum(DOCUMENT_TYPES));

/** The document number as written (`1.234.567-8` or `12345678` for a cédula); checked against its type below. */
const documentNumber = z.string().trim().min(1).max(30);

/** A cédula is 6 to 8 digits (dots and the dash before the check digit allowed); a passport 6–20 letters/digits. */
export function normalizeDocument(type: DocumentType, value: string): string | undefined {
  if (type === "CI") {
    const digits = value.replace(/[.\s-]/g, "");
    return /^\d{6,8}$/.test(digits) ? digits : undefined;
  }
  const passport = value.replace(/\s/g, "").toUpperCase();
  return /^[A-Z0-9]{6,20}$/.test(passport) ? passport : undefined;
}

const postalCode = textLine(10).refine(
  (v) => /^[A-Za-z0-9 -]{3,10}$/.test(v),
  "must be 3–10 letters or digits",
);
const houseNumber = textLine(20).refine(
  (v) => /^[\p{L}\p{N} /-]+$/u.test(v),
  "must be letters, digits, / or -",
);

export const ubicationInput = z
  .object({
    department: textLine(100).optional(),
    city: textLine(100).optional(),
    postal_code: postalCode.optional(),
    street: textLine(150).optional(),
    number: houseNumber.optional(),
    apartment: textLine(20).nullable().optional(),
  })
  .strict();

/**
 * What a user may change in their own profile, by the original API's snake_case names. The address comes as
 * `ubication` or as the original's flat fields (not both with different values). `user_id`, `email` and
 * `role` are not here: they come from the account, never from a request body.
 */
export const profileInput = z
  .object({
    name: personName(100).optional(),
    second_name: personName(100).nullable().optional(),
    display_name: textLine(100)
      .refine((v) => v.length >= 2, "must be at least 2 characters")
      .optional(),
    document_type: documentType.optional(),
    document: documentNumber.optional(),
    birth_date: calendarDate.nullable().optional(),
    ubication: ubicationInput.nullable().optional(),
    department: textLine(100).optional(),
    city: textLine(100).optional(),
    postal_code: postalCode.optional(),
    street: textLine(150).optional(),
    number: houseNumber.optional(),
    apartment: textLine(20).nullable().optional(),
  })
  .superRefine((body, ctx) => {
    for (const field of ["department", "city", "postal_code", "street", "number", "apartment"] as const) {
      const flat = body[field];
      const nested = body.ubication?.[field];
      if (flat !== undefined && nested !== undefined && flat !== nested) {
        ctx.addIssue({ code: "custom", path: [field], message: `differs from ubication.${field}` });
      }
    }
    if (body.document !== undefined && body.document_type === undefined) {
      ctx.addIssue({ code: "custom", path: ["document_type"], message: "is required with document" });
    }
    if (body.document !== undefined && body.document_type !== undefined) {
      if (!normalizeDocument(body.document_type, body.document)) {
        const expected = body.document_type === "CI" ? "6 to 8 digits" : "6 to 20 letters or digits";
        ctx.addIssue({ code: "custom", path: ["document"], message: `must be ${expected}` });
      }
    }
  });

export type ProfileInput = z.output<typeof profileInput>;

/** The columns a profile input sets (undefined: left as it is; null: cleared). */
export interface ProfileChanges {
  name?: string;
  secondName?: string | null;
  displayName?: string;
  documentType?: string;
  document?: string;
  birthDate?: string | null;
  department?: string;
  city?: string;
  postalCode?: string;
  street?: string;
  number?: string;
  apartment?: string | null;
}

export function changesOf(input: ProfileInput): ProfileChanges {
  const u = input.ubication ?? undefined;
  const changes: ProfileChanges = {
    name: input.name,
    secondName: input.second_name,
    displayName: input.display_name,
    documentType: input.document_type,
    document:
      input.document !== undefined && input.document_type !== undefined
        ? normalizeDocument(input.document_type, input.document)
        : undefined,
    birthDate: input.birth_date,
    department: input.department ?? u?.department,
    city: input.city ?? u?.city,
    postalCode: input.postal_code ?? u?.postal_code,
    street: input.street ?? u?.street,
    number: input.number ?? u?.number,
    apartment: input.apartment !== undefined ? input.apartment : u?.apartment,
  };
  return Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
}
