import { z } from "zod";

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/**
 * A line of text people type (a name, a street): Unicode NFC (so "José" typed two ways is one value), trimmed,
 * 1 to `max` characters, and free of control and bidirectional-override characters (which can make a name
 * display as something else).
 */
export const textLine = (max: number) =>
  z
    .string()
    .transform((v) => v.normalize("NFC").trim())
    .pipe(
      z
        .string()
        .min(1)
        .max(max)
        .refine((v) => !CONTROL.test(v), "must not contain control characters"),
    );

/**
 * A calendar day as `dd/MM/yyyy` (what the original front end sends) or ISO `yyyy-MM-dd`: a real day of the
 * calendar from 1900 on, returned as ISO.
 */
export const calendarDate = z
  .string()
  .trim()
  .max(32)
  .transform((value, ctx) => {
    const match = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(value) ?? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    const [year, month, day] = match
      ? value.includes("/")
        ? [match[3], match[2], match[1]]
        : [match[1], match[2], match[3]]
      : [];
    const date = new Date(`${year}-${month}-${day}T00:00:00Z`);
    const iso = `${year}-${month}-${day}`;
    if (!match || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== iso || iso < "1900") {
      ctx.addIssue({ code: "custom", message: "must be a date as dd/MM/yyyy or yyyy-MM-dd" });
      return z.NEVER;
    }
    return iso;
  });

/** Whole years from an ISO birth date to `today` (UTC calendar days). */
export function ageOn(birthDate: string, today: Date): number {
  const [y, m, d] = birthDate.split("-").map(Number) as [number, number, number];
  const years = today.getUTCFullYear() - y;
  const beforeBirthday =
    today.getUTCMonth() + 1 < m || (today.getUTCMonth() + 1 === m && today.getUTCDate() < d);
  return beforeBirthday ? years - 1 : years;
}
