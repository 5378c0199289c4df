import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import type { OpenApiDocument, OpenApiResponse } from "@mimascota/shared/openapi/document";

/** Headers a described response must carry whenever the document lists them (the others are optional). */
const ALWAYS_SENT = ["x-request-id", "ratelimit-policy"];

const pointer = (...segments: string[]) =>
  segments.map((s) => encodeURIComponent(s.replaceAll("~", "~0").replaceAll("/", "~1"))).join("/");

/**
 * Checks a response against an OpenAPI 3.0 document: the operation and its status must be described, the body
 * must be of a described media type and match its schema, the headers the document promises on every response
 * must be there, and a `Set-Cookie` the document does not mention is a failure. Returns why it fails, or
 * undefined when the response is as described.
 */
export function responseValidator(document: OpenApiDocument) {
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats.default(ajv);
  ajv.addSchema(document, "doc");

  return (method: string, path: string, response: Response, body: string | undefined): string | undefined => {
    const verb = method.toLowerCase();
    const operation = document.paths[path]?.[verb];
    if (!operation) return "the operation is not in the document";
    const status = String(response.status);
    const key = [status, `${status[0]}XX`, "default"].find((k) => operation.responses[k] !== undefined);
    if (key === undefined) return `status ${status} is not described`;
    const described: OpenApiResponse = operation.responses[key]!;
    const headers = Object.keys(described.headers ?? {}).map((h) => h.toLowerCase());
    for (const name of ALWAYS_SENT) {
      if (headers.includes(name) && !response.headers.has(name)) return `header ${name} is missing`;
    }
    if (response.headers.getSetCookie().length > 0 && !headers.includes("set-cookie")) {
      return "Set-Cookie is not described";
    }
    if (body === undefined || body === "") {
      return status === "204" || !described.content ? undefined : "the body is empty";
    }
    const media = (response.headers.get("content-type") ?? "").split(";")[0]!.trim();
    if (!described.content?.[media]) {
      return `media type ${media} is not described (only ${Object.keys(described.content ?? {}).join(", ")})`;
    }
    const ref = `doc#/${pointer("paths", path, verb, "responses", key, "content", media, "schema")}`;
    const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
    if (validate(JSON.parse(body))) return undefined;
    return `the body does not match its schema: ${ajv.errorsText(validate.errors)}; body ${body.slice(0, 300)}`;
  };
}
