import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import { ManualClock } from "@mimascota/shared/clock";
import { createLogger } from "@mimascota/shared/logger";
import type { OpenApiDocument } from "@mimascota/shared/openapi/document";
import { loadGatewayConfig } from "../../src/config.ts";
import { ApiDocument } from "../../src/docs/api-document.ts";
import { Router } from "../../src/routing/router.ts";

/** A minimal upstream document: one operation answering with the named schema `name`. */
function upstreamDocument(path: string, schema: Record<string, unknown>): OpenApiDocument {
  return {
    openapi: "3.0.3",
    info: { title: "upstream", version: "1" },
    paths: {
      [path]: {
        get: {
          operationId: `get${path.replaceAll("/", "_")}`,
          security: [{ bearer: [] }],
          responses: {
            "200": {
              description: "OK",
              content: { "application/json": { schema: { $ref: "#/components/schemas/Thing" } } },
            },
          },
        },
      },
      "/health": { get: { responses: { "200": { description: "OK" } } } },
    },
    components: { schemas: { Thing: schema } },
  };
}

/**
 * The gateway's merged document: fetched from each upstream, cached for the TTL, served from the last good copy
 * while an upstream is down, component names that clash renamed, the gateway's own responses added.
 */
describe("the gateway's merged OpenAPI document", () => {
  const served: Record<string, OpenApiDocument | undefined> = {
    auth: upstreamDocument("/api/v1/auth/me", { type: "object", properties: { email: { type: "string" } } }),
    profiles: upstreamDocument("/api/v1/profiles/me", {
      type: "object",
      properties: { name: { type: "string" } },
    }),
  };
  const fetches: string[] = [];
  let server: Server;
  let base: string;
  const clock = new ManualClock(new Date("2026-01-01T00:00:00Z"));
  let document: ApiDocument;

  before(async () => {
    server = createServer((request, response) => {
      const name = request.url!.split("/")[1]!;
      fetches.push(name);
      const doc = served[name];
      response.writeHead(doc ? 200 : 503, { "content-type": "application/json" });
      response.end(JSON.stringify(doc ?? {}));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const config = loadGatewayConfig({});
    document = new ApiDocument({
      sources: { auth: `${base}/auth/openapi.json`, profiles: `${base}/profiles/openapi.json` },
      ttlMs: 60_000,
      timeoutMs: 2_000,
      router: new Router(config.routeTable, { bodyLimit: 1024 }),
      clock,
      logger: createLogger("test", "silent"),
    });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("merges the routed paths, renames a clashing schema and adds the gateway's responses", async () => {
    const merged = await document.current();
    assert.deepEqual(Object.keys(merged.paths).sort(), ["/api/v1/auth/me", "/api/v1/profiles/me"]);
    assert.deepEqual(Object.keys(merged.components?.schemas ?? {}).sort(), ["ProfilesThing", "Thing"]);
    const profileOk = merged.paths["/api/v1/profiles/me"]?.get?.responses["200"];
    assert.deepEqual(profileOk?.content?.["application/json"]?.schema, {
      $ref: "#/components/schemas/ProfilesThing",
    });
    const me = merged.paths["/api/v1/auth/me"]!.get!;
    for (const status of ["401", "405", "429", "502", "503", "504"]) assert.ok(me.responses[status], status);
    assert.ok(me.responses["429"]?.content?.["application/problem+json"]);
    assert.ok(me.responses["429"]?.headers?.["Retry-After"]);
    assert.ok(me.responses["200"]?.headers?.RateLimit);
    assert.ok(me.responses["200"]?.headers?.["X-Cache"], "/me is cached by the gateway");
  });

  it("uses its copies for the TTL, then serves the last good copy of an upstream that is down", async () => {
    const before = fetches.length;
    await document.current();
    assert.equal(fetches.length, before, "no fetch within the TTL");
    served.profiles = undefined;
    clock.advance(60_000);
    const merged = await document.current();
    assert.equal(fetches.length, before + 2, "both refetched after the TTL");
    assert.ok(merged.paths["/api/v1/profiles/me"], "the profiles part is still there");
  });
});
