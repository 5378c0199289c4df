import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { Clock } from "@mimascota/shared/clock";
import type { GatewayMetrics } from "../metrics.ts";
import { clientResponseHeaders } from "../proxy/forward-headers.ts";
import { sendUpstreamResponse } from "../proxy/send-response.ts";
import { bodyBuffer, type UpstreamResponse } from "../proxy/upstream-exchange.ts";
import { failureOf, UpstreamError } from "../proxy/upstream.ts";
import type { GatewayRoute } from "../routing/router.ts";
import { mustBypass, storableSeconds, varyNames } from "./cache-policy.ts";
import type { CacheStore, UserScope } from "./cache-store.ts";
import { OwedPurges } from "./owed-purges.ts";

type Headers = Record<string, string | string[]>;

interface Captured {
  status: number;
  headers: Headers;
  body: Buffer;
  /** 0 when it may not be stored nor shared with coalesced requests. */
  ttlSeconds: number;
  vary: string[];
  variant: string;
  storedAt: number;
  age: number;
}

/**
 * A cached response as stored (JSON, one per entry in Redis: the one-letter names keep every entry small, and
 * they are the stored format, so renaming them would orphan the entries already there).
 */
interface Entry {
  /** The status code. */
  s: number;
  /** The response headers that are replayed. */
  h: Headers;
  /** The body, base64. */
  b: string;
  /** When it was stored (ms since the epoch), for `Age`. */
  t: number;
  /** The upstream's own `Age` at that moment (s), added to ours. */
  a: number;
}

export interface ResponseCacheOptions {
  store: CacheStore;
  metrics: GatewayMetrics;
  clock: Clock;
  logger: Logger;
  keyPrefix: string;
  maxTtlSeconds: number;
  maxBodyBytes: number;
}

/**
 * The response cache for GET/HEAD on routes that allow it. Keys are scoped by user for authenticated
 * requests (`u:<id>`) or shared (`anon`), then the raw URL; a response with `Vary` leaves a record at that
 * key naming the headers, and the entry itself under the hash of the request's values for them. Concurrent
 * misses for the same key in this process wait for one upstream call (single flight). Redis unavailable:
 * every request is a BYPASS; a user's purge that could not be made then is made before their next lookup.
 *
 * A user's write purges their entries, and no response fetched before it is served after it: a fill stores
 * only if the user's generation (advanced by every purge, on any instance) is the one it read before asking
 * the upstream, and a request after a purge in this process never joins a flight that started before it.
 */
export class ResponseCache {
  readonly #options: ResponseCacheOptions;
  readonly #flights = new Map<string, Promise<Captured>>();
  readonly #owed: OwedPurges;

  constructor(options: ResponseCacheOptions) {
    this.#options = options;
    this.#owed = new OwedPurges({ ttlMs: options.maxTtlSeconds * 1000 });
  }

  async serve(
    request: FastifyRequest,
    reply: FastifyReply,
    route: GatewayRoute,
    userId: string | undefined,
    fetch: () => Promise<UpstreamResponse>,
  ): Promise<FastifyReply> {
    const authenticated = userId !== undefined;
    if (mustBypass(request.headers, authenticated)) return stream(reply, await fetch(), "BYPASS");
    if (!this.#options.store.available || (authenticated && !(await this.#settled(userId)))) {
      this.#options.metrics.degraded.labels("cache").inc();
      return stream(reply, await fetch(), "BYPASS");
    }
    const base = `${this.#entryPrefix(userId)}${request.gatewayTarget ?? request.url}`;
    let found: { entry?: Entry; variantKey?: string };
    try {
      found = await this.#lookup(base, request.headers);
    } catch (error) {
      this.#options.logger.debug({ err: error }, "cache lookup failed; bypassing");
      this.#options.metrics.degraded.labels("cache").inc();
      return stream(reply, await fetch(), "BYPASS");
    }
    if (found.entry) {
      this.#options.metrics.cacheHits.labels(route.template).inc();
      return this.#send(
        reply,
        found.entry.s,
        found.entry.h,
        Buffer.from(found.entry.b, "base64"),
        found.entry,
        "HIT",
      );
    }
    this.#options.metrics.cacheMisses.labels(route.template).inc();
    if (request.method === "HEAD") return stream(reply, await fetch(), "MISS");

