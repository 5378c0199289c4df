import type { Executor } from "@mimascota/shared/db/database";
import { enqueueMail } from "@mimascota/shared/mail/mail-queue";
import { MailLinks, type MailLinkSettings } from "./mail-links.ts";
import { renderMail, type Locale, type MailTemplate, type MailVars } from "./render-mail.ts";

/**
 * Renders a template and queues it in the caller's transaction: the mail commits (or rolls back) with the
 * change it announces, and the worker delivers it with retries.
 */
export class AccountMailer {
  readonly links: MailLinks;

  constructor(links: MailLinkSettings) {
    this.links = new MailLinks(links);
  }

  async queue<T extends MailTemplate>(
    tx: Executor,
    to: { email: string; locale: Locale },
    template: T,
    vars: MailVars[T],
  ): Promise<void> {
    const mail = renderMail(template, to.locale, vars);
    await enqueueMail(tx, { template, to: to.email, ...mail });
  }
}
