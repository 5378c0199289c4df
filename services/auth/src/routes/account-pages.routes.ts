import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { AppError } from "@mimascota/shared/errors";
import { localeFromAcceptLanguage, type Locale } from "@mimascota/shared/i18n/locale";
import { message } from "../i18n/messages.ts";
import { pageCopy } from "../i18n/pages.ts";
import { escapeHtml } from "../mail/render-mail.ts";
import { buttonLink, errorBox, hidden, PAGE_HEADERS, paragraph, renderPage } from "../pages/account-page.ts";
import type { PasswordService } from "../services/password.service.ts";
import { emailSchema } from "./schemas.ts";

export interface AccountPageDeps {
  passwords: PasswordService;
  /** Where "go to the app" leads after a reset: the sign-in page the mails link to (`MailLinks.login`). */
  loginUrl: string;
}

const RESET = "/account/reset-password";
const FORGOT = "/account/forgot-password";

const langSchema = z.enum(["es", "en"]).optional().catch(undefined);
const resetQuery = z.object({ token: z.string().max(256).optional().catch(undefined), lang: langSchema });
const resetForm = z.object({
  token: z.string().max(256).catch(""),
  password: z.string().max(1024).catch(""),
  confirm: z.string().max(1024).catch(""),
  lang: langSchema,
});
const forgotForm = z.object({ email: z.string().max(1024).catch(""), lang: langSchema });

/**
 * The password pages this backend serves for clients without their own (the original front end has none): the
 * reset mail's link opens `/account/reset-password`, and the other mails' "reset your password" links open
 * `/account/forgot-password`. Plain forms, posted back as `application/x-www-form-urlencoded`, answered with the
 * next page; the same rules and texts as the API, in Spanish or English (`lang`, else Accept-Language).
 */
export function registerAccountPageRoutes(app: FastifyInstance, deps: AccountPageDeps): void {
  // Encapsulated: form bodies are accepted by these pages only, every JSON endpoint still answers 415.
  void app.register(async (pages) => {
    pages.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string", bodyLimit: 8 * 1024 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    const hide = { schema: { hide: true } };

    pages.get(RESET, hide, async (request, reply) => {
      const query = resetQuery.parse(request.query ?? {});
      const locale = localeOf(request, query.lang);
      const usable = query.token ? await deps.passwords.resetLinkUsable(query.token) : false;
      return send(reply, usable ? resetFormPage(locale, query.token!) : usedPage(locale), usable ? 200 : 400);
    });

    pages.post(RESET, hide, async (request, reply) => {
      const form = resetForm.parse(request.body ?? {});
      const locale = localeOf(request, form.lang);
      if (form.password !== form.confirm) {
        return send(reply, resetFormPage(locale, form.token, pageCopy[locale].mismatch), 400);
      }
      try {
        await deps.passwords.reset(form.token, form.password);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        if (error.code === "WEAK_PASSWORD") {
          return send(reply, resetFormPage(locale, form.token, error.text(locale).detail), 400);
        }
        if (error.code === "INVALID_TOKEN") return send(reply, usedPage(locale), 400);
        throw error;
      }
      return send(reply, donePage(locale, deps.loginUrl), 200);
    });

    pages.get(FORGOT, hide, async (request, reply) => {
      const query = z.object({ lang: langSchema }).parse(request.query ?? {});
      return send(reply, forgotFormPage(localeOf(request, query.lang)), 200);
    });

    pages.post(FORGOT, hide, async (request, reply) => {
      const form = forgotForm.parse(request.body ?? {});
      const locale = localeOf(request, form.lang);
      const email = emailSchema.safeParse(form.email);
      if (!email.success) {
        return send(reply, forgotFormPage(locale, pageCopy[locale].invalidEmail), 400);
      }
      await deps.passwords.forgot(email.data);
      return send(reply, sentPage(locale), 200);
    });
  });
}

function localeOf(request: FastifyRequest, lang: Locale | undefined): Locale {
  return lang ?? localeFromAcceptLanguage(request.headers["accept-language"]);
}

function send(reply: FastifyReply, html: string, status: number): FastifyReply {
  return reply.status(status).headers(PAGE_HEADERS).type("text/html; charset=utf-8").send(html);
}

const switchTo = (path: string, locale: Locale, query: Record<string, string> = {}) =>
  `${path.split("/").pop()}?${new URLSearchParams({ ...query, lang: pageCopy[locale].other.locale }).toString()}`;

function resetFormPage(locale: Locale, token: string, error?: string): string {
  const copy = pageCopy[locale];
  return renderPage({
    copy,
    title: copy.resetTitle,
    otherLanguageHref: switchTo(RESET, locale, { token }),
    body: `${paragraph(copy.resetIntro)}${error ? errorBox(error) : ""}
<form method="post" action="reset-password">
${hidden("token", token)}${hidden("lang", locale)}
<label for="password">${escapeHtml(copy.newPassword)}</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="12" maxlength="128">
<label for="confirm">${escapeHtml(copy.confirmPassword)}</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required minlength="12" maxlength="128">
<button type="submit">${escapeHtml(copy.resetSubmit)}</button>
</form>`,
  });
}

function usedPage(locale: Locale): string {
  const copy = pageCopy[locale];
  return renderPage({
    copy,
    title: copy.usedTitle,
    otherLanguageHref: switchTo(RESET, locale),
    body: `${paragraph(copy.usedText)}${buttonLink(`forgot-password?lang=${locale}`, copy.askAgain)}`,
  });
}

function donePage(locale: Locale, loginUrl: string): string {
  const copy = pageCopy[locale];
  return renderPage({
    copy,
    title: copy.doneTitle,
    otherLanguageHref: switchTo(RESET, locale),
    body: `${paragraph(copy.doneText)}${buttonLink(loginUrl, copy.toApp)}`,
  });
}

function forgotFormPage(locale: Locale, error?: string): string {
  const copy = pageCopy[locale];
  return renderPage({
    copy,
    title: copy.forgotTitle,
    otherLanguageHref: switchTo(FORGOT, locale),
    body: `${paragraph(copy.forgotIntro)}${error ? errorBox(error) : ""}
<form method="post" action="forgot-password">
${hidden("lang", locale)}
<label for="email">${escapeHtml(copy.email)}</label>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="254">
<button type="submit">${escapeHtml(copy.forgotSubmit)}</button>
</form>`,
  });
}

function sentPage(locale: Locale): string {
  const copy = pageCopy[locale];
  return renderPage({
    copy,
    title: copy.sentTitle,
    otherLanguageHref: switchTo(FORGOT, locale),
    body: paragraph(message(locale, "forgot")),
  });
}
