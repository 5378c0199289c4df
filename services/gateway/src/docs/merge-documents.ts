import {
  commonHeaders,
  HTTP_METHODS,
  withoutUnusedSchemas,
  type OpenApiDocument,
  type OpenApiOperation,
} from "@mimascota/shared/openapi/document";
import type { Router } from "../routing/router.ts";
import { gatewayHeaders, withGatewayResponses } from "./gateway-responses.ts";

/** An upstream's own document, as it serves it at `/openapi.json`. */
export interface UpstreamDocument {
  upstream: string;
  document: OpenApiDocument;
}

const DESCRIPTION =
  "The Mi Mascota API as clients see it through the gateway: the auth and profile services' operations, with " +
  "what the gateway adds. Every response carries `X-Request-Id` and the IETF draft `RateLimit`/`RateLimit-Policy` " +
  "headers; a 429 `RATE_LIMITED` adds `Retry-After`. Errors are RFC 9457 problem details " +
  "(`application/problem+json`) whose `code` clients branch on. Operations marked with the bearer scheme need " +
  "an access token, checked by the gateway before the service sees the request.";

/**
 * One document from the upstreams' documents: the paths the route table sends to each upstream (an upstream's
 * own paths that the gateway does not route, and alias paths, are left out), the gateway's responses added to
 * each operation, and the components merged. A component schema whose name two upstreams use for different
 * shapes is renamed in the later one (`profiles` + `User` → `ProfilesUser`), its references with it.
 */
export function mergeDocuments(parts: readonly UpstreamDocument[], router: Router): OpenApiDocument {
  const merged: OpenApiDocument = {
    openapi: "3.0.3",
    info: {
      title: "Mi Mascota API",
      version: "1.0.0",
      description: DESCRIPTION,
      license: { name: "Proprietary" },
    },
    servers: [{ url: "/", description: "The gateway" }],
    paths: {},
    components: {
      schemas: {},
      headers: { ...commonHeaders, ...gatewayHeaders },
      securitySchemes: {},
    },
  };
  const tags = new Map<string, string | undefined>();
  for (const part of parts) {
    const document = renameClashingSchemas(part, merged.components!.schemas!);
    Object.assign(merged.components!.schemas!, document.components?.schemas);
    Object.assign(merged.components!.securitySchemes!, document.components?.securitySchemes);
    for (const tag of document.tags ?? []) tags.set(tag.name, tag.description ?? tags.get(tag.name));
    for (const [path, methods] of Object.entries(document.paths)) {
      const route = router.match(path.replace(/\{([^}]+)\}/g, "$1"));
      if (!route || route.upstream !== part.upstream || route.upstreamPath(path) !== path) continue;
      const operations: Record<string, OpenApiOperation> = {};
      for (const [method, operation] of Object.entries(methods)) {
        operations[method] = HTTP_METHODS.has(method) ? withGatewayResponses(operation, route) : operation;
      }
      merged.paths[path] = { ...merged.paths[path], ...operations };
    }
  }
  merged.tags = [...tags].map(([name, description]) => ({ name, ...(description ? { description } : {}) }));
  return withoutUnusedSchemas(merged);
}

function renameClashingSchemas(part: UpstreamDocument, taken: Record<string, unknown>): OpenApiDocument {
  const schemas = part.document.components?.schemas ?? {};
  const clashing = Object.keys(schemas).filter(
    (name) => name in taken && JSON.stringify(taken[name]) !== JSON.stringify(schemas[name]),
  );
  // A deep copy either way: the caller's cached upstream document is never modified.
  let text = JSON.stringify(part.document);
  const prefix = part.upstream.charAt(0).toUpperCase() + part.upstream.slice(1);
  for (const name of clashing) {
    text = text.replaceAll(`"#/components/schemas/${name}"`, `"#/components/schemas/${prefix}${name}"`);
  }
  const document = JSON.parse(text) as OpenApiDocument;
  const renamed = document.components?.schemas;
  if (renamed) {
    for (const name of clashing) {
      renamed[`${prefix}${name}`] = renamed[name];
      delete renamed[name];
    }
  }
  return document;
}
