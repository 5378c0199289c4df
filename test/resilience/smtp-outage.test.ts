import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { createTestDatabase, skipUnless, uniquePrefix } from "@mimascota/shared/testing/services";
import { TestSmtpServer } from "@mimascota/shared/testing/smtp-server";
import { STRONG_PASSWORD } from "../../services/auth/test/support/account-helpers.ts";
import { register, registerAll } from "./support/account-client.ts";
import { migrateDatabase, startInProcessAuth, type InProcessAuth } from "./support/auth-service.ts";
import { until } from "./support/processes.ts";

interface QueueRow {
  id: string;
  to_address: string;
  template: string;
  status: string;
  attempts: number;
  last_error: string | null;
}

/**
 * The durable mail queue under an SMTP outage: the auth service (composed as in production, its mail worker
 * on the default retry schedule) keeps answering while its SMTP server is down, and once the server is back
 * on the same port every queued mail arrives exactly once.
 */
describe("SMTP down while mails are queued", { skip: await skipUnless("postgres") }, () => {
  let smtp: TestSmtpServer | undefined;
  let database: { url: string; drop: () => Promise<void> } | undefined;
  let auth: InProcessAuth | undefined;
  let sql: pg.Client | undefined;
  const prefix = uniquePrefix("smtp-outage");
  const first = `${prefix}-first@example.com`;

  before(async () => {
    smtp = await TestSmtpServer.start();
    database = await createTestDatabase();
    await migrateDatabase(database.url);
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    auth = await startInProcessAuth({ DATABASE_URL: database.url, SMTP_URL: smtp.url });
  });
  after(async () => {
    await auth?.close();
    await sql?.end();
    await smtp?.close();
    await database?.drop();
  });

  const queue = async () =>
    (
      await sql!.query<QueueRow>(
        "select id, to_address, template, status, attempts, last_error from mail_queue order by created_at",
      )
    ).rows;

  it("delivers the verification mail while SMTP is up", async () => {
    assert.equal((await register(auth!.url, first, STRONG_PASSWORD)).status, 202);
    await smtp!.waitForMail((mail) => mail.to.includes(first), 15_000);
  });

  it("answers every request while SMTP is down and keeps each mail queued after a failed attempt", async () => {
    await smtp!.stop();
    const received = smtp!.received.length;
    // New accounts (a verification mail each) and sign-ups with taken addresses (an "already registered" notice).
    const emails = [
      ...Array.from({ length: 12 }, (_, i) => `${prefix}-${i}@example.com`),
      first,
      `${prefix}-0@example.com`,
      `${prefix}-1@example.com`,
    ];
    const statuses = await registerAll(auth!.url, emails, STRONG_PASSWORD, 5);
    assert.deepEqual(
      statuses.filter((status) => status !== 202),
      [],
      "every request is answered 202",
    );

    await until(
      async () =>
        (await queue()).every((row) => row.status === "sent" || (row.attempts >= 1 && row.last_error)),
      "the worker has tried every new mail",
      30_000,
    );
    const rows = await queue();
    assert.equal(rows.length, 1 + 15, "one queue entry per mail");
    assert.equal(rows.filter((row) => row.status === "pending").length, 15, "all wait for a retry");
    assert.deepEqual(
      rows
        .filter((row) => row.status === "pending")
        .map((row) => row.template)
        .sort(),
      [...Array<string>(3).fill("already-registered"), ...Array<string>(12).fill("verify-email")],
    );
    assert.equal(smtp!.received.length, received, "nothing was delivered meanwhile");
  });

  it("delivers every queued mail exactly once when SMTP is back on the same port", async () => {
    await smtp!.start();
    // The worker retries on its production schedule (5 s, doubling, with jitter): no restart, no poke.
    await until(
      async () => (await queue()).every((row) => row.status === "sent"),
      "every mail is sent",
      60_000,
    );
    // A duplicate send would arrive right behind the first.
    await sleep(1_500);
    const rows = await queue();
    const deliveries = new Map<string, number>();
    for (const mail of smtp!.received) {
      const id = /^<?([0-9a-f-]{36})@/.exec(mail.messageId ?? "")?.[1] ?? "unknown";
      deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
    }
    assert.deepEqual(
      Object.fromEntries(deliveries),
      Object.fromEntries(rows.map((row) => [row.id, 1])),
      "each queue entry delivered once, nothing else",
    );
    for (const row of rows) {
      const mail = smtp!.received.find((m) => m.messageId?.includes(row.id));
      assert.deepEqual(mail?.to, [row.to_address], "to the queued address");
    }
  });
});
