import { availableParallelism } from "node:os";
import { hash, verify, type Algorithm } from "@node-rs/argon2";
import pLimit, { type LimitFunction } from "p-limit";

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
 *
 * At most `concurrency` hashes run at once (default: one per CPU this process may use); the rest wait in
 * order. Each hash walks 19 MiB of memory at random: two of them sharing a core evict each other's memory from
 * the caches at every switch, so one core does ~40 % more verifications one at a time than with the thread
 * pool's four interleaved (bench/auth, "argon2id ceiling"). It also bounds the memory hashing takes.
 */
export class PasswordHasher {
  readonly #params: Argon2Params;
  readonly #limit: LimitFunction;
  /** A real hash of a random password, verified against when the email is unknown so timing matches. */
  #dummyHash: Promise<string> | undefined;

  constructor(params: Argon2Params, concurrency = availableParallelism()) {
    this.#params = params;
    this.#limit = pLimit(concurrency);
  }

  hash(password: string): Promise<string> {
    return this.#limit(() => hash(password.normalize("NFKC"), { algorithm: ARGON2ID, ...this.#params }));
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await this.#limit(() => verify(passwordHash, password.normalize("NFKC")));
    } catch {
      return false;
    }
  }

  /** Hashes running now and waiting for their turn (for the metrics). */
  get load(): { active: number; pending: number } {
    return { active: this.#limit.activeCount, pending: this.#limit.pendingCount };
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
