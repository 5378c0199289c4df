import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { generateKeyPairSync } from "node:crypto";
import { exportJWK, importJWK, jwtVerify, SignJWT, UnsecuredJWT } from "jose";
import { ManualClock } from "@mimascota/shared/clock";
import { AccessTokenService } from "../../src/services/access-token.service.ts";
import type { SigningKeyService } from "../../src/services/signing-key.service.ts";

const accessTokens = { ttlSeconds: 900, ttlMs: 900_000, issuer: "mimascota-auth", audience: "mimascota-api" };
const subject = { userId: crypto.randomUUID(), sessionId: crypto.randomUUID(), amr: ["pwd"] };
const grant = { ...subject, email: "ana@example.com", role: "provider" as const };
const { publicKey, privateKey } = generateKeyPairSync("ed25519");
const KID = "kid-1";

/** The key service reduced to one in-memory key pair. */
const keys = {
  signer: async () => ({ kid: KID, key: privateKey }),
  verificationKey: async (kid: string | undefined) => (kid === KID ? publicKey : undefined),
} as unknown as SigningKeyService;

function service(clock = new ManualClock("2026-05-01T12:00:00Z")) {
  return { clock, tokens: new AccessTokenService({ clock, settings: { accessTokens }, keys }) };
}

/** A token like the service's, with one thing changed. */
function forge(
  clock: ManualClock,
  change: { header?: Record<string, unknown>; claims?: Record<string, unknown> } = {},
) {
  const iat = Math.floor(clock.now().getTime() / 1000);
  const claims = {
    iss: accessTokens.issuer,
    aud: accessTokens.audience,
    sub: subject.userId,
    sid: subject.sessionId,
    amr: ["pwd"],
    jti: crypto.randomUUID(),
    iat,
    exp: iat + 900,
    ...change.claims,
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: KID, ...change.header })
    .sign(privateKey);
}

describe("access tokens", () => {
  it("issues a token that verifies to its subject, valid for exactly the TTL", async () => {
    const { clock, tokens } = service();
    const { accessToken, expiresIn } = await tokens.issue(grant);
    assert.equal(expiresIn, 900);
    assert.deepEqual(await tokens.verify(accessToken), subject);
    clock.advance(899_000);
    assert.deepEqual(await tokens.verify(accessToken), subject);
    clock.advance(1_000);
    assert.equal(await tokens.verify(accessToken), undefined);
  });

  it("signs a compact JWS that any JOSE library verifies with the published public key", async () => {
    const { tokens } = service();
    const { accessToken } = await tokens.issue(grant);
    const published = await importJWK({ ...(await exportJWK(publicKey)), alg: "EdDSA" }, "EdDSA");
    const { payload, protectedHeader } = await jwtVerify(accessToken, published, {
      issuer: accessTokens.issuer,
      audience: accessTokens.audience,
      typ: "at+jwt",
      currentDate: new Date("2026-05-01T12:00:00Z"),
    });
    assert.deepEqual(protectedHeader, { alg: "EdDSA", typ: "at+jwt", kid: KID });
    assert.equal(payload.sub, subject.userId);
    assert.equal(payload.sid, subject.sessionId);
    assert.deepEqual(payload.amr, ["pwd"]);
    // The original front end reads both from the token.
    assert.equal(payload.email, "ana@example.com");
    assert.deepEqual(payload.roles, ["provider"]);
    assert.equal(payload.exp! - payload.iat!, 900);
    assert.match(String(payload.jti), /^[0-9a-f-]{36}$/);
  });

  it("refuses another issuer, audience or typ, a missing sid, and an unknown kid", async () => {
    const { clock, tokens } = service();
    assert.ok(await tokens.verify(await forge(clock)), "the forge itself is valid");
    for (const change of [
      { claims: { iss: "someone-else" } },
      { claims: { aud: "other-api" } },
      { header: { typ: "JWT" } },
      { claims: { sid: undefined } },
      { header: { kid: "kid-2" } },
    ]) {
      assert.equal(await tokens.verify(await forge(clock, change)), undefined, JSON.stringify(change));
    }
  });

  it("refuses alg none and an HMAC token keyed with the public key (algorithm confusion)", async () => {
    const { clock, tokens } = service();
    const iat = Math.floor(clock.now().getTime() / 1000);
    const claims = {
      sid: subject.sessionId,
      sub: subject.userId,
      iss: accessTokens.issuer,
      aud: accessTokens.audience,
      jti: "x",
      iat,
      exp: iat + 900,
    };
    const unsecured = new UnsecuredJWT(claims).encode();
    assert.equal(await tokens.verify(unsecured), undefined);
    const publicBytes = new TextEncoder().encode(JSON.stringify(await exportJWK(publicKey)));
    const hmac = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: KID })
      .sign(publicBytes);
    assert.equal(await tokens.verify(hmac), undefined);
  });

  it("surfaces a failing key lookup instead of calling the token invalid", async () => {
    const failing = {
      signer: keys.signer.bind(keys),
      verificationKey: async () => {
        throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
      },
    } as unknown as SigningKeyService;
    const clock = new ManualClock();
    const tokens = new AccessTokenService({ clock, settings: { accessTokens }, keys: failing });
    await assert.rejects(tokens.verify(await forge(clock)), /ECONNREFUSED/);
  });
});
