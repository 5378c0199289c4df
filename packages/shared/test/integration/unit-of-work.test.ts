import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mailQueue } from "../../src/db/infra-schema.ts";
import { afterCommit, UnitOfWork } from "../../src/db/unit-of-work.ts";
import { enqueueEvent } from "../../src/events/outbox.ts";
import { enqueueMail } from "../../src/mail/mail-queue.ts";
import { INFRA_DATABASES, infraDatabase, skipUnlessDatabase } from "../support/infra-database.ts";

const mail = { template: "t", to: "a@example.com", subject: "s", text: "t", html: "h" };
const event = { topic: "t.v1", key: "k", data: {}, occurredAt: new Date() };

for (const kind of INFRA_DATABASES) {
  describe(`a unit of work (${kind})`, { skip: await skipUnlessDatabase(kind) }, () => {
    const database = infraDatabase(kind, "mm-unit-of-work", mailQueue);

    function recorder() {
      const calls: string[] = [];
      const work = new UnitOfWork({
        db: database.db,
        wake: { mail: () => calls.push("wake mail"), events: () => calls.push("wake events") },
      });
      return { calls, work };
    }

    it("wakes the worker of each kind it enqueued, once, after commit, then runs its hooks in order", async () => {
      const { calls, work } = recorder();
      await work.run(async (tx) => {
        await enqueueMail(tx, mail);
        await enqueueMail(tx, mail);
        afterCommit(tx, () => calls.push("hook 1"));
        await enqueueEvent(tx, "/test", event);
        afterCommit(tx, () => calls.push("hook 2"));
        assert.deepEqual(calls, [], "nothing before the commit");
      });
      assert.deepEqual(calls, ["wake mail", "wake events", "hook 1", "hook 2"]);
    });

    it("wakes nothing for what it did not enqueue, and nothing at all when it rolls back", async () => {
      const { calls, work } = recorder();
      await work.run(async (tx) => enqueueEvent(tx, "/test", event));
      assert.deepEqual(calls, ["wake events"]);
      calls.length = 0;
      await assert.rejects(
        work.run(async (tx) => {
          await enqueueMail(tx, mail);
          afterCommit(tx, () => calls.push("hook"));
          throw new Error("rolled back");
        }),
        /rolled back/,
      );
      assert.deepEqual(calls, []);
    });

    it("refuses an after-commit hook on a transaction it did not begin (it would never run)", async () => {
      await database.db.transaction(async (tx) => {
        assert.throws(() => afterCommit(tx, () => undefined), /UnitOfWork\.run/);
      });
    });
  });
}
