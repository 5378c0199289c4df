import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { systemClock, type Clock } from "../clock.ts";
import type { MailMessage, MailTransport } from "./mail-transport.ts";

/** One mail as the dev mailbox stores it; the gateway's `/_dev/mail` page reads exactly this shape. */
export interface DevMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  createdAt: string;
}

const LINK = /https?:\/\/[^\s<>"')\]]+/g;

/**
 * The embedded mode's transport: each mail becomes `<dataDir>/mail/<time>-<id>.json` and one console line
 * with its links, so a developer can follow a verification link without any mail server.
 */
export class DevMailbox implements MailTransport {
  readonly kind = "dev-mailbox";
  readonly #folder: string;
  readonly #logger: Logger;
  readonly #clock: Clock;

  constructor(options: { dataDir: string; logger: Logger; clock?: Clock }) {
    this.#folder = join(options.dataDir, "mail");
    this.#logger = options.logger.child({ component: "dev-mailbox" });
    this.#clock = options.clock ?? systemClock;
  }

  async send(message: MailMessage): Promise<void> {
    const createdAt = this.#clock.now().toISOString();
    const mail: DevMail = {
      id: message.id,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      createdAt,
    };
    await mkdir(this.#folder, { recursive: true });
    // `:` is not allowed in Windows file names. A retried mail keeps its id but gets a new time, so a
    // duplicate send shows up as a second file rather than silently overwriting the first.
    const file = join(this.#folder, `${createdAt.replaceAll(":", "-")}-${safeName(message.id)}.json`);
    await writeFile(file, `${JSON.stringify(mail, null, 2)}\n`);
    const links = linksIn(message.text);
    this.#logger.info({ to: message.to, subject: message.subject, links, file }, "dev mailbox: mail saved");
  }

  async close(): Promise<void> {}
}

/** The mails in `<dataDir>/mail`, newest first; unreadable or malformed files are skipped. */
export async function listDevMail(dataDir: string, limit: number): Promise<DevMail[]> {
  const folder = join(dataDir, "mail");
  let names: string[];
  try {
    names = (await readdir(folder)).filter((name) => name.endsWith(".json"));
  } catch {
    return [];
  }
  const mails = await Promise.all(names.map((name) => readDevMail(join(folder, name))));
  return mails
    .filter((mail): mail is DevMail => mail !== undefined)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .slice(0, limit);
}

async function readDevMail(file: string): Promise<DevMail | undefined> {
  try {
    const mail = JSON.parse(await readFile(file, "utf8")) as Partial<Record<keyof DevMail, unknown>>;
    if (typeof mail.createdAt !== "string") return undefined;
    return {
      id: str(mail.id),
      to: str(mail.to),
      subject: str(mail.subject),
      text: str(mail.text),
      html: str(mail.html),
      createdAt: mail.createdAt,
    };
  } catch {
    return undefined;
  }
}

/** The http(s) links of a text, without the punctuation that ends the sentence around them. */
function linksIn(text: string): string[] {
  return [...new Set((text.match(LINK) ?? []).map((link) => link.replace(/[.,;:!?]+$/, "")))];
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function safeName(id: string): string {
  return /^[A-Za-z0-9-]{1,64}$/.test(id) ? id : randomUUID();
}
