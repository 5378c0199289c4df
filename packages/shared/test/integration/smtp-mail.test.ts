import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { pino } from "pino";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase, type DatabaseHandle } from "../../src/db/database.ts";
import { migrateInfra } from "../../src/db/infra-migrations.ts";
import { mailQueue } from "../../src/db/infra-schema.ts";
import { createMailTransport } from "../../src/mail/create-mail-transport.ts";
import { enqueueMail } from "../../src/mail/mail-queue.ts";
import type { MailTransport } from "../../src/mail/mail-transport.ts";
import { MailWorker } from "../../src/mail/mail-worker.ts";
import { createTestDatabase, skipUnless } from "../../src/testing/services.ts";
import { TestSmtpServer, type ReceivedMail } from "../../src/testing/smtp-server.ts";

const logger = pino({ level: "silent" });
const FROM = "Mi Mascota <no-reply@mimascota.test>";

describe(
  "mail delivery over SMTP (real PostgreSQL, in-process SMTP server)",
  { skip: await skipUnless("postgres") },
  () => {
    let database: { url: string; drop: () => Promise<void> };
    let handle: DatabaseHandle;
    let smtp: TestSmtpServer;
    let transport: MailTransport;

    before(async () => {
      database = await createTestDatabase();
      handle = await openDatabase({ url: database.url, dataDir: "unused" });
      await migrateInfra(handle);
      smtp = await TestSmtpServer.start();
      transport = createMailTransport({ smtpUrl: smtp.url, from: FROM, dataDir: "unused", logger });
      assert.equal(transport.kind, "smtp");
    });
    after(async () => {
      await transport.close();
      await smtp.close();
      await handle.close();
      await database.drop();
    });
    beforeEach(async () => {
      await smtp.start();
      smtp.refuse(false);
    });

    function queue(subject: string, to = "ana@example.com"): Promise<string> {
      return handle.db.transaction((tx) =>
        enqueueMail(tx, {
          template: "verify-email",
          to,
          subject,
          text: `Hola, verify at https://app.example/verify?token=${subject}`,
          html: `<p>Hola, <a href="https://app.example/verify?token=${subject}">verify</a></p>`,
        }),
      );
    }

    const withId = (id: string) => (mail: ReceivedMail) => mail.messageId === `<${id}@mimascota.test>`;
    const receivedCount = (id: string) => smtp.received.filter(withId(id)).length;

    async function status(id: string) {
      const [row] = await handle.db.select().from(mailQueue).where(eq(mailQueue.id, id));
      assert.ok(row);
      return row;
    }

    it("delivers a queued mail from the running worker, parsed with its subject, recipient, text and html", async () => {
      const worker = new MailWorker({ db: handle.db, transport, logger, pollIntervalMs: 60_000 });
      worker.start();
      try {
        const id = await queue("welcome");
        worker.poke();
        const mail = await smtp.waitForMail(withId(id), 10_000);
        assert.equal(mail.subject, "welcome");
        assert.deepEqual(mail.to, ["ana@example.com"]);
        assert.equal(mail.from, '"Mi Mascota" <no-reply@mimascota.test>');
        assert.equal(mail.text.trim(), "Hola, verify at https://app.example/verify?token=welcome");
        assert.equal(mail.html, '<p>Hola, <a href="https://app.example/verify?token=welcome">verify</a></p>');
      } finally {
        await worker.stop();
      }
    });

    it("keeps a mail pending while the SMTP server is down and delivers it exactly once when it is back", async () => {
      const clock = new ManualClock(new Date());
      const worker = new MailWorker({ db: handle.db, transport, logger, clock, random: () => 0 });
      await smtp.stop();
      const id = await queue("during-outage");

      assert.deepEqual(await worker.processDue(), { claimed: 1, sent: 0, retrying: 1, dead: 0 });
      clock.advance(5_000);
      assert.deepEqual(await worker.processDue(), { claimed: 1, sent: 0, retrying: 1, dead: 0 });
      const pending = await status(id);
      assert.equal(pending.status, "pending");
      assert.equal(pending.attempts, 2);
      assert.match(pending.lastError ?? "", /ECONNREFUSED/);
      assert.equal(receivedCount(id), 0);

      await smtp.start();
      assert.equal((await worker.processDue()).claimed, 0, "the retry waits for its backoff");
      clock.advance(10_000);
      assert.deepEqual(await worker.processDue(), { claimed: 1, sent: 1, retrying: 0, dead: 0 });
      await smtp.waitForMail(withId(id), 5_000);

      clock.advance(3_600_000);
      assert.equal((await worker.processDue()).claimed, 0);
      const sent = await status(id);
      assert.equal(sent.status, "sent");
      assert.equal(sent.attempts, 3);
      assert.equal(receivedCount(id), 1);
      assert.deepEqual(
        [pending.textBody.length > 0, sent.textBody, sent.htmlBody],
        [true, "", ""],
        "kept until delivered, then dropped: a body may hold a single-use link",
      );
    });

    it("retries a mail the server answered with a temporary failure (451) and delivers it once accepted", async () => {
      const clock = new ManualClock(new Date());
      const worker = new MailWorker({ db: handle.db, transport, logger, clock, random: () => 0 });
      smtp.refuse(true);
      const id = await queue("refused-once");
      assert.equal((await worker.processDue()).retrying, 1);
      assert.match((await status(id)).lastError ?? "", /451/);

      smtp.refuse(false);
      clock.advance(5_000);
      assert.equal((await worker.processDue()).sent, 1);
      await smtp.waitForMail(withId(id), 5_000);
      assert.equal(receivedCount(id), 1);
    });

    it("delivers each of 20 mails exactly once when two workers run side by side", async () => {
      const ids = await Promise.all(
        Array.from({ length: 20 }, (_, i) => queue(`parallel-${i}`, `u${i}@example.com`)),
      );
      const workers = [1, 2].map(() => new MailWorker({ db: handle.db, transport, logger, batchSize: 3 }));
      const drain = async (worker: MailWorker): Promise<number> => {
        let sent = 0;
        for (;;) {
          const result = await worker.processDue();
          if (result.claimed === 0) return sent;
          sent += result.sent;
        }
      };
      const sentBy = await Promise.all(workers.map(drain));
      assert.equal(sentBy[0]! + sentBy[1]!, 20);
      await Promise.all(ids.map((id) => smtp.waitForMail(withId(id), 5_000)));
      assert.deepEqual(
        ids.map(receivedCount),
        ids.map(() => 1),
      );
    });
  },
);
