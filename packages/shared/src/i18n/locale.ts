/** The languages users read: mails, problem details, messages and pages. Spanish unless asked otherwise. */
export type Locale = "es" | "en";
export const LOCALES: readonly Locale[] = ["es", "en"];
export const DEFAULT_LOCALE: Locale = "es";

/**
 * The first supported language in an Accept-Language header, by q-value (RFC 9110 §12.5.4); Spanish when the
 * header names neither.
 */
export function localeFromAcceptLanguage(header: string | string[] | undefined): Locale {
  if (typeof header !== "string" || header === "") return DEFAULT_LOCALE;
  const ranked = header
    .split(",")
    .slice(0, 20)
    .map((part, index) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/i.exec(p)?.[1]).find((v) => v !== undefined);
      return {
        lang: tag.trim().toLowerCase().split("-")[0] ?? "",
        q: q === undefined ? 1 : Number(q),
        index,
      };
    })
    .filter((r) => r.q > 0 && Number.isFinite(r.q))
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { lang } of ranked) if (lang === "es" || lang === "en") return lang;
  return DEFAULT_LOCALE;
}

/** Fills `{name}` placeholders; an unknown name stays as written, so a missing parameter is visible. */
export function fillTemplate(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}
