import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { isNull } from "drizzle-orm";
import { importJWK, SignJWT, type JWK } from "jose";
import { skipUnless } from "@mimascota/shared/testing/services";
import { secretBoxFromConfig } from "../../src/crypto/secret-box-from-config.ts";
import { signingKeys } from "../../src/db/schema.ts";
import { SigningKeyRepository } from "../../src/repositories/signing-key.repository.ts";
import { SigningKeyService } from "../../src/services/signing-key.service.ts";
import { decodeJwt, login, me } from "../support/session-helpers.ts";
import { verifiedUser } from "../support/account-helpers.ts";
import { createAuthTestContext, type AuthTestContext } from "../support/test-app.ts";

const rotateScript = fileURLToPath(new URL("../../src/rotate-keys.ts", import.meta.url));

async function jwks(ctx: AuthTestContext) {
  const response = await ctx.app.inject({ method: "GET", url: "/.well-known/jwks.json" });
  assert.equal(response.statusCode, 200);
  return { response, kids: response.json<{ keys: JWK[] }>().keys.map((k) => k.kid) };
}

function keyService(ctx: AuthTestContext, sealer: Awaited<ReturnType<typeof secretBoxFromConfig>>) {
  const { db } = ctx.database;
  return new SigningKeyService({
    db,
    clock: ctx.clock,
    config: ctx.config,
    keys: new SigningKeyRepository({ db }),
    sealer,
  });
}

/** Signs an access token with a stored key, as the service would have (to test what verifies it). */
async function signWithStoredKey(ctx: AuthTestContext, kid: string, claims: Record<string, unknown>) {
  const [row] = (await ctx.database.db.select().from(signingKeys)).filter((k) => k.kid === kid);
  const box = await secretBoxFromConfig(ctx.config);
  const jwk = JSON.parse(box.open(row!.privateKeySealed, `signing-key:${kid}`)) as JWK;
  const iat = Math.floor(ctx.clock.now().getTime() / 1000);
  return new SignJWT({ ...claims, iat, exp: iat + 900 })
    .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid })
    .sign(await importJWK(jwk, "EdDSA"));
}

describe("signing keys and JWKS", { skip: await skipUnless("postgres") }, () => {
  let ctx: AuthTestContext;
  before(async () => {
    ctx = await createAuthTestContext({ env: { ACCOUNT_RESPONSE_FLOOR_MS: "0" } });
  });
  after(() => ctx.close());

  it("publishes the Ed25519 public key, cacheable, with no private part; the private key is sealed at rest", async () => {
    const { response } = await jwks(ctx);
    assert.equal(response.headers["cache-control"], "public, max-age=300");
    const { keys } = response.json<{ keys: Record<string, unknown>[] }>();
    assert.equal(keys.length, 1);
    assert.deepEqual(Object.keys(keys[0]!).sort(), ["alg", "crv", "kid", "kty", "use", "x"]);
    assert.equal(keys[0]!.kty, "OKP");
    assert.equal(keys[0]!.crv, "Ed25519");
    assert.equal(keys[0]!.alg, "EdDSA");
    const [row] = await ctx.database.db.select().from(signingKeys);
    assert.match(row!.privateKeySealed, /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    assert.ok(!row!.privateKeySealed.includes('"d"'));
    assert.ok(!("d" in row!.publicJwk));
  });

  it("creates a single first key when several instances start at once", async () => {
    await ctx.database.db.delete(signingKeys);
    const sealer = await secretBoxFromConfig(ctx.config);
    const kids = await Promise.all(Array.from({ length: 5 }, () => keyService(ctx, sealer).ensureActive()));
    assert.equal(new Set(kids).size, 1);
    assert.equal((await ctx.database.db.select().from(signingKeys)).length, 1);
    ctx.clock.advance(31_000); // let the app's signer cache notice the replaced key
  });

  it("rotates: new tokens use the new kid, the old key verifies until its tokens expired, then leaves the JWKS", async () => {
    const user = await verifiedUser(ctx, "rotation@example.com");
    const before = await login(ctx, "rotation@example.com");
    const oldToken = before.json<{ accessToken: string }>().accessToken;
    const oldKid = String(decodeJwt(oldToken).header.kid);

    const rotated = await keyService(ctx, await secretBoxFromConfig(ctx.config)).rotate();
    assert.deepEqual(rotated.retired, [oldKid]);
    ctx.clock.advance(31_000); // other instances (here: the app) pick the new key up within 30 s
    const newToken = (await login(ctx, "rotation@example.com")).json<{ accessToken: string }>().accessToken;
    assert.equal(decodeJwt(newToken).header.kid, rotated.kid);
    assert.deepEqual((await jwks(ctx)).kids.sort(), [oldKid, rotated.kid].sort());
    assert.equal((await me(ctx, oldToken)).statusCode, 200, "tokens signed before the rotation still work");

    // Just before the retired key's publication ends (retired + 15 min TTL + 120 s leeway) it still verifies …
    ctx.clock.advance((900 + 120 - 31 - 5) * 1000);
    const sid = String(decodeJwt(newToken).payload.sid);
    const claims = {
      iss: ctx.config.JWT_ISSUER,
      aud: ctx.config.JWT_AUDIENCE,
      sub: user.id,
      sid,
      jti: crypto.randomUUID(),
      amr: ["pwd"],
    };
    assert.equal((await me(ctx, await signWithStoredKey(ctx, oldKid, claims))).statusCode, 200);
    // … and after it, the kid is gone from the JWKS and nothing it signs verifies any more.
    ctx.clock.advance(10_000);
    assert.deepEqual((await jwks(ctx)).kids, [rotated.kid]);
    assert.equal((await me(ctx, await signWithStoredKey(ctx, oldKid, claims))).statusCode, 401);
    assert.equal((await me(ctx, await signWithStoredKey(ctx, rotated.kid, claims))).statusCode, 200);
  });

  it("npm run keys:rotate makes a new active key and retires the previous one", async () => {
    const [activeBefore] = await ctx.database.db
      .select()
      .from(signingKeys)
      .where(isNull(signingKeys.retiredAt));
    await promisify(execFile)(process.execPath, [rotateScript], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: "test",
        LOG_LEVEL: "silent",
        DATABASE_URL: ctx.config.DATABASE_URL,
        DATA_DIR: ctx.config.DATA_DIR,
      },
    });
    const active = await ctx.database.db.select().from(signingKeys).where(isNull(signingKeys.retiredAt));
    assert.equal(active.length, 1);
    assert.notEqual(active[0]!.kid, activeBefore!.kid);
    const all = await ctx.database.db.select().from(signingKeys);
    const previous = all.find((k) => k.kid === activeBefore!.kid);
    assert.ok(previous?.retiredAt && previous.expiresAt);
    assert.equal(previous.expiresAt.getTime() - previous.retiredAt.getTime(), (900 + 120) * 1000);
  });
});
