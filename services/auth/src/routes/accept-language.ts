type Locale = "es" | "en";

/**
 * The first supported language in an Accept-Language header, by q-value (RFC 9110 §12.5.4); Spanish when the
 * header names neither.
 */
export function localeFromAcceptLanguage(header: string | undefined): Locale {
  if (!header) return "es";
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
  return "es";
}
