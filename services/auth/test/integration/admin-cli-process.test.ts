import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createClient } from "redis";
import { revokedSessionKey } from "@mimascota/shared/auth-contract";
import { createTestDatabase, serviceUrls, skipUnless } from "@mimascota/shared/testing/services";
import { runAdmin } from "../../src/admin/run-admin.ts";
import { verifiedUser } from "../support/account-helpers.ts";
import { adminEnv } from "../support/admin-helpers.ts";
import { insertSession, sessionRevokedAt } from "../support/session-rows.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../../../", import.meta.url));

function capture() {
  const out = { stdout: "", stderr: "" };
  return {
    out,
    io: {
      stdout: { write: (text: string) => (out.stdout += text) },
      stderr: { write: (text: string) => (out.stderr += text) },
    },
  };
}

describe(
  "admin CLI as operators run it (PostgreSQL, Redis)",
  { skip: await skipUnless("postgres", "redis") },
  () => {
    let ctx: AuthTestContext;
    before(async () => {
      ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
    });
    after(() => ctx.close());

    it("`npm run admin -- find` runs the real entry point: JSON on stdout, exit 0; an unknown email exits 1", async () => {
      const { id } = await verifiedUser(ctx, "process@example.com");
      const env = {
        ...process.env,
        ...adminEnv(ctx, { LOG_LEVEL: "silent", REDIS_URL: "" }),
        // npm and the script run on this Node (24), not whatever `node` the PATH finds first.
        PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
      };
      const found = await run(
        "npm",
        ["run", "--silent", "admin", "--", "find", "process@example.com", "--json"],
        {
          cwd: root,
          env,
          timeout: 60_000,
        },
      );
      assert.equal((JSON.parse(found.stdout) as { id: string }).id, id);
      const missing = await run(
        process.execPath,
        ["services/auth/src/admin/main.ts", "find", "ghost@example.com"],
        {
          cwd: root,
          env,
          timeout: 60_000,
        },
      ).then(
        () => assert.fail("an unknown email must exit 1"),
        (error: { code: number; stderr: string }) => error,
      );
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /No account with the email ghost@example\.com/);
    });

    it("with REDIS_URL a revocation reaches the gateway's Redis as revoked-session:<sid>", async () => {
      const { id } = await verifiedUser(ctx, "redis-admin@example.com");
      const sid = await insertSession(ctx, id);
      const { out, io } = capture();
      const code = await runAdmin(["revoke-sessions", "redis-admin@example.com", "--actor", "ana"], {
        ...io,
        env: adminEnv(ctx, { REDIS_URL: serviceUrls.redis }),
        overrides: { database: ctx.database, clock: ctx.clock },
      });
      assert.equal(code, 0, out.stderr);
      assert.ok(!out.stdout.includes("REDIS_URL is not set"));
      assert.ok(await sessionRevokedAt(ctx, sid));
      const redis = createClient({ url: serviceUrls.redis });
      await redis.connect();
      try {
        assert.equal(await redis.get(revokedSessionKey(sid)), "1");
        assert.ok((await redis.pTTL(revokedSessionKey(sid))) > 15 * 60_000);
      } finally {
        await redis.del(revokedSessionKey(sid));
        await redis.quit();
      }
    });
  },
);

describe("admin CLI on an unmigrated PostgreSQL", { skip: await skipUnless("postgres") }, () => {
  it("fails with exit 1, the driver's reason and a hint, never the query's parameters", async () => {
    const empty = await createTestDatabase();
    try {
      const { out, io } = capture();
      const code = await runAdmin(["find", "a@example.com", "--actor", "ana"], {
        ...io,
        env: { NODE_ENV: "test", LOG_LEVEL: "info", DATA_DIR: tmpdir(), DATABASE_URL: empty.url },
      });
      assert.equal(code, 1);
      assert.match(out.stderr, /find failed: relation "users" does not exist .*npm run migrate/);
      assert.ok(!out.stderr.includes("params"), out.stderr);
    } finally {
      await empty.drop();
    }
  });
});

describe("admin CLI on embedded data in use", () => {
  it("refuses (exit 1) while another process has the PGlite folder open, and opens nothing", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mm-admin-"));
    try {
      mkdirSync(join(dataDir, "pglite"));
      writeFileSync(join(dataDir, "pglite", "postmaster.pid"), "-42\n");
      const { out, io } = capture();
      const code = await runAdmin(["find", "a@example.com"], {
        ...io,
        env: { NODE_ENV: "test", LOG_LEVEL: "silent", DATA_DIR: dataDir, USER: "ana" },
      });
      assert.equal(code, 1);
      assert.match(out.stderr, /open in another process/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
