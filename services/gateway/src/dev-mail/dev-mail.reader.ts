import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

export interface DevMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  createdAt: string;
}

/**
 * The mails the dev mailbox wrote as `<dataDir>/mail/*.json`, newest first. Unreadable or malformed files are
 * skipped: this is a development page, it should show what it can.
 */
export async function listDevMail(dataDir: string, limit: number): Promise<DevMail[]> {
  const folder = join(dataDir, "mail");
  let names: string[];
  try {
    names = (await readdir(folder)).filter((name) => name.endsWith(".json"));
  } catch {
    return [];
  }
  const mails = await Promise.all(
    names.map(async (name) => {
      try {
        const mail = JSON.parse(await readFile(join(folder, name), "utf8")) as Partial<DevMail>;
        if (typeof mail.createdAt !== "string") return undefined;
        return {
          id: String(mail.id ?? name.replace(/\.json$/, "")),
          to: String(mail.to ?? ""),
          subject: String(mail.subject ?? ""),
          text: String(mail.text ?? ""),
          html: String(mail.html ?? ""),
          createdAt: mail.createdAt,
        };
      } catch {
        return undefined;
      }
    }),
  );
  return mails
    .filter((mail): mail is DevMail => mail !== undefined)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .slice(0, limit);
}
