import { createPrivateKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import type { Clock } from "@mimascota/shared/clock";
import type { Database } from "@mimascota/shared/db/database";
import type { AuthSettings } from "../config.ts";
import type { SigningKeyRepository } from "../repositories/signing-key.repository.ts";

export const SIGNING_ALG = "EdDSA";

/** What the key service needs from `SecretBox`: authenticated encryption bound to the key id. */
export interface Sealer {
  seal(plaintext: string, aad: string): string;
  open(sealed: string, aad: string): string;
}

/** How long an instance keeps signing with the key it loaded before looking for a newer one. */
const SIGNER_CACHE_MS = 30_000;
/**
 * How long a retired public key outlives the last token it can have signed: the signer cache above (another
 * replica may sign with the old key that much longer) plus the verifiers' 60 s clock leeway.
 */
export const RETIRED_KEY_LEEWAY_MS = 120_000;
/** Unknown `kid`s reload the public keys at most this often, so random kids cannot hammer the database. */
const UNKNOWN_KID_RELOAD_MS = 5_000;

type CryptoKey = Awaited<ReturnType<typeof importJWK>>;

export interface SigningKeyDeps {
  db: Database;
  clock: Clock;
  /** A retired key stays published for the access tokens' lifetime (and a leeway). */
  settings: Pick<AuthSettings, "accessTokens" | "signingKeys">;
  keys: SigningKeyRepository;
  sealer: Sealer;
}

export interface RotationResult {
  /** The new key, and when it starts signing. */
  kid: string;
  activatesAt: Date;
  /** Keys that stop signing then. */
  retired: string[];
  /** Keys an earlier rotation had published ahead of use, removed unused. */
  dropped: string[];
}

interface PublicEntry {
  key: CryptoKey;
  expiresAt: Date | null;
}

/**
 * Ed25519 signing keys: created on first use (once, even with several replicas starting together), rotated by
 * `npm run keys:rotate`, and published as a JWKS that lists a new key before it signs (so verifiers that
 * cache the JWKS know it in time) and keeps a retired key until every token it signed has expired.
 */
export class SigningKeyService {
  readonly #deps: SigningKeyDeps;
  #signer: { kid: string; key: KeyObject; loadedAt: number } | undefined;
  #public: { byKid: Map<string, PublicEntry>; loadedAt: number } | undefined;

  constructor(deps: SigningKeyDeps) {
    this.#deps = deps;
  }

  /** The key new tokens are signed with. */
  async signer(): Promise<{ kid: string; key: KeyObject }> {
    const now = this.#deps.clock.now().getTime();
    if (this.#signer && now - this.#signer.loadedAt < SIGNER_CACHE_MS) return this.#signer;
    const active = (await this.#deps.keys.findActive(new Date(now))) ?? (await this.#createFirst());
    const jwk = JSON.parse(
      this.#deps.sealer.open(active.privateKeySealed, sealAad(active.kid)),
    ) as JsonWebKey;
    this.#signer = { kid: active.kid, key: createPrivateKey({ key: jwk, format: "jwk" }), loadedAt: now };
    return this.#signer;
  }

  /** The public key for a token's `kid`, if it is still published. */
  async verificationKey(kid: string | undefined): Promise<CryptoKey | undefined> {
    if (!kid) return undefined;
    const now = this.#deps.clock.now().getTime();
    let cache = await this.#publicKeys(now);
    if (!cache.has(kid) && now - (this.#public?.loadedAt ?? 0) >= UNKNOWN_KID_RELOAD_MS) {
      cache = await this.#publicKeys(now, true);
    }
    const entry = cache.get(kid);
    // A cached key past its publication end no longer verifies, even before the next reload.
    if (!entry || (entry.expiresAt && entry.expiresAt.getTime() <= now)) return undefined;
    return entry.key;
  }

  /** `GET /.well-known/jwks.json`: read fresh, so a rotation shows at once. */
  async jwks(): Promise<{ keys: JWK[] }> {
    let rows = await this.#deps.keys.listPublishable(this.#deps.clock.now());
    if (rows.length === 0) {
      // Nothing signed yet (a fresh database): publish the first key now rather than an empty set.
      await this.ensureActive();
      rows = await this.#deps.keys.listPublishable(this.#deps.clock.now());
    }
    return { keys: rows.map((r) => publicJwk(r.kid, r.publicJwk)) };
  }

  /** Makes sure a signing key exists (first start); returns its kid. */
  async ensureActive(): Promise<string> {
    return (await this.signer()).kid;
  }

  /**
   * A new signing key, published at once and signing `activationDelayMs` later (0, or no key signing
   * yet: at once); the key signing until then is retired at that moment and stays published until its tokens
   * have expired. Keys published by an earlier rotation that have not started signing yet are dropped (they
   * signed nothing).
   */
  async rotate(
    activationDelayMs = this.#deps.settings.signingKeys.activationDelayMs,
  ): Promise<RotationResult> {
    const result = await this.#deps.db.transaction(async (tx) => {
      await this.#deps.keys.lockForKeyChange(tx);
      const now = this.#deps.clock.now();
      // With no key signing yet (a fresh database) there is nothing to keep signing meanwhile: at once.
      const waits = (await this.#deps.keys.findActive(now, tx)) !== undefined;
      const activatesAt = new Date(now.getTime() + (waits ? activationDelayMs : 0));
      const dropped = await this.#deps.keys.deletePending(tx, now);
      const created = { ...(await this.#newKey(now)), activatesAt };
      await this.#deps.keys.insert(tx, created);
      const expiresAt = new Date(
        activatesAt.getTime() + this.#deps.settings.accessTokens.ttlMs + RETIRED_KEY_LEEWAY_MS,
      );
      const retired = await this.#deps.keys.retireAllExcept(tx, created.kid, now, activatesAt, expiresAt);
      return { kid: created.kid, activatesAt, retired, dropped };
    });
    this.#signer = undefined;
    this.#public = undefined;
    return result;
  }

  async #createFirst() {
    return this.#deps.db.transaction(async (tx) => {
      await this.#deps.keys.lockForKeyChange(tx);
      // Another replica may have created it while this one waited for the lock.
      const existing = await this.#deps.keys.findActive(this.#deps.clock.now(), tx);
      if (existing) return existing;
      const created = await this.#newKey(this.#deps.clock.now());
      await this.#deps.keys.insert(tx, created);
      return created;
    });
  }

  async #newKey(now: Date) {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    // RFC 7638 thumbprint: a kid derived from the key itself, unique without coordination.
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateKeySealed = this.#deps.sealer.seal(
      JSON.stringify(await exportJWK(privateKey)),
      sealAad(kid),
    );
    return { kid, alg: SIGNING_ALG, publicJwk: { ...publicJwk }, privateKeySealed, createdAt: now };
  }

  async #publicKeys(now: number, force = false): Promise<Map<string, PublicEntry>> {
    if (!force && this.#public && now - this.#public.loadedAt < SIGNER_CACHE_MS) return this.#public.byKid;
    const rows = await this.#deps.keys.listPublishable(new Date(now));
    const byKid = new Map<string, PublicEntry>();
    for (const row of rows) {
      const key = await importJWK(publicJwk(row.kid, row.publicJwk), SIGNING_ALG);
      byKid.set(row.kid, { key, expiresAt: row.expiresAt });
    }
    this.#public = { byKid, loadedAt: now };
    return byKid;
  }
}

function publicJwk(kid: string, stored: Record<string, unknown>): JWK {
  const { kty, crv, x } = stored as { kty?: string; crv?: string; x?: string };
  return { kty, crv, x, kid, alg: SIGNING_ALG, use: "sig" };
}

/** Binds a sealed private key to its row: copied under another kid, it does not open. */
export function sealAad(kid: string): string {
  return `signing-key:${kid}`;
}
