import { systemClock, type Clock } from "../clock.ts";
import type { KeyValueStore } from "./key-value-store.ts";

interface Entry {
  value: string;
  expiresAt: number | undefined;
}

export class MemoryKeyValueStore implements KeyValueStore {
  readonly kind = "memory";
  readonly #entries = new Map<string, Entry>();
  readonly #clock: Clock;
  readonly #sweep: NodeJS.Timeout;

  constructor(options: { clock?: Clock } = {}) {
    this.#clock = options.clock ?? systemClock;
    // Expired keys are dropped lazily on read; the sweep bounds memory for keys nobody reads again.
    this.#sweep = setInterval(() => this.#sweepExpired(), 60_000);
    this.#sweep.unref();
  }

  async get(key: string): Promise<string | null> {
    return this.#live(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.#entries.set(key, { value, expiresAt: ttlMs === undefined ? undefined : this.#now() + ttlMs });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.#live(key)) return false;
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlMs });
    return true;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    const entry = this.#live(key);
    const next = (entry ? Number(entry.value) : 0) + 1;
    this.#entries.set(key, { value: String(next), expiresAt: entry ? entry.expiresAt : this.#now() + ttlMs });
    return next;
  }

  async delete(...keys: string[]): Promise<void> {
    for (const key of keys) this.#entries.delete(key);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    this.#entries.clear();
  }

  #now(): number {
    return this.#clock.now().getTime();
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #sweepExpired(): void {
    for (const key of this.#entries.keys()) this.#live(key);
  }
}
