import type { SigningKeyRepository } from "../repositories/signing-key.repository.ts";
import type { TwoFactorRepository } from "../repositories/two-factor.repository.ts";
import { SecretBoxError, type SecretBox } from "../two-factor/secret-box.ts";
import { sealAad } from "./signing-key.service.ts";
import { totpSecretAad } from "./two-factor-check.service.ts";

export interface ResealCounts {
  /** Sealed again under the current key. */
  resealed: number;
  /** Already under the current key. */
  current: number;
  /** Changed by the service between read and write (a new enable, a disable); sealed by it, so current. */
  changedMeanwhile: number;
  /** Would not open with any configured key: which rows (user id or kid), never the values. */
  unreadable: string[];
}

export interface ResealDeps {
  sealer: SecretBox;
  twoFactor: TwoFactorRepository;
  signingKeys: SigningKeyRepository;
}

export interface ResealReport {
  totpSecrets: ResealCounts;
  signingKeys: ResealCounts;
}

/**
 * After an ENCRYPTION_KEY rotation: opens every sealed value (TOTP secrets, signing keys' private parts) made
 * with an older key and seals it again under the current one. Each row is swapped only if it still holds
 * what was read, so a concurrent change by the running service is never overwritten. Safe to run again;
 * when a run reports nothing resealed and nothing unreadable, the old key can be dropped.
 */
export class SecretResealService {
  readonly #deps: ResealDeps;

  constructor(deps: ResealDeps) {
    this.#deps = deps;
  }

  async run(batchSize = 500): Promise<ResealReport> {
    const { twoFactor, signingKeys } = this.#deps;
    const totpSecrets = emptyCounts();
    for (let after: string | undefined; ;) {
      const rows = await twoFactor.sealedAfter(after, batchSize);
      for (const row of rows) {
        await this.#reseal(totpSecrets, row.userId, row.sealed, totpSecretAad(row.userId), (to) =>
          twoFactor.replaceSealed(row.userId, row.sealed, to),
        );
      }
      if (rows.length < batchSize) break;
      after = rows.at(-1)!.userId;
    }
    const keys = emptyCounts();
    for (const row of await signingKeys.listSealed()) {
      await this.#reseal(keys, row.kid, row.sealed, sealAad(row.kid), (to) =>
        signingKeys.replaceSealed(row.kid, row.sealed, to),
      );
    }
    return { totpSecrets, signingKeys: keys };
  }

  async #reseal(
    counts: ResealCounts,
    id: string,
    sealed: string,
    aad: string,
    replace: (to: string) => Promise<boolean>,
  ): Promise<void> {
    const { sealer } = this.#deps;
    if (!sealer.needsReseal(sealed)) {
      counts.current += 1;
      return;
    }
    let plaintext: string;
    try {
      plaintext = sealer.open(sealed, aad);
    } catch (error) {
      if (!(error instanceof SecretBoxError)) throw error;
      counts.unreadable.push(id);
      return;
    }
    if (await replace(sealer.seal(plaintext, aad))) counts.resealed += 1;
    else counts.changedMeanwhile += 1;
  }
}

const emptyCounts = (): ResealCounts => ({ resealed: 0, current: 0, changedMeanwhile: 0, unreadable: [] });
