import { createClient } from "redis";
import type { Logger } from "pino";

type Client = ReturnType<typeof createClient>;

interface Pending {
  startedAt: number;
  reject: (error: Error) => void;
}

/**
 * The gateway's own node-redis connection, reduced to what the limiter and cache need. Commands fail at once
 * while disconnected (no offline queue) and after `timeoutMs`, so a Redis outage degrades the gateway to its
 * fallbacks instead of stalling requests.
 */
export class RedisCommander {
  readonly #client: Client;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  #lastErrorLog = 0;
  #onChange: ((up: boolean) => void) | undefined;
  readonly #pending = new Set<Pending>();
  readonly #sweep: NodeJS.Timeout;

  constructor(options: { url: string; timeoutMs: number; logger: Logger }) {
    this.#timeoutMs = options.timeoutMs;
    this.#logger = options.logger;
    this.#client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      // node-redis's own per-command timeout (an AbortSignal.timeout each, 5 s by default) stops counting once
      // a command is written, so it misses a hung server; the sweep below covers that for all commands.
      commandOptions: { timeout: 0 },
      socket: {
        connectTimeout: 2_000,
        reconnectStrategy: (retries) => Math.min(100 * 2 ** Math.min(retries, 5), 2_000),
      },
    });
    this.#client.on("error", (error: Error) => {
      // Reconnection errors repeat every few hundred milliseconds during an outage; one line per 10 s is enough.
      const now = Date.now();
      if (now - this.#lastErrorLog > 10_000) {
        this.#lastErrorLog = now;
        this.#logger.warn({ err: error }, "redis unavailable; using per-instance fallbacks");
      }
    });
    this.#sweep = setInterval(() => this.#sweepTimeouts(), Math.max(10, Math.floor(options.timeoutMs / 4)));
    this.#sweep.unref();
    this.#client.on("ready", () => this.#onChange?.(true));
    this.#client.on("end", () => this.#onChange?.(false));
    this.#client.on("reconnecting", () => this.#onChange?.(false));
  }

  /** Connects, waiting at most `waitMs`; the gateway starts (with fallbacks) even if Redis is down. */
  async connect(waitMs = 1_000): Promise<void> {
    const connecting = this.#client.connect().then(
      () => undefined,
      (error: unknown) =>
        this.#logger.warn({ err: error }, "redis connection failed; retrying in the background"),
    );
    await Promise.race([connecting, new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
  }

  onStateChange(listener: (up: boolean) => void): void {
    this.#onChange = listener;
  }

  get isReady(): boolean {
    return this.#client.isReady;
  }

  command<T>(args: string[]): Promise<T> {
    const sent = this.#client.sendCommand<T>(args);
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { startedAt: performance.now(), reject };
      this.#pending.add(pending);
      sent.then(
        (value) => {
          this.#pending.delete(pending);
          resolve(value);
        },
        (error: Error) => {
          this.#pending.delete(pending);
          reject(error);
        },
      );
    });
  }

  /** Fails commands older than the timeout: one sweep timer for all commands, nothing per command. */
  #sweepTimeouts(): void {
    const limit = performance.now() - this.#timeoutMs;
    for (const pending of this.#pending) {
      if (pending.startedAt > limit) continue;
      this.#pending.delete(pending);
      pending.reject(new Error(`redis command timed out after ${this.#timeoutMs} ms`));
    }
  }

  /** EVALSHA, loading the script on the first NOSCRIPT (after a Redis restart or on a fresh server). */
  async evalScript(sha: string, script: string, args: string[]): Promise<unknown> {
    try {
      return await this.command(["EVALSHA", sha, ...args]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return this.command(["EVAL", script, ...args]);
    }
  }

  async ping(): Promise<void> {
    await this.command(["PING"]);
  }

  async close(): Promise<void> {
    this.#onChange = undefined;
    clearInterval(this.#sweep);
    if (this.#client.isOpen) await this.#client.close();
    else this.#client.destroy();
  }
}
