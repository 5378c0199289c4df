import { hash, verify, type Algorithm } from "@node-rs/argon2";

/** `Algorithm.Argon2id`; the package declares a const enum, which type stripping cannot inline. */
const ARGON2ID = 2 as Algorithm;

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * argon2id behind a small class so the cost parameters come from config and a hash made with weaker
 * parameters is recognised (and upgraded at the next successful login).
 */
export class PasswordHasher {
  readonly #params: Argon2Params;
  /** A real hash of a random password, verified against when the email is unknown so timing matches. */
  #dummyHash: Promise<string> | undefined;

  constructor(params: Argon2Params) {
    this.#params = params;
  }

  hash(password: string): Promise<string> {
    return hash(password.normalize("NFKC"), { algorithm: ARGON2ID, ...this.#params });
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash, password.normalize("NFKC"));
    } catch {
      return false;
    }
  }

  /** Costs one verification and always fails: the unknown-email path of login. */
  async verifyDummy(password: string): Promise<false> {
    this.#dummyHash ??= this.hash(`dummy-${Math.random()}-${Date.now()}`);
    await this.verify(await this.#dummyHash, password);
    return false;
  }

  needsRehash(passwordHash: string): boolean {
    const match = /^\$argon2id\$v=\d+\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(passwordHash);
    if (!match) return true;
    const [, m, t, p] = match.map(Number);
    return m! < this.#params.memoryCost || t! < this.#params.timeCost || p! !== this.#params.parallelism;
  }
}
