import nodemailer, { type Transporter } from "nodemailer";
import type { MailMessage, MailTransport } from "./mail-transport.ts";

export interface SmtpTransportOptions {
  /** smtp://user:pass@host:port or smtps://… (implicit TLS). */
  url: string;
  /** The From header, e.g. `Mi Mascota <no-reply@mimascota.example>`. */
  from: string;
  maxConnections?: number;
  /**
   * Certificate authorities to trust for the server's TLS certificate besides the system's (a relay with a
   * private CA). Processes usually get the same with NODE_EXTRA_CA_CERTS.
   */
  ca?: string;
}

/**
 * Sends over SMTP with a small connection pool. The timeouts are short on purpose: during an outage a send
 * should fail within seconds, and the mail worker retries later, rather than hold a worker for minutes.
 */
export class SmtpTransport implements MailTransport {
  readonly kind = "smtp";
  readonly #transporter: Transporter;
  readonly #from: string;
  readonly #messageIdDomain: string;

  constructor(options: SmtpTransportOptions) {
    this.#from = options.from;
    this.#messageIdDomain = domainOf(options.from);
    this.#transporter = nodemailer.createTransport({
      url: options.url,
      pool: true,
      maxConnections: options.maxConnections ?? 2,
      connectionTimeout: 5_000,
      greetingTimeout: 5_000,
      socketTimeout: 20_000,
      ...(options.ca === undefined ? {} : { tls: { ca: options.ca } }),
    });
  }

  async send(message: MailMessage): Promise<void> {
    await this.#transporter.sendMail({
      from: this.#from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      // The queue row id, so a duplicate after a crash between send and mark is recognisable.
      messageId: `<${message.id}@${this.#messageIdDomain}>`,
    });
  }

  async close(): Promise<void> {
    this.#transporter.close();
  }
}

function domainOf(from: string): string {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from.trim());
  return match?.[1] ?? "mimascota.local";
}
