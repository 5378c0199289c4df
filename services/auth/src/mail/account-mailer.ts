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

  /**
   * The account's name is printed only in mails to an address that has been verified: whoever registers an
   * address chooses the name, and must not get to put their words (a URL, which mail clients turn into a
   * link) at the top of a mail to someone else's inbox. A recipient whose verification is not known counts as
   * unverified.
   */
  async queue<T extends MailTemplate>(
    tx: Executor,
    to: { email: string; locale: Locale; emailVerifiedAt?: Date | null },
    template: T,
    vars: MailVars[T],
  ): Promise<void> {
    const named = to.emailVerifiedAt ? vars : { ...vars, name: null };
    const mail = renderMail(template, to.locale, named);
    await enqueueMail(tx, { template, to: to.email, ...mail });
  }
}
