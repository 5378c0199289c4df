import { createHash } from "node:crypto";
import type { PageCopy } from "../i18n/pages.ts";
import { escapeHtml } from "../mail/render-mail.ts";

/**
 * The account pages (reset and forgot password): plain HTML forms that work without JavaScript, with one
 * inline stylesheet allowed by its hash and nothing else (no script, no image, no third-party asset), so the
 * strict Content-Security-Policy below leaves an injected tag nothing to do.
 */
const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f3f6fb;color:#1f2937}
main{max-width:26rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 2px 12px #0001}
h1{font-size:1.4rem;margin:0 0 .5rem}label{display:block;margin:1rem 0 .25rem;font-weight:600}
input{box-sizing:border-box;width:100%;padding:.6rem;border:1px solid #cbd5e1;border-radius:8px;font:inherit}
button,.button{display:inline-block;margin-top:1.25rem;padding:.7rem 1.2rem;border:0;border-radius:8px;
background:#3b82f6;color:#fff;font:inherit;font-weight:600;text-decoration:none;cursor:pointer}
.error{margin:1rem 0 0;padding:.6rem .8rem;border-radius:8px;background:#fee2e2;color:#991b1b}
.lang{float:right;font-size:.9rem}`;

const styleHash = createHash("sha256").update(STYLE).digest("base64");

/** Only this page's own stylesheet, and forms posting back here; nothing may frame it or leak the link. */
export const PAGE_HEADERS = {
  "content-security-policy":
    `default-src 'none'; style-src 'sha256-${styleHash}'; form-action 'self'; ` +
    "frame-ancestors 'none'; base-uri 'none'",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-store",
} as const;

export interface PageParts {
  copy: PageCopy;
  title: string;
  /** Where the language switch points (this page, in the other language). */
  otherLanguageHref: string;
  body: string;
}

export function renderPage({ copy, title, otherLanguageHref, body }: PageParts): string {
  return `<!doctype html>
<html lang="${copy.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ${copy.product}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<a class="lang" href="${escapeHtml(otherLanguageHref)}" hreflang="${copy.other.locale}">${copy.other.label}</a>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

export const paragraph = (text: string) => `<p>${escapeHtml(text)}</p>`;
export const errorBox = (text: string) => `<p class="error" role="alert">${escapeHtml(text)}</p>`;
export const buttonLink = (href: string, text: string) =>
  `<a class="button" href="${escapeHtml(href)}">${escapeHtml(text)}</a>`;
export const hidden = (name: string, value: string) =>
  `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
