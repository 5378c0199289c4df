export interface MailMessage {
  /** The queue row id, also sent as the Message-ID's local part so a retried send is recognisable. */
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** SMTP in production, the dev mailbox (files under the data folder) in embedded mode. */
export interface MailTransport {
  readonly kind: "smtp" | "dev-mailbox";
  send(message: MailMessage): Promise<void>;
  close(): Promise<void>;
}
