import type { KeyValueStore } from "@mimascota/shared/kv/key-value-store";
import type { Admission, AdmissionStore } from "./admission-store.ts";
import { gcraStep, type LimitCheck, type LimitState } from "./gcra.ts";

/**
 * Per-process limits: the embedded mode's store, and every instance's fallback while Redis is down (then each
 * instance counts alone, so the effective limit is multiplied by the number of instances; visible in metrics
 * and /ready). Revocations are read from the key-value store when there is one in this process.
 */
export class MemoryAdmissionStore implements AdmissionStore {
  readonly kind = "memory";
  readonly #tats = new Map<string, number>();
  readonly #revocations: KeyValueStore | undefined;
  readonly #sweep: NodeJS.Timeout;
  #now = 0;

  constructor(options: { revocations?: KeyValueStore } = {}) {
    this.#revocations = options.revocations;
    // A key whose TAT has passed carries no information; dropping it bounds memory under many client IPs.
    this.#sweep = setInterval(() => {
      for (const [key, tat] of this.#tats) if (tat <= this.#now) this.#tats.delete(key);
    }, 30_000);
    this.#sweep.unref();
  }

  async admit(
    now: number,
    checks: readonly LimitCheck[],
    revocationKey: string | undefined,
  ): Promise<Admission> {
    this.#now = now;
    const revoked =
      revocationKey !== undefined &&
      this.#revocations !== undefined &&
      (await this.#revocations.get(revocationKey)) !== null;
    const limits: LimitState[] = [];
    const next: number[] = [];
    let admitted = true;
    for (const check of checks) {
      const step = gcraStep(this.#tats.get(check.key), now, check.limit, check.windowMs);
      if (step.state.retryAfterMs > 0) admitted = false;
      limits.push(step.state);
      next.push(step.nextTat);
    }
    if (revoked) return { outcome: "revoked", limits };
    if (admitted) checks.forEach((check, i) => this.#tats.set(check.key, next[i]!));
    return { outcome: admitted ? "admitted" : "limited", limits };
  }

  close(): void {
    clearInterval(this.#sweep);
    this.#tats.clear();
  }
}
