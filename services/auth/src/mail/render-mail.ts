import { copyEn } from "./copy.en.ts";
import { copyEs } from "./copy.es.ts";
import { formatWhen, type MailContent, type MailTemplate, type MailVars } from "./mail-content.ts";

export type Locale = "es" | "en";
export type { MailTemplate, MailVars } from "./mail-content.ts";

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const copies = { es: copyEs, en: copyEn } as const;

/** One template in one language, as a text part and an HTML part with every interpolated value escaped. */
export function renderMail<T extends MailTemplate>(
  template: T,
  locale: Locale,
  vars: MailVars[T],
): RenderedMail {
  const copy = copies[locale][template] as (v: MailVars[T], when: (d: Date) => string) => MailContent;
  const content = copy(vars, (date) => formatWhen(locale, date));
  return { subject: content.subject, text: toText(content), html: toHtml(content, locale) };
}

function toText(c: MailContent): string {
  const action = c.action ? [`${c.action.label}: ${c.action.url}`] : [];
  return [c.heading, ...c.paragraphs, ...action, c.closing].join("\n\n") + "\n";
}

function toHtml(c: MailContent, locale: Locale): string {
  const paragraphs = c.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join("\n");
  const action = c.action
    ? `<p><a href="${escapeHtml(c.action.url)}" style="display:inline-block;padding:10px 18px;background:#2f6f4f;color:#ffffff;text-decoration:none;border-radius:4px">${escapeHtml(c.action.label)}</a></p>\n<p style="font-size:12px;color:#555555">${escapeHtml(c.action.url)}</p>`
    : "";
  return `<!doctype html>
<html lang="${locale}">
<head><meta charset="utf-8"><title>${escapeHtml(c.subject)}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;color:#222222;max-width:560px;margin:0 auto;padding:16px">
<p>${escapeHtml(c.heading)}</p>
${paragraphs}
${action}
<p>${escapeHtml(c.closing)}</p>
</body>
</html>
`;
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => ENTITIES[ch] ?? ch);
}
