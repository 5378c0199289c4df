import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { eq } from "drizzle-orm";
import { pino } from "pino";
import { backoffDelayMs } from "../../src/background-loop.ts";
import { ManualClock } from "../../src/clock.ts";
import { mailQueue } from "../../src/db/infra-schema.ts";
import { enqueueMail } from "../../src/mail/mail-queue.ts";
import type { MailMessage, MailTransport } from "../../src/mail/mail-transport.ts";
import { defaultMailBackoff, MailWorker } from "../../src/mail/mail-worker.ts";
import { captureLogger } from "../support/capture-logger.ts";
import { INFRA_DATABASES, infraDatabase, skipUnlessDatabase } from "../support/infra-database.ts";

const silent = pino({ level: "silent" });
const SECRET_LINK = "https://app.example/verify?token=s3cr3t-token";

/** Each send takes the next scripted outcome; "ok" once the script runs out. */
class FakeTransport implements MailTransport {
  readonly kind = "smtp" as const;
  readonly sent: MailMessage[] = [];
  calls = 0;
  readonly #script: Array<"ok" | "fail" | (() => Promise<void>)>;
  constructor(script: Array<"ok" | "fail" | (() => Promise<void>)> = []) {
    this.#script = script;
  }
  async send(message: MailMessage): Promise<void> {
    this.calls += 1;
    const step = this.#script.shift() ?? "ok";
    if (step === "fail")
      throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:2525"), { code: "ESOCKET" });
    if (typeof step === "function") await step();
    this.sent.push(message);
  }
  async close(): Promise<void> {}
}

/** A transport whose first send waits: `inFlight` settles once it has started, `release()` lets it finish. */
function heldTransport() {
  let release!: () => void;
  let entered!: () => void;
  const inFlight = new Promise<void>((resolve) => (entered = resolve));
  const transport = new FakeTransport([
    () => {
      entered();
      return new Promise<void>((resolve) => (release = resolve));
    },
  ]);
  return { transport, inFlight, release: () => release() };
}

