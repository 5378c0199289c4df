import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
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
    settings: ctx.config,
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

  it("publishes a rotated key ahead of use; the old key signs until then and verifies until its tokens expired", async () => {
    const user = await verifiedUser(ctx, "rotation@example.com");
    const kidOfLogin = async () =>
      String(
        decodeJwt((await login(ctx, "rotation@example.com")).json<{ accessToken: string }>().accessToken)
          .header.kid,
      );
    const oldToken = (await login(ctx, "rotation@example.com")).json<{ accessToken: string }>().accessToken;
    const oldKid = String(decodeJwt(oldToken).header.kid);

    const rotated = await keyService(ctx, await secretBoxFromConfig(ctx.config)).rotate();
    assert.deepEqual(rotated.retired, [oldKid]);
    assert.equal(rotated.activatesAt.getTime() - ctx.clock.now().getTime(), 900_000);
    assert.ok((await jwks(ctx)).kids.includes(rotated.kid), "published at once, before it signs");
    ctx.clock.advance(31_000); // past every instance's signer cache (30 s)
    assert.equal(await kidOfLogin(), oldKid, "the old key signs until the activation");
    assert.equal((await me(ctx, oldToken)).statusCode, 200);
    ctx.clock.advance(900_000); // 31 s past the activation
    assert.equal(await kidOfLogin(), rotated.kid);
    assert.deepEqual((await jwks(ctx)).kids.sort(), [oldKid, rotated.kid].sort());

    // Just before the retired key's publication ends (activation + 15 min TTL + 120 s leeway) it verifies …
    ctx.clock.advance((900 + 120 - 31 - 5) * 1000);
    const sid = String(
      decodeJwt((await login(ctx, "rotation@example.com")).json<{ accessToken: string }>().accessToken)
        .payload.sid,
    );
    const claims = {
      iss: ctx.config.accessTokens.issuer,
      aud: ctx.config.accessTokens.audience,
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

  it("a rotation on a database without keys signs at once: there is no key to keep signing meanwhile", async () => {
    const service = keyService(ctx, await secretBoxFromConfig(ctx.config));
    const saved = await ctx.database.db.select().from(signingKeys);
    await ctx.database.db.delete(signingKeys);
    try {
      const rotated = await service.rotate();
      assert.equal(rotated.activatesAt.getTime(), ctx.clock.now().getTime());
      assert.equal(await service.ensureActive(), rotated.kid, "no second first key is made");
    } finally {
      await ctx.database.db.delete(signingKeys);
      await ctx.database.db.insert(signingKeys).values(saved);
    }
  });

  it("a rotation before the last one's key signs replaces that key: it leaves the JWKS unused", async () => {
    const service = keyService(ctx, await secretBoxFromConfig(ctx.config));
    const signing = await service.ensureActive();
    const first = await service.rotate();
    ctx.clock.advance(100_000);
    const second = await service.rotate();
    assert.deepEqual(second.dropped, [first.kid]);
    assert.deepEqual(second.retired, [signing], "the signing key now stops at the second activation");
    const { kids } = await jwks(ctx);
    assert.ok(kids.includes(signing) && kids.includes(second.kid) && !kids.includes(first.kid));
    ctx.clock.advance(900_000 - 100_000 + 31_000); // past the first (void) activation
    assert.equal((await keyService(ctx, await secretBoxFromConfig(ctx.config)).signer()).kid, signing);
    ctx.clock.advance(100_000);
    assert.equal((await keyService(ctx, await secretBoxFromConfig(ctx.config)).signer()).kid, second.kid);
    ctx.clock.advance(31_000); // let the app's signer cache notice
  });

  it("npm run keys:rotate publishes a key that signs later; with --now it signs at once", async () => {
    // A context of its own, whose clock has not been moved: the script runs on the wall clock.
    const fresh = await createAuthTestContext();
    try {
      const first = (await jwks(fresh)).kids[0]!;
      const rotate = (...args: string[]) =>
        promisify(execFile)(process.execPath, [rotateScript, ...args], {
          env: {
            PATH: process.env.PATH,
            NODE_ENV: "test",
            LOG_LEVEL: "silent",
            DATABASE_URL: fresh.config.DATABASE_URL,
            DATA_DIR: fresh.config.DATA_DIR,
          },
        });
      const keys = async () => {
        const rows = await fresh.database.db.select().from(signingKeys);
        return new Map(rows.map((row) => [row.kid, row]));
      };
      let started = Date.now();
      await rotate();
      let rows = await keys();
      const published = [...rows.values()].find((k) => k.kid !== first)!;
      const delay = published.activatesAt!.getTime() - started;
      assert.ok(delay >= 900_000 && delay < 960_000, `activates ${delay} ms after the run`);
      assert.equal(rows.get(first)!.retiredAt!.getTime(), published.activatesAt!.getTime());

      started = Date.now();
      await rotate("--now");
      rows = await keys();
      assert.ok(!rows.has(published.kid), "the key published ahead was dropped unused");
      const immediate = [...rows.values()].find((k) => k.kid !== first)!;
      assert.ok(Math.abs(immediate.activatesAt!.getTime() - started) < 60_000, "signs at once");
      const previous = rows.get(first)!;
      assert.equal(previous.retiredAt!.getTime(), immediate.activatesAt!.getTime(), "retired at once");
      assert.equal(previous.expiresAt!.getTime() - previous.retiredAt!.getTime(), (900 + 120) * 1000);
      assert.equal(rows.size, 2);
    } finally {
      await fresh.close();
    }
  });
});
