import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { createLogger } from "@mimascota/shared/logger";
import { skipUnless } from "@mimascota/shared/testing/services";
import { buildApp } from "../../src/app.ts";
import { loadAuthConfig } from "../../src/config.ts";
import { signingKeys, twoFactorCredentials } from "../../src/db/schema.ts";
import { me } from "../support/session-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";
import { nextCode, passwordStep, secondStep, twoFactorUser } from "../support/two-factor-helpers.ts";

const resealScript = fileURLToPath(new URL("../../src/reseal-secrets.ts", import.meta.url));
const newKey = () => randomBytes(32).toString("base64");
const [k1, k2, k3] = [newKey(), newKey(), newKey()];

/** The same database, clock and key-value store as `ctx`, served by an app configured with other keys. */
async function withKeys(ctx: AuthTestContext, keys: Record<string, string>): Promise<AuthTestContext> {
  const config = loadAuthConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATA_DIR: ctx.config.DATA_DIR,
    DATABASE_URL: ctx.config.DATABASE_URL,
    ...keys,
  });
  const app = await buildApp({
    config,
    logger: createLogger("auth-test", "silent"),
    clock: ctx.clock,
    database: ctx.database,
    kv: ctx.kv,
  });
  await app.ready();
  return { ...ctx, app, config, close: () => app.close() };
}

/** `npm run keys:reseal` as an operator runs it: its exit code and the report it logs. */
async function reseal(ctx: AuthTestContext, keys: Record<string, string>) {
  const run = promisify(execFile)(process.execPath, [resealScript], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "test",
      LOG_LEVEL: "info",
      DATABASE_URL: ctx.config.DATABASE_URL,
      DATA_DIR: ctx.config.DATA_DIR,
      ...keys,
    },
  });
  const { stdout, code } = await run.then(
    (r) => ({ stdout: r.stdout, code: 0 }),
    (error: { stdout: string; code: number }) => ({ stdout: error.stdout, code: error.code }),
  );
  const line = stdout.split("\n").find((l) => l.includes('"totpSecrets"'));
  assert.ok(line, stdout);
  const report = JSON.parse(line) as Record<"totpSecrets" | "signingKeys", Record<string, number | string[]>>;
  for (const secret of [k1, k2, k3]) assert.ok(!stdout.includes(secret), "no key in the output");
  return { code, report };
}

async function sealedVersions(ctx: AuthTestContext) {
  const { db } = ctx.database;
  const version = (sealed: string) => sealed.split(".", 1)[0];
  return {
    totp: (await db.select().from(twoFactorCredentials)).map((r) => version(r.secretSealed)),
    keys: (await db.select().from(signingKeys)).map((r) => version(r.privateKeySealed)),
  };
}

async function twoFactorLogin(ctx: AuthTestContext, email: string, secret: string) {
  const response = await secondStep(ctx, await passwordStep(ctx, email), await nextCode(ctx, secret));
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ accessToken: string }>().accessToken;
}

describe("ENCRYPTION_KEY rotation", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  let first: Awaited<ReturnType<typeof twoFactorUser>>;
  before(async () => {
    ctx = await createAuthTestContext({ env: { ENCRYPTION_KEY: k1 } });
    first = await twoFactorUser(ctx, "rotacion@example.com");
  });
  after(() => ctx?.close());

  it("with a new current key and the old one kept as previous, old values still open and new ones use the new key", async () => {
    const rotated = await withKeys(ctx, { ENCRYPTION_KEY: `2:${k2}`, ENCRYPTION_KEYS_PREVIOUS: `1:${k1}` });
    try {
      // The signing key (sealed by key 1) still signs, and the TOTP secret (sealed by key 1) still checks.
      const access = await twoFactorLogin(rotated, first.email, first.secret);
      assert.equal((await me(rotated, access)).statusCode, 200);
      await twoFactorUser(rotated, "nueva@example.com");
      assert.deepEqual((await sealedVersions(ctx)).totp.sort(), ["v1", "v2"]);
    } finally {
      await rotated.close();
    }
  });

  it("keys:reseal seals every old value again under the new key; the old key can then be dropped", async () => {
    const keys = { ENCRYPTION_KEY: `2:${k2}`, ENCRYPTION_KEYS_PREVIOUS: `1:${k1}` };
    const firstRun = await reseal(ctx, keys);
    assert.equal(firstRun.code, 0);
    assert.deepEqual(firstRun.report.totpSecrets, {
      resealed: 1,
      current: 1,
      changedMeanwhile: 0,
      unreadable: [],
    });
    assert.equal(firstRun.report.signingKeys.resealed, 1);
    const versions = await sealedVersions(ctx);
    assert.deepEqual([...new Set([...versions.totp, ...versions.keys])], ["v2"]);
    const again = await reseal(ctx, keys);
    assert.equal(again.report.totpSecrets.resealed, 0);
    assert.equal(again.report.signingKeys.resealed, 0);

    const newOnly = await withKeys(ctx, { ENCRYPTION_KEY: `2:${k2}` });
    try {
      const access = await twoFactorLogin(newOnly, first.email, first.secret);
      assert.equal((await me(newOnly, access)).statusCode, 200);
    } finally {
      await newOnly.close();
    }
  });

  it("a value no configured key opens is reported by row, left as it was, and the command fails", async () => {
    const { db } = ctx.database;
    const before = await db.select().from(twoFactorCredentials);
    const wrong = await reseal(ctx, { ENCRYPTION_KEY: `3:${k3}` });
    assert.equal(wrong.code, 1);
    assert.equal((wrong.report.totpSecrets.unreadable as string[]).length, 2);
    assert.deepEqual(await db.select().from(twoFactorCredentials), before);
  });
});
