import type { Locale } from "@mimascota/shared/i18n/locale";

/** Plain-text content of one mail; the layout escapes every string when it builds the HTML. */
export interface MailContent {
  subject: string;
  heading: string;
  paragraphs: string[];
  action?: { label: string; url: string };
  closing: string;
}

interface Named {
  /** The account's full name, if given at registration. */
  name: string | null;
}

/** The variables each template needs. Links are built by MailLinks from PUBLIC_APP_URL only. */
export interface MailVars {
  "verify-email": Named & { link: string; validHours: number };
  "already-registered": Named & { loginLink: string; resetLink: string };
  "reset-password": Named & { link: string; validMinutes: number };
  "password-changed": Named & { at: Date; resetLink: string };
  "account-locked": Named & { until: Date; resetLink: string };
  "two-factor-enabled": Named & { at: Date; resetLink: string };
  "two-factor-disabled": Named & { at: Date; resetLink: string };
  "account-deleted": Named & { at: Date };
}

export type MailTemplate = keyof MailVars;

export type MailCopy = { [T in MailTemplate]: (vars: MailVars[T], when: (d: Date) => string) => MailContent };

export function formatWhen(locale: Locale, date: Date): string {
  const formatted = new Intl.DateTimeFormat(locale === "es" ? "es-ES" : "en-GB", {
    dateStyle: "long",
    timeStyle: "short",
    timeZone: "UTC",
  }).format(date);
  return `${formatted} UTC`;
}
