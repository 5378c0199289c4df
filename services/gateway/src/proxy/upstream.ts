import { Pool, type Dispatcher } from "undici";
import { StacklessError } from "@mimascota/shared/errors";
import type { CircuitBreaker } from "../breaker/circuit-breaker.ts";
import type { GatewayMetrics } from "../metrics.ts";
import { isBodyTooLarge } from "./body-limit.ts";
import { exchange, type UpstreamResponse } from "./upstream-exchange.ts";

export interface UpstreamOptions {
  name: string;
  url: string;
  healthPath: string;
  connections: number;
  connectTimeoutMs: number;
  /** Time allowed for the response headers, and between body chunks. */
  timeoutMs: number;
  keepAliveMs: number;
}

export type UpstreamFailure = "connection" | "timeout";

/** Where the client's request body stood when an exchange failed (see `Upstream.call`). */
export type UploadState = "complete" | "client_gone" | "unfinished";

/** The upstream could not be reached or did not answer in time (502 / 504 at the edge). */
export class UpstreamError extends Error {
  override name = "UpstreamError";
  readonly type: UpstreamFailure;
  constructor(type: UpstreamFailure, cause: unknown) {
    super(`upstream ${type} failure`, { cause });
    this.type = type;
  }
}

/**
 * The breaker is open: the call was refused without touching the upstream. Control flow, built for every
 * request while the upstream is down, so without a stack trace.
 */
export class CircuitOpenError extends StacklessError {
  override name = "CircuitOpenError";
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super("circuit open");
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The client's request could not be forwarded as sent: a 400, and no failure of the upstream. */
export class UnforwardableRequestError extends Error {
  override name = "UnforwardableRequestError";
  constructor(cause: unknown) {
    super("request cannot be forwarded", { cause });
  }
}

const REQUEST_CODES = new Set(["UND_ERR_INVALID_ARG", "UND_ERR_NOT_SUPPORTED"]);
const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

/** How an exchange with the upstream failed, from undici's error: a timeout or a connection failure. */
export function failureOf(error: unknown): UpstreamFailure {
  return TIMEOUT_CODES.has((error as { code?: string }).code ?? "") ? "timeout" : "connection";
}

/**
 * One upstream service: a keep-alive undici pool behind its circuit breaker, with the backend metrics.
 * Outcomes feed the breaker: connection errors, timeouts and 5xx are failures; any other status a success.
 */
export class Upstream {
  readonly name: string;
  readonly breaker: CircuitBreaker;
  readonly #pool: Pool;
  readonly #healthPath: string;
  readonly #metrics: GatewayMetrics;
  readonly #byStatus = new Map<number, { inc(): void }>();
  readonly #duration;
  #probing: Promise<boolean> | undefined;

  constructor(options: UpstreamOptions, breaker: CircuitBreaker, metrics: GatewayMetrics) {
    this.name = options.name;
    this.breaker = breaker;
    this.#healthPath = options.healthPath;
    this.#metrics = metrics;
    this.#duration = metrics.backendDuration.labels(options.name);
    this.#pool = new Pool(options.url, {
      connections: options.connections,
      connectTimeout: options.connectTimeoutMs,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: options.keepAliveMs,
      keepAliveMaxTimeout: options.keepAliveMs,
    });
  }

  /**
   * `upload` tells, when the exchange fails, where the client's body stood. A connection failure counts
   * against the upstream unless the client caused it: `client_gone` (the client hung up mid-upload; counting
   * that would let anyone open the breaker for everyone with a few aborted uploads). `unfinished` (the client
   * is still sending) is ambiguous: the upstream may have refused the body early and closed the connection
   * (the client's doing), or died while reading it (undici then gives up on the upload just the same). A
   * health probe settles it: only a reachable upstream is let off.
   */
  async call(
    options: Dispatcher.DispatchOptions,
    upload: () => UploadState = () => "complete",
  ): Promise<UpstreamResponse> {
    if (!this.breaker.tryAcquire()) {
      this.#metrics.backendErrors.labels(this.name, "circuit_open").inc();
      throw new CircuitOpenError(this.breaker.retryAfterSeconds());
    }
    const started = performance.now();
    let response: UpstreamResponse;
    try {
      response = await exchange(this.#pool, options);
    } catch (error) {
      if (isBodyTooLarge(error)) {
        // The client's fault, not the upstream's: the permit is released, nothing counted.
        this.breaker.release();
        throw error;
      }
      if (REQUEST_CODES.has((error as { code?: string }).code ?? "")) {
        // undici refused to send what the client gave us (e.g. `Expect`): never the upstream's fault.
        this.breaker.release();
        throw new UnforwardableRequestError(error);
      }
      const type = failureOf(error);
      const state = upload();
      if (state === "client_gone" || (state === "unfinished" && (await this.#reachable()))) {
        this.breaker.release();
        this.#metrics.backendErrors.labels(this.name, type).inc();
      } else this.#failed(type);
      throw new UpstreamError(type, error);
    }
    this.#duration.observe((performance.now() - started) / 1000);
    this.#countStatus(response.statusCode);
    if (response.statusCode >= 500) this.#failed("upstream_5xx");
    else this.breaker.record(true);
    return response;
  }

  /** For /ready: asks the health path directly, past the breaker, with a short deadline. */
  async probe(): Promise<boolean> {
    try {
      const response = await this.#pool.request({
        method: "GET",
        path: this.#healthPath,
        headersTimeout: 1_000,
        bodyTimeout: 1_000,
      });
      await response.body.dump();
      return response.statusCode < 500;
    } catch {
      return false;
    }
  }

  /** One probe at a time, shared by every failed upload that asks while it runs. */
  #reachable(): Promise<boolean> {
    this.#probing ??= this.probe().finally(() => (this.#probing = undefined));
    return this.#probing;
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  #failed(type: UpstreamFailure | "upstream_5xx"): void {
    this.breaker.record(false);
    this.#metrics.breakerFailures.labels(this.name).inc();
    this.#metrics.backendErrors.labels(this.name, type).inc();
  }

  #countStatus(status: number): void {
    let counter = this.#byStatus.get(status);
    if (!counter) {
      counter = this.#metrics.backendRequests.labels(this.name, String(status));
      this.#byStatus.set(status, counter);
    }
    counter.inc();
  }
}
