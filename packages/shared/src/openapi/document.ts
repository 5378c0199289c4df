import { STATUS_CODES } from "node:http";

/** The parts of an OpenAPI 3 document this module reads and writes; everything else passes through. */
export interface OpenApiDocument {
  openapi: string;
  info: Record<string, unknown>;
  servers?: { url: string; description?: string }[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: {
    schemas?: Record<string, unknown>;
    headers?: Record<string, unknown>;
    securitySchemes?: Record<string, unknown>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface OpenApiOperation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  responses: Record<string, OpenApiResponse>;
  [key: string]: unknown;
}

export interface OpenApiResponse {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: unknown; example?: unknown; [key: string]: unknown }>;
}

export const PROBLEM_MEDIA_TYPE = "application/problem+json";
export const HTTP_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);
const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });

/** Headers every service sends on every response (`createHttpServer`). */
export const commonHeaders = {
  "X-Request-Id": {
    description:
      "The request's id: the caller's own `X-Request-Id` when it matches `^[A-Za-z0-9._-]{1,128}$`, else a fresh one. " +
      "Quote it when reporting a problem; every problem body carries it as `requestId` too.",
    schema: { type: "string", pattern: "^[A-Za-z0-9._-]{1,128}$" },
  },
  "Set-Cookie": {
    description:
      "The refresh token cookie (`HttpOnly; SameSite=Strict; Path=/api/v1/auth; Secure`), set, rotated or " +
      "cleared (`Max-Age=0`). Never readable by scripts: browsers send it back on refresh and logout.",
    schema: { type: "string" },
  },
  "Retry-After": {
    description: "Seconds to wait before trying again.",
    schema: { type: "integer", minimum: 0 },
  },
};

const { "Set-Cookie": cookieHeader, ...alwaysSent } = commonHeaders;

export interface FinishOptions {
  description: string;
  /** Tag descriptions; a tag an operation uses but that is not listed here gets none. */
  tags?: Record<string, string>;
  /**
   * Operations (`"post /api/v1/auth/login"`) whose success responses set or clear the refresh cookie, documented
   * with a `Set-Cookie` header.
   */
  setsCookie?: readonly string[];
  /**
   * Request bodies that no route schema describes because a plugin, not the validator, reads them (a multipart
   * upload), by operation (`"post /api/v1/profiles/{id}/photo"`).
   */
  requestBodies?: Record<string, unknown>;
}

/**
 * Makes a generated document one that a generated client can trust: errors declared as what the server sends
 * (`application/problem+json`), an `operationId` and explicit `security` (`[]` when public) on every operation,
 * `X-Request-Id` on every response, no body on a 204, real descriptions, and only the component schemas
 * something refers to. It rewrites the document, never the route schemas: `sendProblem` sets the problem media
 * type and its body goes through the route's status-keyed serializer, which per-media-type response schemas
 * would turn into a lookup by content type that a problem's `; charset=utf-8` could miss.
 */
export function finishDocument(doc: OpenApiDocument, options: FinishOptions): OpenApiDocument {
  const setsCookie = new Set(options.setsCookie ?? []);
  const usedTags = new Set<string>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (!HTTP_METHODS.has(method)) continue;
      operation.operationId ??= operationIdOf(method, path);
      operation.security ??= [];
      const body = options.requestBodies?.[`${method} ${path}`];
      if (body !== undefined) operation.requestBody ??= body;
      for (const tag of operation.tags ?? []) usedTags.add(tag);
      for (const [status, response] of Object.entries(operation.responses)) {
        finishResponse(status, response, setsCookie.has(`${method} ${path}`));
      }
    }
  }
  const finished: OpenApiDocument = {
    ...doc,
    info: { ...doc.info, description: options.description, license: { name: "Proprietary" } },
    servers: doc.servers?.length ? doc.servers : [{ url: "/", description: "This service" }],
    tags: [...usedTags].sort().map((name) => ({
      name,
      ...(options.tags?.[name] ? { description: options.tags[name] } : {}),
    })),
    components: {
      ...doc.components,
      headers: {
        ...doc.components?.headers,
        ...alwaysSent,
        ...(setsCookie.size > 0 ? { "Set-Cookie": cookieHeader } : {}),
      },
    },
  };
  return withoutUnusedSchemas(finished);
}

function finishResponse(status: string, response: OpenApiResponse, setsCookie: boolean): void {
  const code = Number(status);
  if (response.description === "Default Response" || !response.description) {
    response.description = STATUS_CODES[code] ?? "Response";
  }
  // No body: a generated client must not try to parse one.
  if (code === 204 || code === 304) delete response.content;
  const json = response.content?.["application/json"];
  if (code >= 400 && json && response.content) {
    response.content = { [PROBLEM_MEDIA_TYPE]: { ...json, example: problemExample(code, json.schema) } };
  }
  response.headers = {
    "X-Request-Id": headerRef("X-Request-Id"),
    ...response.headers,
    ...(setsCookie && code < 300 ? { "Set-Cookie": headerRef("Set-Cookie") } : {}),
    ...((code === 503 || code === 429) && !response.headers?.["Retry-After"]
      ? { "Retry-After": headerRef("Retry-After") }
      : {}),
  };
}

/** A problem as the server writes it, for the first code the response lists. */
function problemExample(status: number, schema: unknown): Record<string, unknown> {
  const codes = (schema as { properties?: { code?: { enum?: string[] } } }).properties?.code?.enum;
  const code = codes?.[0] ?? "ERROR";
  return {
    type: `https://mimascota.dev/problems/${code.toLowerCase().replaceAll("_", "-")}`,
    title: STATUS_CODES[status] ?? "Error",
    status,
    detail: "A sentence for people, in the caller's language (Spanish by default).",
    code,
    requestId: "3f0c1d9e-7a52-4a55-9c1b-2b7c4d6e8f10",
  };
}

/** `post /api/v1/auth/login/2fa` → `postAuthLogin2fa`; `put /api/v1/profiles/{id}` → `putProfilesById`. */
export function operationIdOf(method: string, path: string): string {
  const words = path
    .replace(/^\/api\/v\d+\//, "/")
    .split(/[^A-Za-z0-9{}]+/)
    .filter((w) => w !== "")
    .map((w) => (w.startsWith("{") ? `By${capitalize(w.slice(1, -1))}` : capitalize(w)));
  return method.toLowerCase() + words.join("");
}

const capitalize = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/**
 * Drops component schemas nothing refers to: the zod provider emits an input and an output copy of every
 * named schema, and a client generator would turn the unused ones into noise.
 */
export function withoutUnusedSchemas(doc: OpenApiDocument): OpenApiDocument {
  const schemas = doc.components?.schemas;
  if (!schemas) return doc;
  const used = new Set<string>();
  const pending = [JSON.stringify({ ...doc, components: { ...doc.components, schemas: {} } })];
  for (let text = pending.pop(); text !== undefined; text = pending.pop()) {
    for (const match of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      const name = match[1]!;
      if (used.has(name) || !(name in schemas)) continue;
      used.add(name);
      pending.push(JSON.stringify(schemas[name]));
    }
  }
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)));
  return { ...doc, components: { ...doc.components, schemas: kept } };
}
