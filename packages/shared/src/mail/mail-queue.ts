import { randomUUID } from "node:crypto";
import type { Executor } from "../db/database.ts";
import { mailQueue } from "../db/infra-schema.ts";
import { recordEnqueued } from "../db/unit-of-work.ts";

export interface OutgoingMail {
  /** What kind of mail (e.g. `verify-email`), for metrics and logs that must not read the body. */
  template: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Queues a mail in the caller's transaction. The request never waits for SMTP: the worker delivers it with
 * retries, so an SMTP outage delays mail but never loses it or fails the request.
 */
export async function enqueueMail(tx: Executor, mail: OutgoingMail): Promise<string> {
  const id = randomUUID();
  recordEnqueued(tx, "mail");
  await tx.insert(mailQueue).values({
    id,
    template: mail.template,
    toAddress: mail.to,
    subject: mail.subject,
    textBody: mail.text,
    htmlBody: mail.html,
  });
  return id;
}
