import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "drizzle-orm";
import type pg from "pg";
import { openDatabase, type DatabaseHandle } from "../../src/db/database.ts";
import { createTestDatabase, skipUnless } from "../../src/testing/services.ts";

const TERMINATE_SELF = "select pg_terminate_backend(pg_backend_pid())";

/**
 * The PostgreSQL pool after the server kills a connection (as a crash or restart does), made deterministic with
 * `pg_terminate_backend`: whichever statement of a transaction fails, the client goes back to the pool or is
 * dropped, never kept checked out, the process sees no uncaught error, and the pool still serves and closes.
 */
/** What pg reports for a connection the server terminated (the error, or its cause, says so). */
const TERMINATED = (error: unknown) =>
  /terminat/i.test(`${String(error)} ${String((error as { cause?: unknown }).cause)}`);

describe(
  "database pool on PostgreSQL when the server terminates a connection",
  { skip: await skipUnless("postgres"), timeout: 30_000 },
  () => {
    let database: { url: string; drop: () => Promise<void> };
    let dataDir: string;
    let handle: DatabaseHandle;
    let pool: pg.Pool;
    let closed = false;
    const uncaught: unknown[] = [];
    const recordUncaught = (error: unknown) => uncaught.push(error);

    before(async () => {
      process.on("uncaughtException", recordUncaught);
      database = await createTestDatabase();
      dataDir = mkdtempSync(join(tmpdir(), "mm-pool-recovery-"));
      handle = await openDatabase({ url: database.url, dataDir, poolSize: 2 });
      pool = (handle.db as unknown as { $client: pg.Pool }).$client;
      await handle.ping();
    });
    after(async () => {
      process.off("uncaughtException", recordUncaught);
      try {
        if (!closed) await closeWithin(5_000);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
        await database.drop();
      }
    });

    /** `close()`, failing instead of hanging when a client is still checked out (pool.end() waits for it). */
    async function closeWithin(ms: number): Promise<void> {
      await Promise.race([
        handle.close(),
        sleep(ms, undefined, { ref: false }).then(() => {
          throw new Error(`close() did not return within ${ms} ms: a client is still checked out`);
        }),
      ]);
    }

    /** Every client is back in the pool, nothing waits for one, and no error escaped as uncaught. */
    async function assertPoolRecovered(): Promise<void> {
      // Let a terminated client's `error` and `end` events, and the pool's removal of it, run first.
      await sleep(50);
      assert.equal(pool.totalCount - pool.idleCount, 0, "no client left checked out of the pool");
      assert.equal(pool.waitingCount, 0, "nothing waits for a client");
      assert.deepEqual(uncaught, [], "no uncaught error");
      const answer = await handle.db.transaction(async (tx) => {
        const result: unknown = await tx.execute(sql`select 1 as one`);
        return (result as { rows: { one: number }[] }).rows[0]?.one;
      });
      assert.equal(answer, 1, "the pool serves a transaction again");
      assert.equal(pool.totalCount - pool.idleCount, 0, "and gets its client back");
    }

    /** Makes the server terminate the next client checked out of the pool before its first statement. */
    function terminateNextCheckout(): void {
      pool.once("acquire", (client: pg.PoolClient) => {
        // Queued ahead of whatever the caller sends next (here BEGIN), which then meets a dead connection.
        client.query(TERMINATE_SELF).catch(() => {});
      });
    }

    it("releases and drops the client when BEGIN fails on a terminated connection", async () => {
      for (let round = 0; round < 3; round++) {
        terminateNextCheckout();
        let ran = false;
        await assert.rejects(
          handle.db.transaction(async () => {
            ran = true;
          }),
          TERMINATED,
        );
        assert.equal(ran, false, "the work never runs without a transaction");
        await assertPoolRecovered();
      }
    });

    it("releases and drops the client when the connection is terminated inside the transaction", async () => {
      await assert.rejects(
        handle.db.transaction(async (tx) => {
          await tx.execute(sql.raw(TERMINATE_SELF));
        }),
        TERMINATED,
      );
      await assertPoolRecovered();
    });

    it("keeps the connection of a transaction whose work throws and rolls back cleanly", async () => {
      const pid = async () =>
        handle.db.transaction(async (tx) => {
          const result: unknown = await tx.execute(sql`select pg_backend_pid() as pid`);
          return (result as { rows: { pid: number }[] }).rows[0]!.pid;
        });
      // One connection only, so the one reused below is the one the failed transaction had.
      await closeWithin(5_000);
      handle = await openDatabase({ url: database.url, dataDir, poolSize: 1 });
      pool = (handle.db as unknown as { $client: pg.Pool }).$client;
      const before = await pid();
      await assert.rejects(
        handle.db.transaction(async () => {
          throw new Error("work failed");
        }),
        /work failed/,
      );
      assert.equal(await pid(), before, "the same connection serves the next transaction");
      assert.equal(pool.totalCount, 1);
    });

    it("still closes promptly after connections were terminated", async () => {
      terminateNextCheckout();
      await assert.rejects(
        handle.db.transaction(async () => {}),
        TERMINATED,
      );
      await closeWithin(5_000);
      closed = true;
      assert.equal(pool.totalCount, 0);
      assert.deepEqual(uncaught, [], "no uncaught error");
    });
  },
);