for (const kind of INFRA_DATABASES) {
  describe(`mail worker on ${kind}`, { skip: await skipUnlessDatabase(kind) }, () => {
    const handle = infraDatabase(kind, "mail-worker", mailQueue);

    function queue(to = "ana@example.com"): Promise<string> {
      return handle.db.transaction((tx) =>
        enqueueMail(tx, {
          template: "verify-email",
          to,
          subject: "Verify your email",
          text: `Open ${SECRET_LINK}`,
          html: `<a href="${SECRET_LINK}">Verify</a>`,
        }),
      );
    }

    async function row(id: string) {
      const [found] = await handle.db.select().from(mailQueue).where(eq(mailQueue.id, id));
      assert.ok(found, `mail ${id} exists`);
      return found;
    }

    const noJitter = (): number => 0;

    describe("mail worker (fake transport)", () => {
      it("sends a queued mail once, with the row id, and marks it sent", async () => {
        const clock = new ManualClock(new Date());
        const transport = new FakeTransport();
        const worker = new MailWorker({ db: handle.db, transport, logger: silent, clock });
        const id = await queue();

        assert.deepEqual(await worker.processDue(), { claimed: 1, sent: 1, retrying: 0, dead: 0 });
        assert.deepEqual(transport.sent, [
          {
            id,
            to: "ana@example.com",
            subject: "Verify your email",
            text: `Open ${SECRET_LINK}`,
            html: `<a href="${SECRET_LINK}">Verify</a>`,
          },
        ]);
        const sent = await row(id);
        assert.equal(sent.status, "sent");
        assert.equal(sent.attempts, 1);
        assert.equal(sent.sentAt?.getTime(), clock.now().getTime());
        assert.deepEqual(await worker.processDue(), { claimed: 0, sent: 0, retrying: 0, dead: 0 });
        assert.equal(transport.calls, 1);
      });

      it("sends a mail that was never tried even when the worker's clock is behind the database's", async () => {
        const transport = new FakeTransport();
        const clock = new ManualClock("2020-01-01T00:00:00Z");
        const worker = new MailWorker({ db: handle.db, transport, logger: silent, clock });
        const id = await queue();
        assert.equal((await worker.processDue()).sent, 1);
        assert.equal((await row(id)).status, "sent");
      });

      it("retries a failed mail with growing backoff as the clock advances, keeping a short last_error without the body", async () => {
        const clock = new ManualClock(new Date());
        const transport = new FakeTransport(["fail", "fail", "fail"]);
        const worker = new MailWorker({ db: handle.db, transport, logger: silent, clock, random: noJitter });
        const id = await queue();

        for (const [attempt, delay] of [
          [1, 5_000],
          [2, 10_000],
          [3, 20_000],
        ] as const) {
          const before = clock.now().getTime();
          assert.deepEqual(await worker.processDue(), { claimed: 1, sent: 0, retrying: 1, dead: 0 });
          const failed = await row(id);
          assert.equal(failed.status, "pending");
          assert.equal(failed.attempts, attempt);
          assert.equal(failed.nextAttemptAt.getTime(), before + delay);
          assert.equal(failed.lastError, "ESOCKET: connect ECONNREFUSED 127.0.0.1:2525");
          assert.ok(!failed.lastError.includes("s3cr3t"));

          clock.advance(delay - 1);
          assert.equal(
            (await worker.processDue()).claimed,
            0,
            `attempt ${attempt + 1} waits its full backoff`,
          );
          clock.advance(1);
        }
        assert.deepEqual(await worker.processDue(), { claimed: 1, sent: 1, retrying: 0, dead: 0 });
        const sent = await row(id);
        assert.equal(sent.status, "sent");
        assert.equal(sent.attempts, 4);
        assert.equal(sent.lastError, null);
        assert.deepEqual(
          transport.sent.map((m) => m.id),
          [id],
        );
      });

      it("marks a mail dead after maxAttempts, keeps the row, logs it at error and stops trying", async () => {
        const clock = new ManualClock(new Date());
        const transport = new FakeTransport(["fail", "fail", "fail", "fail"]);
        const { logger, lines } = captureLogger();
        const worker = new MailWorker({ db: handle.db, transport, logger, clock, maxAttempts: 3 });
        const id = await queue();

        const outcomes = [];
        for (let i = 0; i < 3; i++) {
          outcomes.push(await worker.processDue());
          clock.advance(defaultMailBackoff.maxMs);
        }
        assert.deepEqual(
          outcomes.map((o) => [o.retrying, o.dead]),
          [
            [1, 0],
            [1, 0],
            [0, 1],
          ],
        );
        const dead = await row(id);
        assert.equal(dead.status, "dead");
        assert.equal(dead.attempts, 3);
        assert.deepEqual([dead.textBody, dead.htmlBody], ["", ""], "no link left behind in a dead mail");
        clock.advance(24 * 3600_000);
        assert.equal((await worker.processDue()).claimed, 0);
        assert.equal(transport.calls, 3);
        assert.deepEqual(await worker.stats(), { pending: 0, dead: 1, oldestPendingAgeSeconds: 0 });

        const error = lines.find((line) => line.level === 50);
        assert.equal(error?.mailId, id);
        assert.equal(error?.template, "verify-email");
        assert.ok(!JSON.stringify(lines).includes("s3cr3t"), "no log line carries the mail body");
      });

      it("masks addresses that an SMTP reply quotes in last_error", async () => {
        const transport: MailTransport = {
          kind: "smtp",
          send: () =>
            Promise.reject(
              new Error(
                "Can't send mail - all recipients were rejected: 550 <ana@example.com>: no such user",
              ),
            ),
          close: async () => {},
        };
        const worker = new MailWorker({ db: handle.db, transport, logger: silent });
        const id = await queue();
        assert.equal((await worker.processDue()).retrying, 1);
        assert.equal(
          (await row(id)).lastError,
          "Can't send mail - all recipients were rejected: 550 <<address>>: no such user",
        );
      });

      it("reports pending and dead counts and the age of the oldest pending mail", async () => {
        const clock = new ManualClock(new Date());
        const worker = new MailWorker({
          db: handle.db,
          transport: new FakeTransport(),
          logger: silent,
          clock,
        });
        assert.deepEqual(await worker.stats(), { pending: 0, dead: 0, oldestPendingAgeSeconds: 0 });
        await queue();
        await queue("bo@example.com");
        clock.advance(120_000);
        const stats = await worker.stats();
        assert.equal(stats.pending, 2);
        assert.equal(stats.dead, 0);
        assert.ok(
          stats.oldestPendingAgeSeconds >= 119 && stats.oldestPendingAgeSeconds < 150,
          `${stats.oldestPendingAgeSeconds}`,
        );
      });

      it("computes exponential backoff from 5 s capped at 15 min, and jitter only shortens a delay", () => {
        assert.deepEqual(
          [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => backoffDelayMs(n, defaultMailBackoff, noJitter)),
          [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 900_000, 900_000],
        );
        assert.equal(backoffDelayMs(1_000, defaultMailBackoff, noJitter), 900_000);
        assert.equal(
          backoffDelayMs(1, defaultMailBackoff, () => 0.999999),
          4_000,
        );
        // Jitter takes at most 20 % off, whatever the random draw in [0, 1).
        for (const draw of [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999999]) {
          const delay = backoffDelayMs(3, defaultMailBackoff, () => draw);
          assert.ok(delay >= 16_000 && delay <= 20_000, `${draw}: ${delay}`);
        }
      });

      it("keeps its loop running after a round fails on the database, and sends once the database answers", async () => {
        let failures = 1;
        const flaky = new Proxy(handle.db, {
          get(target, property, receiver) {
            if (property === "transaction" && failures > 0) {
              failures -= 1;
              return () => Promise.reject(new Error("database unavailable"));
            }
            return Reflect.get(target, property, receiver) as unknown;
          },
        });
        const transport = new FakeTransport();
        const { logger, lines } = captureLogger();
        const worker = new MailWorker({ db: flaky, transport, logger, pollIntervalMs: 20 });
        const id = await queue();
        worker.start();
        await until(() => transport.sent.length === 1);
        await worker.stop();
        assert.equal(transport.sent[0]?.id, id);
        assert.ok(lines.some((line) => line.level === 50 && line.err === "database unavailable"));
      });

      it("sends from its loop when poked, and stop() waits for the send in flight to be recorded", async () => {
        const { transport, inFlight, release } = heldTransport();
        const worker = new MailWorker({ db: handle.db, transport, logger: silent, pollIntervalMs: 60_000 });
        worker.start();
        const id = await queue();
        worker.poke();
        await inFlight;

        let stopped = false;
        const stopping = worker.stop().then(() => (stopped = true));
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(stopped, false, "stop() resolved while a send was in flight");
        release();
        await stopping;
        assert.equal((await row(id)).status, "sent");
      });

      it("on stop, finishes the send in flight and gives the rest of its batch back untried", async () => {
        const { transport, inFlight, release } = heldTransport();
        const clock = new ManualClock(new Date());
        const worker = new MailWorker({
          db: handle.db,
          transport,
          logger: silent,
          clock,
          pollIntervalMs: 60_000,
        });
        const ids = [
          await queue("a@example.com"),
          await queue("b@example.com"),
          await queue("c@example.com"),
        ];
        worker.start();
        await inFlight;
        const stopping = worker.stop();
        release();
        await stopping;

        assert.equal(transport.calls, 1, "no new send started after stop()");
        const rows = await Promise.all(ids.map(row));
        assert.deepEqual(rows.map((r) => r.status).toSorted(), ["pending", "pending", "sent"]);
        for (const untried of rows.filter((r) => r.status === "pending")) {
          assert.equal(untried.attempts, 0);
          assert.ok(untried.nextAttemptAt.getTime() <= clock.now().getTime(), "due again at once");
        }
        const next = new MailWorker({ db: handle.db, transport, logger: silent, clock });
        assert.deepEqual(await next.processDue(), { claimed: 2, sent: 2, retrying: 0, dead: 0 });
      });
    });

    async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error("condition not met in time");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  });
}
