import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from "jose";

export interface TokenOptions {
  sub?: string;
  sid?: string;
  iss?: string;
  aud?: string;
  typ?: string;
  /** "" leaves the header without a kid. */
  kid?: string;
  /** Seconds from now. */
  expiresIn?: number;
  notBefore?: number;
  omit?: string[];
  extra?: JWTPayload;
}

/**
 * A stand-in for the auth service's signing side: an Ed25519 key served as a JWKS over real HTTP (counting
 * fetches, so refetch throttling is observable) and access tokens shaped like the contract's.
 */
export class TokenIssuer {
  kid = "test-key-1";
  jwksFetches = 0;
  /** Keys published besides the current one (those a rotation replaced). */
  #previous: JWK[] = [];
  /** A key published ahead of use (`publishNext`). */
  #next: { privateKey: CryptoKey; publicJwk: JWK } | undefined;
  /** While true the JWKS endpoint answers 503 (fetches are still counted). */
  failing = false;
  privateKey!: CryptoKey;
  publicJwk!: JWK;
  readonly #server = createServer((req, res) => {
    if (req.url !== "/.well-known/jwks.json") {
      res.statusCode = 404;
      res.end();
      return;
    }
    this.jwksFetches++;
    if (this.failing) {
      res.statusCode = 503;
      res.end();
      return;
    }
    res.setHeader("content-type", "application/json");
    const current = { ...this.publicJwk, kid: this.kid, alg: "EdDSA", use: "sig" };
    const next = this.#next && {
      ...this.#next.publicJwk,
      kid: `test-key-${this.#previous.length + 2}`,
      alg: "EdDSA",
      use: "sig",
    };
    res.end(JSON.stringify({ keys: [current, ...(next ? [next] : []), ...this.#previous] }));
  });
  #url = "";

  get jwksUrl(): string {
    return `${this.#url}/.well-known/jwks.json`;
  }

  async start(): Promise<this> {
    ({ privateKey: this.privateKey, publicJwk: this.publicJwk } = await newKey());
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.#url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  /** As the auth service's `keys:rotate --now`: a new key signs from now on; the old one stays published. */
  async rotate(): Promise<void> {
    await this.publishNext();
    this.activateNext();
  }

  /** As `keys:rotate` (without `--now`): a next key is published now, and signs once `activateNext` runs. */
  async publishNext(): Promise<void> {
    this.#next = await newKey();
  }

  activateNext(): void {
    if (!this.#next) throw new Error("no key published ahead");
    this.#previous.push({ ...this.publicJwk, kid: this.kid, alg: "EdDSA", use: "sig" });
    this.kid = `test-key-${this.#previous.length + 1}`;
    ({ privateKey: this.privateKey, publicJwk: this.publicJwk } = this.#next);
    this.#next = undefined;
  }

  async token(options: TokenOptions = {}, now = Date.now()): Promise<string> {
    const iat = Math.floor(now / 1000);
    const claims: JWTPayload = {
      iss: options.iss ?? "mimascota-auth",
      aud: options.aud ?? "mimascota-api",
      sub: options.sub ?? "user-1",
      sid: options.sid ?? "session-1",
      jti: crypto.randomUUID(),
      iat,
      exp: iat + (options.expiresIn ?? 900),
      amr: ["pwd"],
      ...(options.notBefore !== undefined ? { nbf: iat + options.notBefore } : {}),
      ...options.extra,
    };
    for (const name of options.omit ?? []) delete claims[name];
    return new SignJWT(claims)
      .setProtectedHeader({
        alg: "EdDSA",
        typ: options.typ ?? "at+jwt",
        ...(options.kid === "" ? {} : { kid: options.kid ?? this.kid }),
      })
      .sign(this.privateKey);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

async function newKey(): Promise<{ privateKey: CryptoKey; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  return { privateKey, publicJwk: await exportJWK(publicKey) };
}
