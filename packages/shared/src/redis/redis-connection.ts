import type { Logger } from "pino";
import { createClient } from "redis";
import type { RedisScript } from "./redis-script.ts";

type Client = ReturnType<typeof createClient>;

export interface RedisConnectionOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  logger: Logger;
  /** A command that gets no answer within this long fails (ms). */
  commandTimeoutMs: number;
  /** How long one connection attempt may take; commands issued during the first one wait for it (ms). */
  connectTimeoutMs?: number;
}

interface Pending {
  startedAt: number;
  reject: (error: Error) => void;
}

const MAX_RECONNECT_DELAY_MS = 2_000;
/** node-redis reports every failed reconnection attempt, several a second during an outage. */
const ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * The delay before reconnection attempt `retries` (from 0): 100 ms·2ⁿ capped at 2 s, of which a random half
 * is taken off, so the instances that lost the same Redis do not all reconnect in lockstep.
 */
export function reconnectDelay(retries: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_RECONNECT_DELAY_MS, 100 * 2 ** Math.min(retries, 5));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * The one Redis client every store is built on. A Redis outage must degrade a service (fallbacks, failed
 * commands), never stall it, so:
 * - while disconnected, commands fail at once (no offline queue) and the client reconnects in the background;
 * - every command fails after `commandTimeoutMs` even when the server accepted it and went silent (a frozen or
 *   overloaded host keeps the socket open, and node-redis's own timeout stops counting once a command is
 *   written). One sweep timer over the pending commands enforces that, rather than a timer per command
 *   (`withDeadline`): this is the gateway's hot path, and a per-command timer (node-redis's AbortSignal one)
 *   measurably cost it throughput. The sweep runs every quarter deadline, so a command fails between 1 and
 *   1.25 deadlines after it was sent, which is precise enough for a fallback;
 * - scripts run by SHA and are reloaded transparently after a restart or SCRIPT FLUSH (`runScript`).
 */
export class RedisConnection {
  readonly #client: Client;
  readonly #logger: Logger;
  readonly #commandTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #pending = new Set<Pending>();
  readonly #sweep: NodeJS.Timeout;
  readonly #listeners = new Set<(up: boolean) => void>();
  #firstAttempt: Promise<void> | undefined;
  #firstAttemptSettled = false;
  #up = false;
  /** When this outage was last logged; undefined while Redis is up or nothing was logged yet. */
  #errorLoggedAt: number | undefined;
  #closed = false;

  constructor(options: RedisConnectionOptions) {
    this.#logger = options.logger.child({ component: "redis" });
    this.#commandTimeoutMs = options.commandTimeoutMs;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
    this.#client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      // Bounds the memory held by commands stuck behind a hung server until the sweep fails them.
      commandsQueueMaxLength: 10_000,
      // node-redis's per-command timeout is an AbortSignal.timeout per command; the sweep replaces it.
      commandOptions: { timeout: 0 },
      socket: {
        connectTimeout: this.#connectTimeoutMs,
        reconnectStrategy: (retries) => reconnectDelay(retries),
      },
    });
    this.#client.on("error", (error: unknown) => this.#onError(error));
    this.#client.on("ready", () => this.#setUp(true));
    this.#client.on("reconnecting", () => this.#setUp(false));
    this.#client.on("end", () => this.#setUp(false));
    this.#sweep = setInterval(
      () => this.#failLateCommands(),
      Math.max(10, Math.floor(this.#commandTimeoutMs / 4)),
    );
    this.#sweep.unref();
  }

  /**
   * Starts connecting (once) and settles when the first attempt has: connected, failed, or taken longer than
   * the connect timeout. It never rejects: a service starts on its fallbacks while Redis is down.
   */
  connect(): Promise<void> {
    this.#firstAttempt ??= new Promise<void>((resolve) => {
      const settle = (): void => {
        clearTimeout(timer);
        this.#client.off("ready", settle);
        this.#client.off("error", settle);
        this.#firstAttemptSettled = true;
        resolve();
      };
      const timer = setTimeout(settle, this.#connectTimeoutMs);
      timer.unref();
      this.#client.once("ready", settle);
      this.#client.once("error", settle);
      // It rejects only when closed while connecting; failed attempts are reported through "error".
      this.#client.connect().catch(() => undefined);
    });
    return this.#firstAttempt;
  }

  get isReady(): boolean {
    return this.#client.isReady;
  }

  /** Called with true when the connection is ready, false when it is lost; only on a change. */
  onStateChange(listener: (up: boolean) => void): void {
    this.#listeners.add(listener);
  }

  /** One command, under the deadline; issued during the first connection attempt, it waits for that first. */
  command<T>(args: readonly string[]): Promise<T> {
    if (this.#firstAttemptSettled || this.#closed) return this.#send<T>(args);
    return this.connect().then(() => this.#send<T>(args));
  }

  /**
   * EVALSHA, and EVAL on NOSCRIPT (a fresh or restarted server, or SCRIPT FLUSH). EVAL also caches the script
   * on the server, so the next call is EVALSHA again without a separate SCRIPT LOAD round trip.
   */
  async runScript<T>(script: RedisScript, keys: readonly string[], args: readonly string[]): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.command<T>(["EVALSHA", script.sha, ...tail]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return this.command<T>(["EVAL", script.source, ...tail]);
    }
  }

  async ping(): Promise<void> {
    await this.command(["PING"]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    clearInterval(this.#sweep);
    // destroy() also works while reconnecting, where close() would wait for a connection that may never come.
    if (this.#client.isReady) await this.#client.close();
    else this.#client.destroy();
  }

  #send<T>(args: readonly string[]): Promise<T> {
    const sent = this.#client.sendCommand<T>(args);
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { startedAt: performance.now(), reject };
      this.#pending.add(pending);
      sent.then(
        (value) => {
          this.#pending.delete(pending);
          resolve(value);
        },
        (error: unknown) => {
          this.#pending.delete(pending);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  #failLateCommands(): void {
    const limit = performance.now() - this.#commandTimeoutMs;
    for (const pending of this.#pending) {
      if (pending.startedAt > limit) continue;
      this.#pending.delete(pending);
      pending.reject(new Error(`redis command timed out after ${this.#commandTimeoutMs} ms`));
    }
  }

  #setUp(up: boolean): void {
    if (up === this.#up) return;
    this.#up = up;
    if (up && this.#errorLoggedAt !== undefined) {
      this.#errorLoggedAt = undefined;
      this.#logger.info("redis connection restored");
    }
    for (const listener of this.#listeners) listener(up);
  }

  /** The first error of an outage is logged at once; while it lasts, one line per ERROR_LOG_INTERVAL_MS. */
  #onError(error: unknown): void {
    if (this.#closed) return;
    const now = performance.now();
    if (this.#errorLoggedAt !== undefined && now - this.#errorLoggedAt < ERROR_LOG_INTERVAL_MS) return;
    this.#errorLoggedAt = now;
    this.#logger.warn({ err: error }, "redis unavailable; commands fail until it reconnects");
  }
}
