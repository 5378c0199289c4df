import type { ProblemText } from "./problem-text.ts";

/** The shared edge's problem texts in English. */
export const commonProblemsEn = {
  VALIDATION_ERROR: {
    title: "Request validation failed",
    detail: "The request is not valid: check {fields}.",
    variants: { unforwardable: "The request cannot be forwarded." },
  },
  MALFORMED_JSON: { title: "Malformed JSON body", detail: "The body is not valid JSON." },
  MALFORMED_REQUEST: {
    title: "Malformed HTTP request",
    detail: "The HTTP request is not valid.",
    variants: { path: "The request path is not valid (an encoded slash or NUL, or a malformed escape)." },
  },
  REQUEST_TIMEOUT: { title: "Request timeout", detail: "The request did not arrive in time." },
  UNAUTHORIZED: {
    title: "Authentication required",
    detail: "A valid access token is required. Sign in again.",
  },
  FORBIDDEN: { title: "Forbidden", detail: "You are not allowed to do this." },
  NOT_FOUND: { title: "Not found", detail: "The requested resource does not exist." },
  METHOD_NOT_ALLOWED: { title: "Method not allowed", detail: "This method is not supported on this path." },
  PAYLOAD_TOO_LARGE: { title: "Payload too large", detail: "The body is over the size limit." },
  UNSUPPORTED_MEDIA_TYPE: {
    title: "Unsupported media type",
    detail: "Send the body as application/json.",
    variants: { multipart: "Send the file as multipart/form-data." },
  },
  HEADERS_TOO_LARGE: {
    title: "Request header fields too large",
    detail: "The request headers are over the size limit.",
  },
  RATE_LIMITED: { title: "Too many requests", detail: "Too many requests; wait a moment and retry." },
  INTERNAL_ERROR: { title: "Internal server error", detail: "An unexpected error occurred. Try again." },
  SERVICE_UNAVAILABLE: {
    title: "Service unavailable",
    detail: "The service is temporarily unavailable. Try again in a few seconds.",
    variants: {
      keys_unavailable: "Tokens cannot be checked right now. Try again in a few seconds.",
      not_ready: "Not ready: {dependencies} unavailable.",
    },
  },
} satisfies Record<string, ProblemText>;
