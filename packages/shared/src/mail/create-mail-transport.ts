import type { Logger } from "pino";
import type { Clock } from "../clock.ts";
import { DevMailbox } from "./dev-mailbox.ts";
import type { MailTransport } from "./mail-transport.ts";
import { SmtpTransport } from "./smtp-transport.ts";

export interface MailTransportOptions {
  /** SMTP_URL; unset means the dev mailbox under `dataDir`. */
  smtpUrl?: string | undefined;
  from: string;
  dataDir: string;
  logger: Logger;
  clock?: Clock;
}

export function createMailTransport(options: MailTransportOptions): MailTransport {
  if (options.smtpUrl) return new SmtpTransport({ url: options.smtpUrl, from: options.from });
  return new DevMailbox({
    dataDir: options.dataDir,
    logger: options.logger,
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