    const flightKey = found.variantKey ?? base;
    const inFlight = this.#flights.get(flightKey);
    if (inFlight) {
      const shared = await inFlight.catch(() => undefined);
      if (shared && shared.ttlSeconds > 0 && variantOf(shared.vary, request.headers) === shared.variant) {
        return this.#send(
          reply,
          shared.status,
          shared.headers,
          shared.body,
          { t: shared.storedAt, a: shared.age },
          "HIT",
        );
      }
      return stream(reply, await fetch(), "MISS");
    }
    const flight = this.#fill(base, request.headers, authenticated, userId, fetch);
    this.#flights.set(flightKey, flight);
    try {
      const captured = await flight;
      return this.#send(
        reply,
        captured.status,
        captured.headers,
        captured.body,
        { t: captured.storedAt, a: captured.age },
        "MISS",
      );
    } finally {
      // Unless a purge already dropped it (and a newer flight may hold the key now).
      if (this.#flights.get(flightKey) === flight) this.#flights.delete(flightKey);
    }
  }

  /**
   * Drops every entry of a user after one of their writes succeeded, so they never read their old state. A
   * purge that cannot reach the store (down, or hung past its deadline) is owed: this instance bypasses the
   * cache for that user until it has been made, or until every entry stored before it has expired.
   */
  async purgeUser(userId: string): Promise<void> {
    // Requests from now on must not join a fill that started before the write: they start their own.
    const prefix = this.#entryPrefix(userId);
    for (const key of this.#flights.keys()) if (key.startsWith(prefix)) this.#flights.delete(key);
    if (!(await this.#purge(userId))) this.#owed.add(userId, this.#options.clock.now().getTime());
  }

  /** Whether the user's entries may be used: yes unless a purge of theirs is owed and cannot be made now. */
  async #settled(userId: string): Promise<boolean> {
    const state = this.#owed.state(userId, this.#options.clock.now().getTime());
    if (state === "clear") return true;
    if (state === "all" || !(await this.#purge(userId))) return false;
    this.#owed.settle(userId);
    return true;
  }

  async #purge(userId: string): Promise<boolean> {
    if (!this.#options.store.available) return false;
    try {
      await this.#options.store.purge(this.#scope(userId));
      return true;
    } catch (error) {
      this.#options.logger.warn({ err: error }, "cache purge failed; owed until it can be made");
      return false;
    }
  }

  async #lookup(base: string, headers: IncomingHttpHeaders): Promise<{ entry?: Entry; variantKey?: string }> {
    const raw = await this.#options.store.get(base);
    if (raw === null) return {};
    const record = JSON.parse(raw) as Entry | { v: string[] };
    if (!("v" in record)) return { entry: record };
    const variantKey = `${base}#${variantOf(record.v, headers)}`;
    const variant = await this.#options.store.get(variantKey);
    return variant === null ? { variantKey } : { entry: JSON.parse(variant) as Entry, variantKey };
  }

  async #fill(
    base: string,
    requestHeaders: IncomingHttpHeaders,
    authenticated: boolean,
    userId: string | undefined,
    fetch: () => Promise<UpstreamResponse>,
  ): Promise<Captured> {
    // Read before the upstream is asked: a purge after this point means the answer may predate the write.
    const scope = userId === undefined ? undefined : this.#scope(userId);
    const user =
      scope &&
      (await this.#options.store.generation(scope).then(
        (generation) => ({ scope, generation }),
        () => undefined,
      ));
    const response = await fetch();
    // The upstream stalling or dropping the connection mid-body is its failure (504/502), not ours (500).
    const body = await bodyBuffer(response.body).catch((error: unknown) => {
      throw new UpstreamError(failureOf(error), error);
    });
    const vary = varyNames(response.headers.vary);
    const ttlSeconds =
      vary === null || body.length > this.#options.maxBodyBytes
        ? 0
        : storableSeconds(response.statusCode, response.headers, authenticated, this.#options.maxTtlSeconds);
    const captured: Captured = {
      status: response.statusCode,
      headers: clientResponseHeaders(response.headers),
      body,
      ttlSeconds,
      vary: vary ?? [],
      variant: variantOf(vary ?? [], requestHeaders),
      storedAt: this.#options.clock.now().getTime(),
      age: Number.parseInt(String(response.headers.age ?? "0"), 10) || 0,
    };
    // Without the user's generation (Redis failed just now) nothing of theirs is stored.
    if (scope && !user) captured.ttlSeconds = 0;
    if (captured.ttlSeconds > 0) {
      const entry: Entry = {
        s: captured.status,
        h: captured.headers,
        b: body.toString("base64"),
        t: captured.storedAt,
        a: captured.age,
      };
      const records: [string, string][] =
        captured.vary.length === 0
          ? [[base, JSON.stringify(entry)]]
          : [
              [base, JSON.stringify({ v: captured.vary })],
              [`${base}#${captured.variant}`, JSON.stringify(entry)],
            ];
      try {
        // Not stored when the user's writes purged meanwhile; nor then shared with requests waiting on it.
        if (!(await this.#options.store.put(records, ttlSeconds * 1000, user))) captured.ttlSeconds = 0;
      } catch (error) {
        this.#options.logger.debug({ err: error }, "cache store failed");
        // Not stored, so not shared with coalesced requests either: they ask the upstream themselves.
        captured.ttlSeconds = 0;
      }
    }
    return captured;
  }

  /** Where the entries of a user (or the shared, anonymous ones) start; the request's URL follows. */
  #entryPrefix(userId: string | undefined): string {
    return `${this.#options.keyPrefix}c:${userId === undefined ? "anon" : `u:${userId}`}:`;
  }

  #scope(userId: string): UserScope {
    return {
      indexKey: `${this.#options.keyPrefix}ci:u:${userId}`,
      generationKey: `${this.#options.keyPrefix}cg:u:${userId}`,
    };
  }

  #send(
    reply: FastifyReply,
    status: number,
    headers: Headers,
    body: Buffer,
    timing: { t: number; a: number },
    outcome: "HIT" | "MISS",
  ): FastifyReply {
    const age = timing.a + Math.max(0, Math.floor((this.#options.clock.now().getTime() - timing.t) / 1000));
    return reply.code(status).headers(headers).header("age", age).header("x-cache", outcome).send(body);
  }
}

function stream(reply: FastifyReply, response: UpstreamResponse, outcome: "MISS" | "BYPASS"): FastifyReply {
  return sendUpstreamResponse(
    reply,
    response,
    response.headers.age === undefined ? { "x-cache": outcome, age: 0 } : { "x-cache": outcome },
  );
}

function variantOf(names: string[], headers: IncomingHttpHeaders): string {
  if (names.length === 0) return "";
  const hash = createHash("sha1");
  for (const name of names) {
    const value = headers[name];
    hash.update(`${name}:${Array.isArray(value) ? value.join(",") : (value ?? "")}\n`);
  }
  return hash.digest("hex");
}
