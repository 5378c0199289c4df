import { createJsonSchemaTransform, createJsonSchemaTransformObject } from "fastify-type-provider-zod";
import { z } from "zod";
import { finishDocument, type FinishOptions, type OpenApiDocument } from "./document.ts";

/** What a schema's registry entry may add to its JSON Schema. */
export interface SchemaMeta {
  id?: string;
  example?: unknown;
  type?: string;
  format?: string;
  [key: string]: unknown;
}

/**
 * A service's named schemas (`registry.add(schema, { id: "User" })`): they become `components.schemas` and are
 * referred to by `$ref`, so a generated client gets named types. An entry without `id` adds its other fields to
 * the schema's JSON Schema (an `example`, a `format`) without naming it. One registry per service, never zod's global
 * one, which every service built in the same process (the embedded start, the tests) would share.
 */
export const createSchemaRegistry = () => z.registry<SchemaMeta>();
export type SchemaRegistry = ReturnType<typeof createSchemaRegistry>;

export interface ServiceDocumentOptions extends FinishOptions {
  title: string;
  registry: SchemaRegistry;
  /** Security schemes beside the bearer token every service takes (the auth service's refresh cookie). */
  securitySchemes?: Record<string, { type: "apiKey"; in: "cookie"; name: string; description: string }>;
}

/** `@fastify/swagger`'s options for a service whose routes are described with zod schemas. */
export function swaggerOptions(options: ServiceDocumentOptions) {
  const withComponents = createJsonSchemaTransformObject({ schemaRegistry: options.registry });
  return {
    openapi: {
      openapi: "3.0.3",
      info: { title: options.title, version: "1.0.0" },
      components: {
        securitySchemes: {
          bearer: {
            type: "http" as const,
            scheme: "bearer",
            bearerFormat: "JWT",
            description: "An access token from login, login/2fa or refresh (15 minutes).",
          },
          ...options.securitySchemes,
        },
      },
    },
    // Liveness, readiness and metrics are for the platform, not for API clients (and on the ops port in production).
    transform: createJsonSchemaTransform({
      schemaRegistry: options.registry,
      skipList: ["/health", "/ready", "/metrics"],
    }),
    transformObject: (input: Parameters<typeof withComponents>[0]) =>
      finishDocument(withComponents(input) as unknown as OpenApiDocument, options) as never,
  };
}
