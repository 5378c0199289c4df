import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { pino } from "pino";
import { ManualClock } from "../../src/clock.ts";
import { mailQueue } from "../../src/db/infra-schema.ts";
import { enqueueMail } from "../../src/mail/mail-queue.ts";
import { MailWorker } from "../../src/mail/mail-worker.ts";
import { SmtpTransport } from "../../src/mail/smtp-transport.ts";
import { skipUnlessPrograms } from "../../src/testing/services.ts";
import { TestSmtpServer } from "../../src/testing/smtp-server.ts";
import { infraDatabase, skipUnlessDatabase } from "../support/infra-database.ts";

const logger = pino({ level: "silent" });
const FROM = "Mi Mascota <no-reply@mimascota.test>";
const CREDENTIALS = { user: "mailer", pass: "s3cret:with@odd/chars" };

/** A throw-away self-signed certificate for 127.0.0.1, made with openssl. */
async function selfSigned(): Promise<{ key: string; cert: string }> {
  const dir = mkdtempSync(join(tmpdir(), "mm-smtp-tls-"));
  try {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    await promisify(execFile)("openssl", [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
      ...["-addext", "subjectAltName=IP:127.0.0.1"],
    ]);
    return { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What production runs: implicit TLS (smtps, port 465 style) and AUTH with the credentials in SMTP_URL. The
 * server's certificate is verified (trusted through the transport's `ca`), and wrong credentials leave the
 * mail pending for a retry, never lost.
 */
describe(
  "mail delivery over SMTP with TLS and AUTH (real PostgreSQL)",
  { skip: (await skipUnlessDatabase("postgres")) || (await skipUnlessPrograms(["openssl", "version"])) },
  () => {
    const handle = infraDatabase("postgres", "smtp-tls-auth", mailQueue);
    let smtp: TestSmtpServer;
    let tls: { key: string; cert: string };
    before(async () => {
      tls = await selfSigned();
      smtp = await TestSmtpServer.start({ tls, auth: CREDENTIALS });
    });
    after(() => smtp.close());

    const queue = (subject: string) =>
      handle.db.transaction((tx) =>
        enqueueMail(tx, {
          template: "verify-email",
          to: "ana@example.com",
          subject,
          text: `Hola, verify at https://app.example/verify?token=${subject}`,
          html: `<p>Hola</p>`,
        }),
      );
    const status = async (id: string) =>
      (await handle.db.select().from(mailQueue).where(eq(mailQueue.id, id)))[0]!;

    /** Queues one mail and runs one pass of a worker over `transport`, which is closed afterwards. */
    async function attempt(transport: SmtpTransport, subject: string) {
      try {
        const worker = new MailWorker({
          db: handle.db,
          transport,
          logger,
          clock: new ManualClock(new Date()),
        });
        const id = await queue(subject);
        return { outcome: await worker.processDue(), row: await status(id) };
      } finally {
        await transport.close();
      }
    }

    it("delivers over TLS with the credentials of the URL, the server's certificate verified", async () => {
      assert.match(smtp.url, /^smtps:\/\/mailer:s3cret%3Awith%40odd%2Fchars@127\.0\.0\.1:\d+$/);
      const { outcome, row } = await attempt(
        new SmtpTransport({ url: smtp.url, from: FROM, ca: tls.cert }),
        "tls-auth",
      );
      assert.deepEqual(outcome, { claimed: 1, sent: 1, retrying: 0, dead: 0 });
      assert.equal(row.status, "sent");
      const mail = await smtp.waitForMail((m) => m.subject === "tls-auth", 10_000);
      assert.deepEqual(mail.to, ["ana@example.com"]);
    });

    it("keeps the mail pending, to retry, when the credentials are refused or the certificate is not trusted", async () => {
      const wrong = new URL(smtp.url);
      wrong.password = "not-the-password";
      const cases = [
        {
          transport: new SmtpTransport({ url: wrong.toString(), from: FROM, ca: tls.cert }),
          error: /535|auth/i,
        },
        { transport: new SmtpTransport({ url: smtp.url, from: FROM }), error: /certificate|self.signed/i },
      ];
      for (const { transport, error } of cases) {
        const { outcome, row } = await attempt(transport, `refused-${error.source}`);
        assert.deepEqual(outcome, { claimed: 1, sent: 0, retrying: 1, dead: 0 });
        assert.equal(row.status, "pending");
        assert.match(row.lastError ?? "", error);
        assert.ok(!(row.lastError ?? "").includes(CREDENTIALS.pass), "no password in the stored error");
      }
      assert.equal(smtp.received.filter((m) => m.subject.startsWith("refused-")).length, 0);
    });
  },
);
