import type { Logger } from "pino";
import type { Clock } from "@mimascota/shared/clock";
import type { OpenApiDocument } from "@mimascota/shared/openapi/document";
import type { Router } from "../routing/router.ts";
import { mergeDocuments, type UpstreamDocument } from "./merge-documents.ts";

export interface ApiDocumentOptions {
  /** Where each upstream serves its own document (its ops port in production), by upstream name. */
  sources: Record<string, string>;
  /** How long a fetched document is used before it is fetched again. */
  ttlMs: number;
  timeoutMs: number;
  router: Router;
  clock: Clock;
  logger: Logger;
}

interface Copy {
  document: OpenApiDocument;
  fetchedAt: number;
}

/**
 * The merged document the gateway serves at `/openapi.json`. Each upstream's document is fetched when the
 * copy is older than the TTL; an upstream that is down keeps its last good copy (and one never fetched is left
 * out until it answers), so the docs do not fail with the service they describe. Concurrent requests share one
 * refresh.
 */
export class ApiDocument {
  readonly #options: ApiDocumentOptions;
  readonly #copies = new Map<string, Copy>();
  #refreshing: Promise<void> | undefined;
  #merged: OpenApiDocument;

  constructor(options: ApiDocumentOptions) {
    this.#options = options;
    this.#merged = mergeDocuments([], options.router);
  }

  /** The document from the freshest copies, refreshing the stale ones first. */
  async current(): Promise<OpenApiDocument> {
    if (this.#stale().length > 0) {
      this.#refreshing ??= this.#refresh().finally(() => (this.#refreshing = undefined));
      await this.#refreshing;
    }
    return this.#merged;
  }

  /** The last merged document, without waiting (for the docs page's own JSON route). */
  latest(): OpenApiDocument {
    return this.#merged;
  }

  #stale(): string[] {
    const now = this.#options.clock.now().getTime();
    return Object.keys(this.#options.sources).filter((name) => {
      const copy = this.#copies.get(name);
      return !copy || now - copy.fetchedAt >= this.#options.ttlMs;
    });
  }

  async #refresh(): Promise<void> {
    await Promise.all(this.#stale().map((name) => this.#fetch(name)));
    const parts: UpstreamDocument[] = [];
    for (const upstream of Object.keys(this.#options.sources)) {
      const copy = this.#copies.get(upstream);
      if (copy) parts.push({ upstream, document: copy.document });
    }
    this.#merged = mergeDocuments(parts, this.#options.router);
  }

  async #fetch(upstream: string): Promise<void> {
    const url = this.#options.sources[upstream]!;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(this.#options.timeoutMs) });
      if (!response.ok) throw new Error(`status ${response.status}`);
      const document = (await response.json()) as OpenApiDocument;
      if (typeof document.paths !== "object" || document.paths === null) throw new Error("no paths");
      this.#copies.set(upstream, { document, fetchedAt: this.#options.clock.now().getTime() });
    } catch (error) {
      // The last good copy stays; without one, the upstream is missing until it answers.
      this.#options.logger.warn(
        { err: error, upstream, url },
        "could not fetch the upstream's OpenAPI document",
      );
    }
  }
}
