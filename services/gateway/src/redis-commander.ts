import { createClient } from "redis";
import type { Logger } from "pino";

type Client = ReturnType<typeof createClient>;

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

  constructor(options: { url: string; timeoutMs: number; logger: Logger }) {
    this.#timeoutMs = options.timeoutMs;
    this.#logger = options.logger;
    this.#client = createClient({
      url: options.url,
      disableOfflineQueue: true,
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
    return this.#client.sendCommand<T>(args, { timeout: this.#timeoutMs });
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
    if (this.#client.isOpen) await this.#client.close();
    else this.#client.destroy();
  }
}
